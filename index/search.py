"""Search over a snapshot: dense (FAISS), lexical (BM25) and hybrid (reciprocal rank fusion)."""

from dataclasses import dataclass
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
    """Restrict search to some sources and a published date range (inclusive)."""

    sources: frozenset[str] | None = None
    published_from: date | None = None
    published_to: date | None = None

    def __bool__(self) -> bool:
        return bool(self.sources) or self.published_from is not None or self.published_to is not None


@dataclass(frozen=True)
class Hit:
    """A retrieved passage; `score` is the mode's score, `dense`/`lexical` the raw signals."""

    passage: Passage
    score: float
    dense: float
    lexical: float


@dataclass(frozen=True)
class FusionWeights:
    """Reciprocal rank fusion: score = sum of weight / (k + rank) over the two rankings."""

    dense: float = 1.0
    lexical: float = 1.0
    k: int = 60


class Searcher:
    """Retrieves passages from one snapshot; cheap to create, safe to share between threads."""

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
        self._row = {int(vid): row for row, vid in enumerate(snapshot.lexical.ids)}

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
        allowed = self._allowed(filters) if filters else None
        n = max(self.candidates, 4 * k)
        dense = self._dense(vector, n, allowed)
        lexical = self._lexical(query, n, allowed)
        if mode is Mode.DENSE:
            ranked = sorted(dense.items(), key=lambda item: -item[1])
        elif mode is Mode.LEXICAL:
            ranked = sorted(lexical.items(), key=lambda item: -item[1])
        else:
            ranked = self._fuse(dense, lexical)
        kept = collapse_duplicates([self.snapshot.passages[vid] for vid, _ in ranked], k)
        lexical_all = self.snapshot.lexical.scores(query)
        return [
            Hit(
                self.snapshot.passages[ranked[i][0]],
                ranked[i][1],
                float(self.snapshot.vectors.vector(ranked[i][0]) @ vector),
                float(lexical_all[self._row[ranked[i][0]]]),
            )
            for i in kept
        ]

    def query_terms_known(self, query: str) -> float:
        """Fraction of the query's terms that occur somewhere in the indexed passages."""
        terms = analyse(query)
        if not terms:
            return 0.0
        return sum(self.snapshot.lexical.knows(term) for term in terms) / len(terms)

    def _allowed(self, filters: Filters) -> set[int]:
        docs = {
            a.doc_id
            for a in self.snapshot.articles.values()
            if (not filters.sources or (a.source or "") in filters.sources)
            and (filters.published_from is None or (a.published and a.published >= filters.published_from))
            and (filters.published_to is None or (a.published and a.published <= filters.published_to))
        }
        return {vid for vid, p in self.snapshot.passages.items() if p.doc_id in docs}

    def _dense(self, vector: np.ndarray, n: int, allowed: set[int] | None) -> dict[int, float]:
        ids, scores = self.snapshot.vectors.search(vector, n, allowed)
        return {int(i): float(s) for i, s in zip(ids, scores, strict=True)}

    def _lexical(self, query: str, n: int, allowed: set[int] | None) -> dict[int, float]:
        scores = self.snapshot.lexical.scores(query)
        ids = self.snapshot.lexical.ids
        order = np.argsort(-scores, kind="stable")
        found: dict[int, float] = {}
        for row in order:
            if scores[row] <= 0 or len(found) == n:
                break
            if allowed is None or int(ids[row]) in allowed:
                found[int(ids[row])] = float(scores[row])
        return found

    def _fuse(self, dense: dict[int, float], lexical: dict[int, float]) -> list[tuple[int, float]]:
        w = self.fusion
        best = (w.dense + w.lexical) / (w.k + 1)
        fused: dict[int, float] = {}
        for weight, ranking in ((w.dense, dense), (w.lexical, lexical)):
            ordered = sorted(ranking, key=lambda vid: -ranking[vid])
            for rank, vid in enumerate(ordered, start=1):
                fused[vid] = fused.get(vid, 0.0) + weight / (w.k + rank)
        return sorted(((vid, score / best) for vid, score in fused.items()), key=lambda item: -item[1])


def collapse_duplicates(passages: list[Passage], limit: int, overlap: float = 0.5) -> list[int]:
    """Positions of the first `limit` passages that do not repeat a better one: the same
    article with a mostly shared span, or the same text (whitespace folded) elsewhere."""
    kept: list[int] = []
    seen_texts: set[str] = set()
    for position, passage in enumerate(passages):
        if len(kept) == limit:
            break
        text = " ".join(passage.text.split()).lower()
        if text in seen_texts or any(_overlaps(passage, passages[i], overlap) for i in kept):
            continue
        kept.append(position)
        seen_texts.add(text)
    return kept


def _overlaps(a: Passage, b: Passage, threshold: float) -> bool:
    if a.doc_id != b.doc_id:
        return False
    shared = min(a.end, b.end) - max(a.start, b.start)
    return shared > threshold * min(a.end - a.start, b.end - b.start)
