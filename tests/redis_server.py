"""A real redis-server for the tests, on an address of the test's choosing (loopback, or inside
a network namespace the test made), ready once it answers PING and stopped however the test
ends."""

import os
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import redis

HANG_GUARD = 60.0


def require_redis_server() -> None:
    """Skip when redis-server is missing and cannot have been installed (not root); as root,
    the test command's setup step installs it, so its absence is a failure."""
    if shutil.which("redis-server"):
        return
    if os.geteuid() != 0:
        pytest.skip("redis-server is not installed (the setup step installs it as root)")
    pytest.fail("redis-server is missing: run .ci/system-packages (as root) first")


def wait_for_ping(url: str, process: subprocess.Popen[bytes]) -> None:
    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    deadline = time.monotonic() + HANG_GUARD
    while True:
        assert process.poll() is None, "redis-server exited"
        try:
            if client.ping():
                return
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not answer PING"
            time.sleep(0.05)


@dataclass(frozen=True)
class RedisServer:
    url: str
    process: subprocess.Popen[bytes]


@contextmanager
def redis_server(host: str, port: int, prefix: Sequence[str] = ()) -> Iterator[RedisServer]:
    """Run redis-server (after `prefix`, e.g. `ip netns exec NAME`) on host:port without
    persistence, until the end of the block (a test may kill it sooner)."""
    require_redis_server()
    command = [*prefix, "redis-server", "--bind", host, "--port", str(port)]
    command += ["--save", "", "--appendonly", "no", "--protected-mode", "no"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://{host}:{port}/0"
    try:
        wait_for_ping(url, process)
        yield RedisServer(url, process)
    finally:
        process.kill()
        process.wait(HANG_GUARD)
