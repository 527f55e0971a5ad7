"""Timing and memory helpers of the benchmark."""

import os
import statistics
import time
from collections.abc import Callable, Sequence

from tqdm import tqdm

from eval.metrics import percentile


def seconds(action: Callable[[], object]) -> float:
    """Wall-clock seconds `action` takes."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def median_seconds(action: Callable[[int], object], repeats: int) -> float:
    """Median wall-clock seconds of `action(i)` over `repeats` runs (i = 0, 1, ...)."""
    durations = []
    for i in range(repeats):
        started = time.perf_counter()
        action(i)
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)


def per_question_ms(
    ask: Callable[[str], object], questions: Sequence[str], repeats: int, label: str
) -> list[float]:
    """Milliseconds of `ask(question)` for each question, `repeats` times over, after a warm-up
    on the first five."""
    for question in questions[:5]:
        ask(question)
    took = []
    for _ in tqdm(range(repeats), desc=label, unit="round"):
        for question in questions:
            started = time.perf_counter()
            ask(question)
            took.append((time.perf_counter() - started) * 1000)
    return took


def tail(milliseconds: list[float]) -> dict[str, float]:
    """p50, p95 and p99 of latencies in milliseconds."""
    return {f"p{p}": round(percentile(milliseconds, p), 2) for p in (50, 95, 99)}


def peak_rss_mb(pid: int | None = None) -> float:
    """Peak resident memory (VmHWM) of a process, this one by default, in MB."""
    status = f"/proc/{pid or os.getpid()}/status"
    with open(status, encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM in {status}")
