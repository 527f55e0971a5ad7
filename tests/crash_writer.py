"""The writer process killed by tests/test_crash.py.

`python -m tests.crash_writer` imports everything once, then reads commands on stdin; each
`write <n> [<step> <nth>]` forks a fresh writer process that adds the articles crash-<n>,
crash-<n+1>, ... one by one through `Library.put` (lock, build aside, publish with fsync +
rename) and prints `ack <doc_id> <generation>` only once each put has returned. With a step,
the child announces `at <step>` when it reaches that step of its `nth` publish and stops
itself (SIGSTOP), so that the test kills it exactly there, however busy the machine is.
This parent prints `pid <pid>` for the child and, once the child is dead,
`exit <pid> <signal>`. Forking from a warm parent makes a restart take milliseconds.
"""

import itertools
import os
import signal
import sys
import traceback
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import index.directory
from corpus import Article
from index.directory import IndexDirectory
from index.snapshot import Snapshot
from service.answering import QuestionAnswerer
from service.library import Library
from service.served import ServedIndex
from tests.fakes import HashingEmbedder

# The steps of one put, in order, and where each one is announced.
STEPS: dict[str, tuple[Any, str]] = {
    "build": (Snapshot, "updated"),  # the next snapshot, in memory
    "save": (Snapshot, "save"),  # files of the staging generation
    "fsync": (index.directory, "_fsync_tree"),  # fsync of the staging generation
    "current": (index.directory, "_write_atomically"),  # renamed into place, CURRENT next
    "prune": (IndexDirectory, "_prune"),  # CURRENT replaced, acknowledgement next
}


def article(number: int) -> Article:
    """The `number`th article; its marker word zq<number>x occurs in no other article."""
    return Article(
        f"crash-{number:04d}",
        f"Dépêche {number}",
        f"Dépêche numéro {number} : le correspondant signale l'événement zq{number}x à Lyon.",
        source="Test",
    )


def stop_at(step: str, nth: int) -> None:
    """Announce `at <step>` and stop when the `nth` call of that step begins."""
    owner, name = STEPS[step]
    original: Callable[..., Any] = getattr(owner, name)
    calls = itertools.count(1)

    @wraps(original)
    def announced(*args: Any, **kwargs: Any) -> Any:
        if next(calls) == nth:
            print(f"at {step}", flush=True)
            os.kill(os.getpid(), signal.SIGSTOP)
        return original(*args, **kwargs)

    setattr(owner, name, announced)


def write_until_killed(root: Path, first: int) -> None:
    embedder = HashingEmbedder()
    directory = IndexDirectory(root)
    snapshot = directory.load(embedder.model_id)
    served = ServedIndex(
        directory, lambda s: QuestionAnswerer(s, embedder), snapshot, directory.current()
    )
    library = Library(served, embedder, lock_timeout=10)
    print("ready", flush=True)
    for number in itertools.count(first):
        change = library.put([article(number)])
        print(f"ack {change.added[0]} {change.generation}", flush=True)


def main() -> None:
    root = Path(sys.argv[1])
    print("warm", flush=True)
    for line in sys.stdin:
        command, first, *stop = line.split()
        assert command == "write", command
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            try:
                if stop:
                    stop_at(stop[0], int(stop[1]))
                write_until_killed(root, int(first))
            except BaseException:
                traceback.print_exc()
                sys.stdout.flush()
                os._exit(1)
            os._exit(0)
        print(f"pid {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        code = os.WTERMSIG(status) if os.WIFSIGNALED(status) else -os.WEXITSTATUS(status)
        print(f"exit {pid} {code}", flush=True)


if __name__ == "__main__":
    main()
