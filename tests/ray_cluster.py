"""A two-node Ray cluster for the tests: the head in one network namespace, a worker node in
another (Ray listens on every interface it has, so each node gets a namespace of its own).
Nodes run `ray start --block` with one CPU and a small object store; a node is up once its
`ray start` says so, and the cluster once the driver sees both nodes."""

import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.netns import Namespace, end_processes

ROOT = Path(__file__).parent.parent
PORT = 6380
OBJECT_STORE_BYTES = 100 * 1024 * 1024
STARTED = "Ray runtime started"
HANG_GUARD = 180.0


@dataclass(frozen=True)
class Cluster:
    head: Namespace
    worker: Namespace
    environment: dict[str, str]  # for drivers: this checkout first on the path

    @property
    def address(self) -> str:
        return f"{self.head.address}:{PORT}"

    def raylet_pids(self, space: Namespace) -> list[int]:
        return [pid for pid in space.pids() if _name(pid) == "raylet"]


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def environment() -> dict[str, str]:
    """This checkout's code first, for every Ray process and driver; no proxy."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    return env | {"PYTHONPATH": str(ROOT), "RAY_USAGE_STATS_ENABLED": "0"}


class Node:
    """`ray start --block` in a namespace; its output is drained into `said` by a thread."""

    def __init__(self, space: Namespace, arguments: list[str], env: dict[str, str]) -> None:
        self.temp = tempfile.mkdtemp(prefix="dpray-")  # short: Ray's socket paths are limited
        command = space.run(
            "ray",
            "start",
            "--block",
            f"--node-ip-address={space.address}",
            "--num-cpus=1",
            f"--object-store-memory={OBJECT_STORE_BYTES}",
            "--disable-usage-stats",
            f"--temp-dir={self.temp}",
            *arguments,
        )
        self.process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.said: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._drain, daemon=True).start()
        self.space = space

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.said.put(line)

    def wait_started(self) -> None:
        """Return once `ray start` said the node is up (the guard only catches a hang)."""
        lines: list[str] = []
        deadline = time.monotonic() + HANG_GUARD
        while not any(STARTED in line for line in lines):
            assert self.process.poll() is None, f"ray start failed:\n{''.join(lines)}"
            assert time.monotonic() < deadline, f"ray start hangs:\n{''.join(lines)}"
            try:
                lines.append(self.said.get(timeout=1.0))
            except queue.Empty:
                continue

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(HANG_GUARD)
        shutil.rmtree(self.temp, ignore_errors=True)


@contextmanager
def ray_cluster(head: Namespace, worker: Namespace) -> Iterator[Cluster]:
    """Head and worker node up; both stopped (every process of their namespaces) on exit."""
    env = environment()
    with ExitStack() as stack:
        for space, arguments in (
            (head, ["--head", f"--port={PORT}", "--include-dashboard=false"]),
            (worker, [f"--address={head.address}:{PORT}"]),
        ):
            node = Node(space, arguments, env)
            stack.callback(node.stop)
            stack.callback(end_processes, space)  # raylet, GCS, workers: all of them
            node.wait_started()
        yield Cluster(head, worker, env)
