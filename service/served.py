"""The served index: which snapshot answers questions, from which published generation, and
whether the service is healthy. The one place that changes what is served."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from index.directory import IndexDirectory, WriterBusyError
from index.manifest import IndexCorruptError
from index.snapshot import Snapshot
from service.answering import QuestionAnswerer

log = logging.getLogger("depeche.served")


@dataclass(frozen=True)
class Serving:
    """One consistent served state: the answerer over a snapshot, the published generation it
    came from (None if unpublished), and why the service is degraded (None when healthy)."""

    answerer: QuestionAnswerer
    generation: Path | None
    degraded: str | None = None

    @property
    def snapshot(self) -> Snapshot:
        return self.answerer.snapshot


class ServedIndex:
    """Owns what is served from an index directory. Readers take `current` once per request;
    `swap` and `catch_up` replace it with one assignment, so a request sees the old state or
    the new, never a mix."""

    def __init__(
        self,
        directory: IndexDirectory,
        answerer_for: Callable[[Snapshot], QuestionAnswerer],
        snapshot: Snapshot,
        generation: Path | None,
        degraded: str | None = None,
    ) -> None:
        self.directory = directory
        self._answerer_for = answerer_for
        self._current = Serving(answerer_for(snapshot), generation, degraded)
        self._refused: Path | None = None  # generations never change: refuse each one once

    @property
    def current(self) -> Serving:
        return self._current

    @property
    def answerer(self) -> QuestionAnswerer:
        return self._current.answerer

    @property
    def snapshot(self) -> Snapshot:
        return self._current.snapshot

    @property
    def generation(self) -> Path | None:
        return self._current.generation

    @property
    def degraded(self) -> str | None:
        return self._current.degraded

    def swap(self, snapshot: Snapshot, generation: Path) -> None:
        """Serve `snapshot`, published as `generation`, from now on (healthy again)."""
        self._current = Serving(self._answerer_for(snapshot), generation)

    def catch_up(self) -> bool:
        """Serve the newest published generation if it is not served yet; an unreadable one is
        refused (once) and reported as degraded. The caller holds the writer lock. True if
        what is served changed."""
        current = self.directory.current()
        if current is None or current in (self.generation, self._refused):
            return False
        try:
            snapshot = self.directory.load(self.snapshot.manifest.model)
        except IndexCorruptError as error:
            log.warning("Degraded: not serving %s: %s", current, error)
            self._refused = current
            served = self._current
            self._current = Serving(
                served.answerer, served.generation, f"not serving {current}: {error}"
            )
            return False
        self.swap(snapshot, current)
        return True

    def refresh(self) -> bool:
        """Catch up with a generation another process (`depeche index`) published; True if
        what is served changed. A writer at work means: look again next time."""
        if self.directory.current() in (self.generation, self._refused):
            return False
        try:
            with self.directory.writer_lock(timeout=0.5):
                changed = self.catch_up()
        except WriterBusyError:
            return False
        if changed:
            log.info("Serving generation %s, published by another writer", self.generation)
        return changed
