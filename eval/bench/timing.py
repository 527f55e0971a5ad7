"""Timing and memory helpers of the benchmark."""

import os
import statistics
import time
from collections.abc import Callable

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
