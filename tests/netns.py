"""Network namespaces that a test makes and always removes: each one linked by a veth pair to
a bridge in the host namespace, all on one private /24 of 198.18.0.0/15 (benchmarking
addresses, routed nowhere). What listens inside a namespace is reachable from the host through
the bridge, and from nowhere else. Needs root."""

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

HANG_GUARD = 60.0


@dataclass(frozen=True)
class Namespace:
    name: str
    address: str

    def run(self, *command: str) -> list[str]:
        """The argv that runs `command` inside this namespace."""
        return ["ip", "netns", "exec", self.name, *command]

    def pids(self) -> list[int]:
        listed = subprocess.run(
            ["ip", "netns", "pids", self.name], capture_output=True, text=True, check=False
        )
        return [int(pid) for pid in listed.stdout.split()]


def ip(*arguments: str) -> None:
    subprocess.run(["ip", *arguments], check=True, capture_output=True)


@contextmanager
def namespaces(count: int) -> Iterator[list[Namespace]]:
    """`count` namespaces, addresses 198.18.N.1 to .count (N from this process's id, so that
    two runs side by side do not collide); the host's bridge is 198.18.N.254."""
    tag = f"dp{os.getpid() % 100000}"
    subnet = f"198.18.{os.getpid() % 250}"
    bridge = f"{tag}br"
    made: list[Namespace] = []
    try:
        ip("link", "add", bridge, "type", "bridge")
        ip("addr", "add", f"{subnet}.254/24", "dev", bridge)
        ip("link", "set", bridge, "up")
        for number in range(1, count + 1):
            space = Namespace(f"{tag}n{number}", f"{subnet}.{number}")
            ip("netns", "add", space.name)
            made.append(space)
            host_end = f"{tag}v{number}"
            ip("link", "add", host_end, "type", "veth", "peer", "name", "eth0", "netns", space.name)
            ip("link", "set", host_end, "master", bridge, "up")
            inside = ["-n", space.name]
            ip(*inside, "addr", "add", f"{space.address}/24", "dev", "eth0")
            ip(*inside, "link", "set", "eth0", "up")
            ip(*inside, "link", "set", "lo", "up")
        yield made
    finally:
        for space in made:
            end_processes(space)
            subprocess.run(["ip", "netns", "del", space.name], check=False, capture_output=True)
        subprocess.run(["ip", "link", "del", bridge], check=False, capture_output=True)


def end_processes(space: Namespace) -> None:
    """SIGKILL whatever still runs in `space` (all of it started by the test) and wait until
    the namespace is empty."""
    deadline = time.monotonic() + HANG_GUARD
    while pids := space.pids():
        for pid in pids:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if time.monotonic() > deadline:
            raise RuntimeError(f"processes {pids} of {space.name} did not end")
        time.sleep(0.05)
