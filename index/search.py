"""Candidate passages from a snapshot, per signal: passage vectors (FAISS), best sentence
vectors and BM25 (bm25s). Fusing them into one ranking is service.ranking's job."""

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

import numpy as np

from index.analysis import analyse
from index.chunking import Passage
from index.embedding import Embedder
from index.snapshot import Snapshot


class Mode(StrEnum):
    DENSE = "dense"
    LEXICAL = "lexical"
    HYBRID = "hybrid"


@dataclass(frozen=True)
class Filters:
    """Restrict search to some sources (case does not matter) and a published date range
    (inclusive)."""

    sources: frozenset[str] | None = None
    published_from: date | None = None
    published_to: date | None = None

    def __bool__(self) -> bool:
        return (
            bool(self.sources) or self.published_from is not None or self.published_to is not None
        )

    def as_of(self, day: date | None) -> "Filters":
        """These filters, further restricted to articles published on or before `day`: what
        the news said as of that day."""
        if day is None:
            return self
        return replace(self, published_to=min(day, self.published_to or day))

    def __str__(self) -> str:
        parts = [f"source {' or '.join(sorted(self.sources))}"] if self.sources else []
        if self.published_from:
            parts.append(f"published on or after {self.published_from}")
        if self.published_to:
            parts.append(f"published on or before {self.published_to}")
        return ", ".join(parts) or "none"


@dataclass(frozen=True)
class Candidates:
    """The candidate passages for one query, per signal, as {row: raw score}: the best rows by
    passage vector (`dense`, cosine), by best sentence vector (`sentence`, cosine) and by BM25
    (`lexical`, rows scoring above 0); a signal the mode does not use is empty. A row is a
    passage's place in the index; for any row, `passage` gives its passage, `cosine` its
    passage-vector cosine and `bm25` its BM25 score, for the passages a ranking keeps."""

    dense: dict[int, float]
    sentence: dict[int, float]
    lexical: dict[int, float]
    snapshot: Snapshot
    ids: np.ndarray  # the passage id of each row
    vector: np.ndarray  # the query's
    bm25: np.ndarray  # the query's BM25 score of each row

    def passage(self, row: int) -> Passage:
        return self.snapshot.passages[int(self.ids[row])]

    def cosine(self, row: int) -> float:
        """Cosine of the query and the passage vector of `row`."""
        return float(self.snapshot.vectors.vector(int(self.ids[row])) @ self.vector)


class Searcher:
    """Finds candidate passages in one snapshot (their ranking is service.ranking's); safe to
    share between threads."""

    def __init__(self, snapshot: Snapshot, embedder: Embedder) -> None:
        self.snapshot = snapshot
        self.embedder = embedder
        self._ids = snapshot.lexical.ids
        self._sentences = SentenceRollup(snapshot, self._ids)

    def candidates(
        self,
        query: str,
        vector: np.ndarray | None,
        mode: Mode,
        filters: Filters,
        n: int,
    ) -> Candidates:
        """Up to `n` candidates per signal of `mode` for `query` (whose `vector` is embedded
        here if not given), among the passages `filters` allow."""
        vector = self.embedder.embed_query(query) if vector is None else vector
        mask = self._mask(filters)
        bm25 = self.snapshot.lexical.scores(query)
        dense: dict[int, float] = {}
        sentence: dict[int, float] = {}
        lexical: dict[int, float] = {}
        if mode is not Mode.LEXICAL:
            dense = self._dense(vector, n, mask)
            sentence = _top(self._sentences.scores(vector), mask, n)
        if mode is not Mode.DENSE:
            lexical = _top(bm25, mask & (bm25 > 0), n)
        return Candidates(dense, sentence, lexical, self.snapshot, self._ids, vector, bm25)

    def term_weights(self, query: str) -> dict[str, float]:
        """The query's analysed terms with their IDF (unknown terms weigh the most)."""
        return {term: self.snapshot.lexical.idf(term) for term in analyse(query)}

    def known_share(self, weights: dict[str, float]) -> float:
        """IDF-weighted share of the query terms that occur somewhere in the corpus."""
        total = sum(weights.values())
        known = sum(w for term, w in weights.items() if self.snapshot.lexical.knows(term))
        return known / total if total else 0.0

    def admits_any(self, filters: Filters) -> bool:
        """Whether any passage passes `filters`."""
        return bool(self._mask(filters).any())

    def _mask(self, filters: Filters) -> np.ndarray:
        """Which passage rows the filters allow."""
        if not filters:
            return np.ones(len(self._ids), dtype=bool)
        sources = {s.casefold() for s in filters.sources or ()}
        docs = {
            a.doc_id
            for a in self.snapshot.articles.values()
            if (not sources or (a.source or "").casefold() in sources)
            and (
                filters.published_from is None
                or (a.published and a.published >= filters.published_from)
            )
            and (
                filters.published_to is None
                or (a.published and a.published <= filters.published_to)
            )
        }
        return np.array(
            [self.snapshot.passages[int(v)].doc_id in docs for v in self._ids], dtype=bool
        )

    def _dense(self, vector: np.ndarray, n: int, mask: np.ndarray) -> dict[int, float]:
        """Top passages by passage vector, as {row: cosine}."""
        allowed = None if mask.all() else {int(v) for v in self._ids[mask]}
        ids, scores = self.snapshot.vectors.search(vector, n, allowed)
        row_of = self._sentences.row_of
        return {row_of[int(i)]: float(s) for i, s in zip(ids, scores, strict=True)}


class SentenceRollup:
    """Scores each passage by its best sentence: sentence vectors are sharper than passage
    vectors for factoid questions."""

    def __init__(self, snapshot: Snapshot, ids: np.ndarray) -> None:
        self.row_of = {int(vid): row for row, vid in enumerate(ids)}
        blocks, starts, members = [], {}, []
        total = 0
        for doc_id, table in snapshot.sentences.items():
            starts[doc_id] = total
            blocks.append(table.vectors)
            total += len(table.spans)
        self.matrix = np.vstack(blocks) if blocks else np.empty((0, 0), dtype=np.float32)
        for vid in ids:
            passage = snapshot.passages[int(vid)]
            table = snapshot.sentences[passage.doc_id]
            rows = table.within(passage.start, passage.end)
            if not len(rows):
                rows = np.array([table.nearest(passage.start, passage.end)])
            members.append(rows + starts[passage.doc_id])
        self.offsets = np.cumsum([0] + [len(m) for m in members[:-1]]).astype(np.int64)
        self.flat = np.concatenate(members) if members else np.empty(0, dtype=np.int64)

    def scores(self, vector: np.ndarray) -> np.ndarray:
        """Best sentence cosine of every passage row."""
        if not len(self.flat):
            return np.empty(0, dtype=np.float32)
        sims = self.matrix @ vector
        return np.maximum.reduceat(sims[self.flat], self.offsets)


def _top(scores: np.ndarray, mask: np.ndarray, n: int) -> dict[int, float]:
    """The `n` best allowed rows as {row: score}."""
    rows = np.flatnonzero(mask)
    if len(rows) > n:
        rows = rows[np.argpartition(-scores[rows], n - 1)[:n]]
    return {int(r): float(scores[r]) for r in rows}
