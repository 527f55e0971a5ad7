"""The served index over real HTTP: `depeche serve` (uvicorn) on 127.0.0.1, timed from process
start to ready, then /search latency and the process's peak memory. The questions go over one
kept-alive connection of the standard library's `http.client`: httpx's own work added about
3 ms a request here, which is the client's time, not the server's."""

import http.client
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from tqdm import tqdm

from eval.bench.timing import peak_rss_mb
from eval.load import free_port

STARTUP_TIMEOUT = 900.0


@dataclass(frozen=True)
class ServedFigures:
    startup_s: float  # process start to the first successful /healthz
    search_ms: list[float]  # client-side latency of each POST /search
    peak_rss_mb: float


def serve_and_query(
    data_dir: Path, questions: Sequence[str], repeats: int, environment: dict[str, str]
) -> ServedFigures:
    """Start a server on the index in `data_dir`, wait until it is ready, ask every question
    `repeats` times one after the other, and stop it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = os.environ | environment | {"DEPECHE_DATA_DIR": str(data_dir)}
    env |= {"DEPECHE_RATE_LIMIT": "100000", "DEPECHE_RATE_BURST": "100000"}
    command = [sys.executable, "-m", "depeche_cli", "serve", "--host", "127.0.0.1"]
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log, httpx.Client(trust_env=False, timeout=60) as client:
        started = time.perf_counter()
        process = subprocess.Popen(
            [*command, "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_until_ready(client, process, url, log_path)
            startup = time.perf_counter() - started
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            for question in questions[:5]:
                _search(connection, question)
            took = []
            for _ in tqdm(range(repeats), desc="HTTP /search", unit="round"):
                for question in questions:
                    sent = time.perf_counter()
                    _search(connection, question)
                    took.append((time.perf_counter() - sent) * 1000)
            connection.close()
            return ServedFigures(startup, took, peak_rss_mb(process.pid))
        finally:
            process.terminate()
            process.wait(timeout=30)


def _search(connection: http.client.HTTPConnection, question: str) -> None:
    body = json.dumps({"query": question}).encode()
    connection.request("POST", "/search", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        raise RuntimeError(f"POST /search answered {response.status}")


def _wait_until_ready(
    client: httpx.Client, process: subprocess.Popen[bytes], url: str, log: Path
) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while process.poll() is None and time.monotonic() < deadline:
        try:
            if client.get(f"{url}/healthz", timeout=2).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the server at {url} exited or did not become ready; see {log}")
