"""Changing the served corpus: add, replace, delete and rebuild, while queries keep running.

Every change takes the single-writer lock, builds a new snapshot from the newest published
one (re-embedding only what changed), publishes it atomically, and only then has the served
index swap it in; a change is acknowledged only once it is durable on disk.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from corpus import Article
from index.embedding import Embedder
from index.embedding_cache import EmbeddingCache
from index.snapshot import Snapshot, build_snapshot
from service.reader import Reader
from service.served import ServedIndex


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


def compare(
    before: Mapping[str, Article], articles: Sequence[Article]
) -> tuple[list[str], list[str], list[str]]:
    """The doc_ids of `articles` that are new, that replace a different article, and that
    are identical to one in `before`."""
    added = [a.doc_id for a in articles if a.doc_id not in before]
    replaced = [a.doc_id for a in articles if a.doc_id in before and before[a.doc_id] != a]
    unchanged = [a.doc_id for a in articles if before.get(a.doc_id) == a]
    return added, replaced, unchanged


class Library:
    """The writer side of a served index: every change goes through `served`. With a
    `reader`, new sentences also get the reader's token vectors; embeddings in `cache` are
    reused."""

    def __init__(
        self,
        served: ServedIndex,
        embedder: Embedder,
        lock_timeout: float = 30.0,
        reader: Reader | None = None,
        cache: EmbeddingCache | None = None,
    ) -> None:
        self.served = served
        self.cache = cache
        self.directory = served.directory
        self.reader = reader
        self.embedder = embedder
        self.lock_timeout = lock_timeout

    def put(self, articles: Sequence[Article]) -> Change:
        """Add or replace articles; re-sending an identical article changes nothing."""
        with self.directory.writer_lock(self.lock_timeout):
            base = self._newest()
            added, replaced, unchanged = compare(base.articles, articles)
            changed = [a for a in articles if a.doc_id not in unchanged]
            if not changed:
                return Change([], [], unchanged, [], None, len(base.passages))
            return self._publish(
                base.updated(self.embedder, add=changed, reader=self.reader, cache=self.cache),
                added,
                replaced,
                unchanged,
                [],
            )

    def delete(self, doc_id: str) -> Change:
        """Remove one article and its passages from every index."""
        with self.directory.writer_lock(self.lock_timeout):
            base = self._newest()
            if doc_id not in base.articles:
                raise UnknownDocumentError(doc_id)
            return self._publish(
                base.updated(self.embedder, remove=[doc_id], reader=self.reader, cache=self.cache),
                [],
                [],
                [],
                [doc_id],
            )

    def rebuild(self) -> Change:
        """Re-chunk every article from scratch and embed what the cache does not hold."""
        with self.directory.writer_lock(self.lock_timeout):
            base = self._newest()
            m = base.manifest
            fresh = build_snapshot(
                self.embedder,
                m.chunk_size,
                m.chunk_overlap,
                {},
                list(base.articles.values()),
                reader=self.reader,
                cache=self.cache,
            )
            return self._publish(fresh, [], sorted(base.articles), [], [])

    def _newest(self) -> Snapshot:
        """The state to change (under the lock): the newest published one, which another
        process may have published since; the served one if that is unreadable."""
        self.served.catch_up()
        return self.served.snapshot

    def _publish(
        self,
        snapshot: Snapshot,
        added: list[str],
        replaced: list[str],
        unchanged: list[str],
        deleted: list[str],
    ) -> Change:
        folder = self.directory.publish(snapshot)
        self.served.swap(snapshot, folder)
        return Change(added, replaced, unchanged, deleted, folder.name, len(snapshot.passages))
