"""The optimizing process killed by tests/test_crash_segments.py.

`python -m tests.optimize_writer DATA_DIR STEP` runs `depeche index --optimize` (the fake
embedder's index in DATA_DIR/index), announces `at <STEP>` when it reaches that step and waits
there for the test's SIGKILL; `done <generation>` if it was not stopped.
"""

import signal
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import index.directory
from index.directory import IndexDirectory
from index.snapshot import Snapshot
from service.runtime import optimize_index
from tests.harness import fake_settings

STEPS: dict[str, tuple[Any, str]] = {
    "merge": (Snapshot, "optimized"),  # the merged snapshot, in memory
    "save": (Snapshot, "save"),  # files of the staging generation
    "fsync": (index.directory, "_fsync_tree"),
    "current": (index.directory, "_write_atomically"),  # renamed into place, CURRENT next
    "prune": (IndexDirectory, "_prune"),  # CURRENT replaced
}


def stop_at(step: str) -> None:
    """Announce `at <step>` and wait to be killed when that step begins."""
    owner, name = STEPS[step]
    original: Callable[..., Any] = getattr(owner, name)

    @wraps(original)
    def announced(*args: Any, **kwargs: Any) -> Any:
        print(f"at {step}", flush=True)
        while True:
            signal.pause()

    setattr(owner, name, announced)


def main() -> None:
    data_dir, *step = sys.argv[1:]
    if step:
        stop_at(step[0])
    print("ready", flush=True)
    done = optimize_index(fake_settings(Path(data_dir)))
    print(f"done {done.generation}", flush=True)


if __name__ == "__main__":
    main()
