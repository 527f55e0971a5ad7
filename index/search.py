"""Search over a snapshot: dense (FAISS), lexical (BM25) and hybrid (reciprocal rank fusion)."""

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
class Hit:
    """A retrieved passage; `score` is the mode's score, `dense`/`lexical` the raw signals."""

    passage: Passage
    score: float
    dense: float
    lexical: float


@dataclass(frozen=True)
class FusionWeights:
    """Reciprocal rank fusion: score = sum of weight / (k + rank) over the rankings by passage
    vector, by best sentence vector, and by BM25."""

    dense: float = 1.0
    sentence: float = 1.0
    lexical: float = 2.0
    k: int = 10


class Searcher:
    """Retrieves passages from one snapshot; safe to share between threads."""

    def __init__(
        self,
        snapshot: Snapshot,
        embedder: Embedder,
        fusion: FusionWeights = FusionWeights(),
        candidates: int = 50,
    ) -> None:
        self.snapshot = snapshot
        self.embedder = embedder
        self.fusion = fusion
        self.candidates = candidates
        self._ids = snapshot.lexical.ids
        self._sentences = SentenceRollup(snapshot, self._ids)

    def search(
        self,
        query: str,
        k: int,
        mode: Mode = Mode.HYBRID,
        filters: Filters = Filters(),
        query_vector: np.ndarray | None = None,
    ) -> list[Hit]:
        """The best `k` distinct passages for `query`."""
        vector = self.embedder.embed_query(query) if query_vector is None else query_vector
        mask = self._mask(filters)
        n = max(self.candidates, 4 * k)
        lexical = self.snapshot.lexical.scores(query)
        rankings: list[tuple[float, dict[int, float]]] = []
        if mode is not Mode.LEXICAL:
            rankings.append((self.fusion.dense, self._dense(vector, n, mask)))
            rankings.append((self.fusion.sentence, _top(self._sentences.scores(vector), mask, n)))
        if mode is not Mode.DENSE:
            rankings.append((self.fusion.lexical, _top(lexical, mask & (lexical > 0), n)))
        ranked = _fuse(rankings, self.fusion.k)
        kept = collapse_duplicates(
            [self.snapshot.passages[int(self._ids[r])] for r, _ in ranked], k
        )
        hits = []
        for position in kept:
            row, score = ranked[position]
            vid = int(self._ids[row])
            dense = float(self.snapshot.vectors.vector(vid) @ vector)
            hits.append(Hit(self.snapshot.passages[vid], score, dense, float(lexical[row])))
        return hits

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


def _fuse(rankings: list[tuple[float, dict[int, float]]], k: int) -> list[tuple[int, float]]:
    """Reciprocal rank fusion, normalised so that 1.0 means first in every ranking."""
    best = sum(weight for weight, _ in rankings) / (k + 1) or 1.0
    fused: dict[int, float] = {}
    for weight, scores in rankings:
        for rank, row in enumerate(sorted(scores, key=lambda r: (-scores[r], r)), start=1):
            fused[row] = fused.get(row, 0.0) + weight / (k + rank)
    return sorted(
        ((row, score / best) for row, score in fused.items()), key=lambda x: (-x[1], x[0])
    )


def collapse_duplicates(passages: list[Passage], limit: int, overlap: float = 0.5) -> list[int]:
    """Positions of the first `limit` passages that do not repeat a better one: the same
    article with a mostly shared span, or near-identical text elsewhere (a syndicated copy:
    `NEAR_COPY` of their word trigrams shared)."""
    kept: list[int] = []
    shingles: list[frozenset[tuple[str, ...]]] = []
    for position, passage in enumerate(passages):
        if len(kept) == limit:
            break
        mine = _shingles(passage.text)
        if any(_overlaps(passage, passages[i], overlap) for i in kept) or any(
            _jaccard(mine, other) >= NEAR_COPY for other in shingles
        ):
            continue
        kept.append(position)
        shingles.append(mine)
    return kept


NEAR_COPY = 0.8


def _shingles(text: str) -> frozenset[tuple[str, ...]]:
    words = text.lower().split()
    return frozenset(zip(words, words[1:], words[2:], strict=False)) or frozenset({tuple(words)})


def _jaccard(a: frozenset[tuple[str, ...]], b: frozenset[tuple[str, ...]]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def _overlaps(a: Passage, b: Passage, threshold: float) -> bool:
    if a.doc_id != b.doc_id:
        return False
    shared = min(a.end, b.end) - max(a.start, b.start)
    return shared > threshold * min(a.end - a.start, b.end - b.start)
