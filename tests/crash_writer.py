"""The writer process killed by tests/test_crash.py.

`python -m tests.crash_writer INDEX_DIR N [STEP NTH]` adds the articles crash-<N>,
crash-<N+1>, ... one by one through `Library.put` (lock, build aside, publish with fsync +
rename) and prints `ack <doc_id> <generation>` only once each put has returned. With a step,
it announces `at <step>` when it reaches that step of its `nth` publish and waits there for
a signal (the test's SIGKILL), so that it dies exactly there, however busy the machine is.
"""

import itertools
import signal
import sys
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
    """Announce `at <step>` and wait to be killed when the `nth` call of that step begins."""
    owner, name = STEPS[step]
    original: Callable[..., Any] = getattr(owner, name)
    calls = itertools.count(1)

    @wraps(original)
    def announced(*args: Any, **kwargs: Any) -> Any:
        if next(calls) == nth:
            print(f"at {step}", flush=True)
            while True:
                signal.pause()
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
    root, first, *stop = sys.argv[1:]
    if stop:
        stop_at(stop[0], int(stop[1]))
    write_until_killed(Path(root), int(first))


if __name__ == "__main__":
    main()
