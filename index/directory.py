"""The on-disk index directory: published generations, atomic publish, validated loading.

Layout::

    <root>/CURRENT               name of the live generation (replaced atomically)
    <root>/generations/<name>/   manifest.json, and the files of its segments: the last
                                 segment's store.sqlite, sentences.npy, vectors.faiss,
                                 lexical/ at the top,
                                 the others' under segments/<segment name>/
    <root>/.lock                 held by the one writer at a time

A generation is written aside under a temporary name, fsynced, renamed into place, and
only then named in CURRENT; a crash at any point leaves the previous generation live. The
generation CURRENT named before is kept as the fallback; older ones are removed. Segments are
immutable: a generation hard-links the files of the segments it shares with one this process
loaded (checksums verified) or published, and writes only the others.
"""

import errno
import fcntl
import os
import shutil
import sqlite3
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from index.checked import CheckedFiles
from index.live import CURRENT_FILE, GENERATIONS_DIR, live_generation
from index.manifest import IndexCorruptError, IndexUnusableError, Manifest
from index.segment import Segment
from index.segment_files import Stored, stored_segments
from index.snapshot import Snapshot


class IndexMissingError(IndexUnusableError):
    """No index has been published in the directory yet."""


class IndexWriteError(OSError):
    """A new generation could not be written (disk full, I/O error); the live one is unchanged.
    Its errno is the one SQLite's or FAISS's message names, if any."""


# SQLite and FAISS report a full or read-only disk in words, not with an errno.
_ERRNO_WORDS = [(errno.ENOSPC, "disk is full"), (errno.EROFS, "readonly database")] + [
    (code, os.strerror(code))
    for code in (errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS)
]


def _write_error(error: Exception) -> IndexWriteError:
    text = str(error)
    code = next((code for code, words in _ERRNO_WORDS if words in text), None)
    return IndexWriteError(code, text) if code is not None else IndexWriteError(text)


class WriterBusyError(RuntimeError):
    """Another process or thread holds the writer lock."""


class IndexDirectory:
    """Publishes and loads snapshots under `root`."""

    def __init__(self, root: Path, checked: CheckedFiles | None = None) -> None:
        """`checked`: files already verified (`index.live.verify_ahead`), not hashed again."""
        self.root = root
        self.generations = root / GENERATIONS_DIR
        self._stored: dict[str, Stored] = {}  # checked segment files to link, by segment name
        self._checked = checked or CheckedFiles()
        self._held: weakref.WeakValueDictionary[str, Segment] = weakref.WeakValueDictionary()

    def current(self) -> Path | None:
        """The live generation folder, or None when nothing was published."""
        return live_generation(self.root)

    def load(self, model: str) -> Snapshot:
        """Load the live generation, refusing another model, a bad checksum or bad counts."""
        folder = self.current()
        if folder is None:
            raise IndexMissingError(f"no index in {self.root}: build one with `depeche index`")
        return self._load(folder, model)

    def load_last_good(self, model: str) -> tuple[Snapshot, str | None]:
        """The live generation, or if it is unreadable the newest older one that loads, with
        the reason the live one was refused (None when it loaded)."""
        try:
            return self.load(model), None
        except IndexCorruptError as error:
            problem = str(error)
        live = self.current()
        for folder in sorted(self._finished(), reverse=True):
            if live is not None and folder.name >= live.name:
                continue  # the live one, or one a crash left unpublished
            try:
                return self._load(folder, model), f"serving {folder.name}: {problem}"
            except IndexCorruptError:
                continue
        raise IndexCorruptError(f"no readable index generation in {self.generations}: {problem}")

    def _load(self, folder: Path, model: str) -> Snapshot:
        """Load the generation in `folder`. Files this process checked or wrote (the same
        inode, unchanged) are not hashed again, and the segments whose files are all such are
        taken from memory: following a new generation costs what it adds."""
        manifest = Manifest.read(folder)
        manifest.check_compatible(model)
        manifest.check_files(folder, self._checked.unchanged)
        stored = stored_segments(folder, manifest)
        unchanged = self._checked.unchanged
        held = {
            name: segment
            for name, where in stored.items()
            if (segment := self._held.get(name)) is not None
            and all(unchanged(where.folder / file, d) for file, d in where.checksums.items())
        }
        try:
            snapshot = Snapshot.load(folder, manifest, held)
        except (OSError, ValueError, RuntimeError) as error:
            if isinstance(error, IndexUnusableError):
                raise
            raise IndexCorruptError(f"{folder} cannot be read: {error}") from error
        self._remember(folder, manifest, snapshot)
        return snapshot

    def _remember(self, folder: Path, manifest: Manifest, snapshot: Snapshot) -> None:
        """Know the files and segments of the generation just loaded or published."""
        self._stored |= stored_segments(folder, manifest)
        self._checked.remember(folder, manifest.checksums)
        self._held.update({segment.name: segment for segment in snapshot.segments})

    def publish(self, snapshot: Snapshot) -> Path:
        """Write `snapshot` as a new generation and make it live; returns its folder."""
        self.generations.mkdir(parents=True, exist_ok=True)
        previous = self.current()
        name = _generation_name(time.time_ns())
        staging = self.generations / f".tmp-{name}"
        final = self.generations / name
        try:
            snapshot.save(staging, self._stored)
            _fsync_tree(staging)
            os.replace(staging, final)
            _fsync_dir(self.generations)
            _write_atomically(self.root / CURRENT_FILE, name + "\n")
        except Exception as error:
            shutil.rmtree(staging, ignore_errors=True)
            if self.current() != final:  # leave no unacknowledged generation behind
                shutil.rmtree(final, ignore_errors=True)
            if isinstance(error, sqlite3.Error | RuntimeError):  # how SQLite and FAISS fail
                raise _write_error(error) from error
            raise
        self._prune(keep={final, previous})
        self._stored = {}
        self._remember(final, Manifest.read(final), snapshot)
        return final

    @contextmanager
    def writer_lock(self, timeout: float | None = None) -> Iterator[None]:
        """Hold the single-writer lock (across threads and processes); wait at most `timeout`
        seconds (forever if None), then raise WriterBusyError."""
        self.root.mkdir(parents=True, exist_ok=True)
        deadline = None if timeout is None else time.monotonic() + timeout
        with (self.root / ".lock").open("a") as handle:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | (fcntl.LOCK_NB if deadline else 0))
                    break
                except BlockingIOError:
                    if deadline is not None and time.monotonic() > deadline:
                        raise WriterBusyError(
                            f"another writer is updating {self.root}; try again shortly"
                        ) from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _prune(self, keep: set[Path | None]) -> None:
        """Remove leftovers of interrupted writes and every generation but `keep` (the live
        one and the one it replaced, the fallback)."""
        temporary = [p for p in self.generations.glob(".tmp-*") if p.is_dir()]
        for folder in temporary + self._finished():
            if folder not in keep:
                shutil.rmtree(folder, ignore_errors=True)

    def _finished(self) -> list[Path]:
        """Published generation folders, oldest first (names sort by time)."""
        if not self.generations.is_dir():
            return []
        return sorted(
            p for p in self.generations.iterdir() if p.is_dir() and not p.name.startswith(".")
        )


def _generation_name(nanoseconds: int) -> str:
    """UTC time to the nanosecond, from one clock reading so that names sort in publish order
    (the fraction of another clock, such as monotonic, wraps at other instants)."""
    seconds, fraction = divmod(nanoseconds, 10**9)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y%m%dT%H%M%S") + f"-{fraction:09d}"


def _write_atomically(path: Path, content: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    _fsync_dir(path.parent)


def _fsync_tree(folder: Path) -> None:
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
        else:
            _fsync_dir(path)
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
