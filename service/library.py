"""Changing the served corpus: add, replace, delete and rebuild, while queries keep running.

Every change takes the single-writer lock, builds a new snapshot from the newest published
one (re-embedding only what changed), publishes it atomically, and only then swaps it into
the answerer; a change is acknowledged only once it is durable on disk.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from corpus import Article
from index.directory import IndexDirectory, WriterBusyError
from index.embedding import Embedder
from index.manifest import IndexCorruptError
from index.snapshot import Snapshot, build_snapshot
from service.answering import QuestionAnswerer
from service.reader import Reader


class UnknownDocumentError(KeyError):
    """No document has that doc_id."""


@dataclass(frozen=True)
class Change:
    """What a write did; `generation` is None when nothing had to change."""

    added: list[str]
    replaced: list[str]
    unchanged: list[str]
    deleted: list[str]
    generation: str | None
    passages: int


class Library:
    """The writer side of a served index."""

    def __init__(
        self,
        directory: IndexDirectory,
        answerer: QuestionAnswerer,
        embedder: Embedder,
        degraded: str | None = None,
        lock_timeout: float = 30.0,
        reader: Reader | None = None,
    ) -> None:
        self.directory = directory
        self.reader = reader
        self.answerer = answerer
        self.embedder = embedder
        self.degraded = degraded
        self.lock_timeout = lock_timeout
        self._refused: Path | None = None  # generations never change: refuse each one once

    def put(self, articles: Sequence[Article]) -> Change:
        """Add or replace articles; re-sending an identical article changes nothing."""
        with self.directory.writer_lock(self.lock_timeout):
            base = self._latest()
            added = [a.doc_id for a in articles if a.doc_id not in base.articles]
            replaced = [
                a.doc_id
                for a in articles
                if a.doc_id in base.articles and base.articles[a.doc_id] != a
            ]
            unchanged = [a.doc_id for a in articles if base.articles.get(a.doc_id) == a]
            changed = [a for a in articles if a.doc_id not in unchanged]
            if not changed:
                return Change([], [], unchanged, [], None, len(base.passages))
            return self._publish(
                base.updated(self.embedder, add=changed, reader=self.reader),
                added,
                replaced,
                unchanged,
                [],
            )

    def delete(self, doc_id: str) -> Change:
        """Remove one article and its passages from every index."""
        with self.directory.writer_lock(self.lock_timeout):
            base = self._latest()
            if doc_id not in base.articles:
                raise UnknownDocumentError(doc_id)
            return self._publish(
                base.updated(self.embedder, remove=[doc_id], reader=self.reader),
                [],
                [],
                [],
                [doc_id],
            )

    def rebuild(self) -> Change:
        """Re-chunk and re-embed every article from scratch."""
        with self.directory.writer_lock(self.lock_timeout):
            base = self._latest()
            m = base.manifest
            fresh = build_snapshot(
                self.embedder,
                m.chunk_size,
                m.chunk_overlap,
                {},
                list(base.articles.values()),
                reader=self.reader,
            )
            return self._publish(fresh, [], sorted(base.articles), [], [])

    def refresh(self) -> bool:
        """Serve the newest published generation if another process (`depeche index`)
        published one; True if it changed what is served."""
        if self.directory.current() in (self.answerer.generation, self._refused):
            return False
        try:
            with self.directory.writer_lock(timeout=0.5):
                before = self.answerer.generation
                self._latest()
                return self.answerer.generation != before
        except WriterBusyError:
            return False  # a writer is at work; look again next time

    def _latest(self) -> Snapshot:
        """The newest published snapshot (another process may have published since we
        loaded); if that one is unreadable, the one being served."""
        served = self.answerer.snapshot
        current = self.directory.current()
        if current in (self.answerer.generation, self._refused):
            return served
        try:
            snapshot = self.directory.load(self.embedder.model_id)
        except IndexCorruptError as error:
            self.degraded = f"not serving {current}: {error}"
            self._refused = current
            return served
        self.answerer.swap(snapshot, current)
        self.degraded = None
        return snapshot

    def _publish(
        self,
        snapshot: Snapshot,
        added: list[str],
        replaced: list[str],
        unchanged: list[str],
        deleted: list[str],
    ) -> Change:
        folder = self.directory.publish(snapshot)
        self.answerer.swap(snapshot, folder)
        self.degraded = None
        return Change(added, replaced, unchanged, deleted, folder.name, len(snapshot.passages))
