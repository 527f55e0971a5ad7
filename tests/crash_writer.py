"""The writer process killed by tests/test_crash.py.

`python -m tests.crash_writer` imports everything once, then reads commands on stdin; each
`write <n>` forks a fresh writer process that adds the articles crash-<n>, crash-<n+1>, ...
one by one through `Library.put` (lock, build aside, publish with fsync + rename) and prints
`ack <doc_id> <generation>` only once each put has returned. This parent prints `pid <pid>`
for the child and, once the child is dead, `exit <pid> <signal>`. Forking from a warm parent
makes a restart take milliseconds instead of two seconds of imports.
"""

import itertools
import os
import sys
import traceback
from pathlib import Path

from corpus import Article
from index.directory import IndexDirectory
from service.answering import QuestionAnswerer
from service.library import Library
from service.served import ServedIndex
from tests.fakes import HashingEmbedder


def article(number: int) -> Article:
    """The `number`th article; its marker word zq<number>x occurs in no other article."""
    return Article(
        f"crash-{number:04d}",
        f"Dépêche {number}",
        f"Dépêche numéro {number} : le correspondant signale l'événement zq{number}x à Lyon.",
        source="Test",
    )


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
        command, first = line.split()
        assert command == "write", command
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            try:
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
