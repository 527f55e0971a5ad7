"""Load test: `python -m eval.load` prints throughput, latency and status counts under load.

It starts `depeche serve` (the real model and the configured index) on a free port of
127.0.0.1, or targets `--url` (127.0.0.1 or localhost only), and sends `POST /search` with the
gold questions, from a bounded async client:

1. closed loop: a fixed number of requests at each concurrency level (rate limit raised out
   of the way, so that the cap on requests in flight is what answers overload);
2. open loop at `--factor` (3) times the best rate measured in 1, for `--overload-seconds`:
   admitted requests must still finish, the others be refused (503) quickly;
3. a fresh server with a low rate limit (5 requests/s per client, bursts of 10; all the load
   comes from one client, 127.0.0.1): the excess gets 429 with Retry-After. (The default,
   20/s with bursts of 40, is close to what one server sustains on two cores.)

Every phase is bounded in requests and time; the script stops the server it started. It
exits non-zero if any response is a 5xx other than a 503 refusal, a request fails or times
out, or a 429 lacks Retry-After.
"""

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO
from urllib.parse import urlsplit

import httpx

from eval.gold import load_questions
from eval.metrics import percentile
from service.settings import get_settings

LOCAL_HOSTS = ("127.0.0.1", "localhost")
REQUEST_TIMEOUT = 30.0


@dataclass
class Tally:
    """What one run of requests got back."""

    name: str
    seconds: float = 0.0
    admitted_ms: list[float] = field(default_factory=list)
    refused_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    missing_retry_after: int = 0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + sum(self.errors.values())

    def count(self, low: int, high: int) -> int:
        return sum(n for status, n in self.statuses.items() if low <= status <= high)

    @property
    def server_errors(self) -> int:
        """5xx responses other than the deliberate 503 refusals."""
        return self.count(500, 599) - self.statuses[503]

    def row(self) -> str:
        ok = self.count(200, 299)
        return (
            f"{self.name:>14} {self.requests:6d} {self.seconds:6.1f} "
            f"{self.requests / self.seconds:7.1f} {ok / self.seconds:7.1f} "
            f"{percentile(self.admitted_ms, 50):7.0f} {percentile(self.admitted_ms, 95):7.0f} "
            f"{percentile(self.admitted_ms, 99):7.0f} {percentile(self.refused_ms, 99):8.1f} "
            f"{ok:6d} {self.statuses[429]:5d} {self.statuses[503]:5d} {self.server_errors:5d} "
            f"{sum(self.errors.values()):6d}"
        )


HEADER = (
    f"{'run':>14} {'reqs':>6} {'secs':>6} {'req/s':>7} {'ok/s':>7} "
    f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'refused':>8} "
    f"{'2xx':>6} {'429':>5} {'503':>5} {'5xx':>5} {'errors':>6}\n"
    f"{'':>14} {'':>6} {'':>6} {'':>7} {'':>7} {'(latency of 2xx responses)':>23} "
    f"{'p99 ms':>8} {'':>6} {'':>5} {'':>5} {'other':>5}"
)


async def ask(client: httpx.AsyncClient, question: str, tally: Tally) -> None:
    started = time.perf_counter()
    try:
        response = await client.post("/search", json={"query": question, "k": 5})
    except httpx.HTTPError as error:
        tally.errors[type(error).__name__] += 1
        return
    elapsed = (time.perf_counter() - started) * 1000
    tally.statuses[response.status_code] += 1
    if response.is_success:
        tally.admitted_ms.append(elapsed)
    elif response.status_code in (429, 503):
        tally.refused_ms.append(elapsed)
        if response.status_code == 429 and "retry-after" not in response.headers:
            tally.missing_retry_after += 1


def make_client(url: str, connections: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=url,
        timeout=REQUEST_TIMEOUT,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        trust_env=False,  # no proxy: 127.0.0.1 only
    )


async def closed_loop(
    url: str, questions: list[str], concurrency: int, total: int, name: str
) -> Tally:
    """`concurrency` clients, each sending its next request as soon as it has an answer."""
    tally = Tally(name)
    numbers = iter(range(total))
    async with make_client(url, concurrency) as client:

        async def worker() -> None:
            for number in numbers:
                await ask(client, questions[number % len(questions)], tally)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        tally.seconds = time.perf_counter() - started
    return tally


async def open_loop(url: str, questions: list[str], rate: float, seconds: float) -> Tally:
    """Requests arriving at `rate` per second whatever the answers (at most 512 pending)."""
    tally = Tally(f"open {rate:.0f}/s")
    total = max(1, round(rate * seconds))
    pending = asyncio.Semaphore(512)
    async with make_client(url, 512) as client:

        async def one(number: int) -> None:
            async with pending:
                await ask(client, questions[number % len(questions)], tally)

        started = time.perf_counter()
        tasks = []
        for number in range(total):
            delay = started + number / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(number)))
        await asyncio.gather(*tasks)
        tally.seconds = time.perf_counter() - started
    return tally


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def server(environment: dict[str, str], startup_timeout: float) -> Iterator[str]:
    """`depeche serve` on a free port of 127.0.0.1 with `environment` added; its URL."""
    port = free_port()
    command = [sys.executable, "-m", "depeche_cli", "serve", "--host", "127.0.0.1"]
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            env=os.environ | environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(process, url, startup_timeout, log)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)


def wait_until_up(process: subprocess.Popen[bytes], url: str, timeout: float, log: IO[str]) -> None:
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2, trust_env=False).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    log.seek(0)
    problem = "exited" if process.poll() is not None else f"did not start in {timeout:.0f} s"
    raise SystemExit(f"the server {problem}:\n{log.read()[-3000:]}")


def describe(url: str) -> str:
    health = httpx.get(f"{url}/healthz", timeout=10, trust_env=False).json()
    return f"{health['model']}, {health['articles']} articles, {health['passages']} passages"


async def warm_up(url: str, questions: list[str]) -> None:
    await closed_loop(url, questions, 1, 5, "warm-up")


def throughput_phases(url: str, questions: list[str], args: argparse.Namespace) -> list[Tally]:
    asyncio.run(warm_up(url, questions))
    print(f"\nClosed loop, {args.requests} requests per level (rate limit raised):")
    print(HEADER)
    runs = []
    for level in args.levels:
        tally = asyncio.run(closed_loop(url, questions, level, args.requests, f"{level} clients"))
        print(tally.row(), flush=True)
        runs.append(tally)
    sustainable = max(t.count(200, 299) / t.seconds for t in runs)
    rate = args.factor * sustainable
    print(
        f"\nOpen loop at {args.factor:g} x the best sustained rate ({sustainable:.1f}/s) "
        f"for {args.overload_seconds:g} s:"
    )
    print(HEADER)
    overload = asyncio.run(open_loop(url, questions, rate, args.overload_seconds))
    print(overload.row(), flush=True)
    return [*runs, overload]


def rate_limit_phase(url: str, questions: list[str], args: argparse.Namespace) -> Tally:
    print(f"\nRate limit 5/s, bursts of 10, 2 clients, {args.requests} requests:")
    print(HEADER)
    tally = asyncio.run(closed_loop(url, questions, 2, args.requests, "2 clients"))
    print(tally.row(), flush=True)
    return tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m eval.load", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--url", help="target this server instead (127.0.0.1 or localhost)")
    parser.add_argument("--requests", type=int, default=120, help="requests per level (120)")
    parser.add_argument(
        "--levels",
        type=lambda text: [int(x) for x in text.split(",")],
        default=[1, 2, 4, 8, 16, 32],
        help="concurrency levels (1,2,4,8,16,32)",
    )
    parser.add_argument("--factor", type=float, default=3.0, help="overload factor (3)")
    parser.add_argument("--overload-seconds", type=float, default=8.0, help="(8)")
    parser.add_argument("--startup-timeout", type=float, default=180.0, help="(180 s)")
    args = parser.parse_args(argv)
    if not 1 <= args.requests <= 10_000 or not all(1 <= n <= 256 for n in args.levels):
        parser.error("--requests must be 1-10000 and each level 1-256")
    if not 0 < args.factor * args.overload_seconds <= 300:
        parser.error("--factor x --overload-seconds must stay under 300")

    questions = [q.question for q in load_questions()]
    runs: list[Tally] = []
    if args.url:
        if urlsplit(args.url).hostname not in LOCAL_HOSTS:
            parser.error("--url must point at 127.0.0.1 or localhost")
        print(f"Target {args.url}: {describe(args.url)}")
        runs += throughput_phases(args.url.rstrip("/"), questions, args)
    else:
        unlimited = {"DEPECHE_RATE_LIMIT": "1000000", "DEPECHE_RATE_BURST": "1000000"}
        with server(unlimited, args.startup_timeout) as url:
            in_flight = get_settings().max_in_flight
            print(f"depeche serve at {url}: {describe(url)}; max_in_flight {in_flight}")
            runs += throughput_phases(url, questions, args)
        limited = {"DEPECHE_RATE_LIMIT": "5", "DEPECHE_RATE_BURST": "10"}
        with server(limited, args.startup_timeout) as url:
            runs.append(rate_limit_phase(url, questions, args))

    overload = next(run for run in runs if run.name.startswith("open"))
    if not overload.count(200, 299) or not overload.statuses[503] + overload.statuses[429]:
        problems = [f"{overload.name}: expected both admitted and refused requests"]
    else:
        problems = []
    if not args.url and not runs[-1].statuses[429]:
        problems.append(f"{runs[-1].name}: the rate limit answered no 429")
    problems += [
        f"{run.name}: {what}"
        for run in runs
        for what, bad in (
            (f"{run.server_errors} 5xx other than 503", run.server_errors),
            (f"failed requests {dict(run.errors)}", sum(run.errors.values())),
            (f"{run.missing_retry_after} 429 without Retry-After", run.missing_retry_after),
        )
        if bad
    ]
    print()
    print("\n".join(problems) if problems else "No 5xx but 503 refusals, no failed requests.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
