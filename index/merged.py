"""Many segments read as one index: the rows of the segments one after the other (a snapshot's
row space), dense search merged by score, BM25 with the IDF of every segment together.

Tombstoned rows keep their place in the row space but are never returned. BM25 in a segment
uses that segment's mean passage length, and the IDF of a term counts tombstoned passages until
a merge drops them (as Lucene's statistics do); a single segment scores exactly as bm25s does.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from index.analysis import analyse
from index.row_filter import Restriction
from index.segment import Segment


class Rows:
    """The row space of some segments: where each one's rows start, which rows are live, and the
    vector id of each row (-1 for a tombstoned one)."""

    def __init__(self, segments: Sequence[Segment], dead: Mapping[str, frozenset[str]]) -> None:
        self.segments = tuple(segments)
        self.starts = np.cumsum([0, *(len(s) for s in segments)])
        self.offsets = self.starts[:-1]  # of each segment's first row
        lives = [~s.rows_of(dead.get(s.name, frozenset())) for s in segments]
        self.live = np.concatenate(lives) if lives else np.zeros(0, dtype=bool)
        every = [s.lexical.ids for s in segments]
        ids = np.concatenate(every) if every else np.zeros(0, dtype=np.int64)
        self.ids = np.where(self.live, ids, -1)

    def __len__(self) -> int:
        return int(self.starts[-1])

    def locate(self, row: int) -> tuple[int, int]:
        """The segment holding `row` and the row's place in it."""
        index = int(np.searchsorted(self.starts, row, side="right")) - 1
        return index, row - int(self.starts[index])

    def mask(self, restriction: Restriction | None = None) -> np.ndarray:
        """A boolean per row: live, and its article passes `restriction` if given."""
        if not restriction:
            return self.live
        masks = [s.row_filter.mask(restriction) for s in self.segments]
        return self.live & (np.concatenate(masks) if masks else self.live)

    def pieces(self, mask: np.ndarray) -> list[np.ndarray]:
        """`mask` cut into one piece per segment."""
        return [mask[a:b] for a, b in zip(self.offsets, self.starts[1:], strict=True)]


class MergedVectors:
    """Dense search over every segment's FAISS index, merged by score."""

    def __init__(self, rows: Rows, dimension: int) -> None:
        self._rows = rows
        self.dimension = dimension

    def __len__(self) -> int:
        return int(np.count_nonzero(self._rows.live))

    def vector(self, row: int) -> np.ndarray:
        index, local = self._rows.locate(row)
        return self._rows.segments[index].vectors.vector(local)

    def search(
        self, query: np.ndarray, k: int, mask: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The top `k` live rows (and their scores) for one query vector, among those `mask`
        allows if given."""
        allowed = self._rows.live if mask is None else mask & self._rows.live
        found_rows, found_scores = [], []
        pieces = self._rows.pieces(allowed)
        places = zip(self._rows.segments, self._rows.offsets, pieces, strict=True)
        for segment, start, piece in places:
            rows, scores = segment.vectors.search(query, k, None if piece.all() else piece)
            found_rows.append(rows + start)
            found_scores.append(scores)
        if not found_rows:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        rows, scores = np.concatenate(found_rows), np.concatenate(found_scores)
        best = np.argsort(-scores, kind="stable")[:k]
        return rows[best], scores[best]


@dataclass(frozen=True)
class QueryTerms:
    """A query's analysed terms that occur in some segment (repeats kept: a repeated term counts
    twice, as in BM25's sum), with the factor that turns each segment's IDF of each term into
    the IDF over all segments (`weights[segment, term]`)."""

    terms: tuple[str, ...]
    weights: np.ndarray

    def __len__(self) -> int:
        return len(self.terms)


class MergedLexical:
    """BM25 over every segment's postings, with IDF over all segments."""

    def __init__(self, rows: Rows) -> None:
        self._rows = rows
        self.ids = rows.ids
        self._total = len(rows)

    def terms(self, query: str) -> QueryTerms:
        """The query's analysed terms that some segment holds, with their IDF weights."""
        segments = self._rows.segments
        counted = [(t, [len(s.lexical.postings(t)[0]) for s in segments]) for t in analyse(query)]
        known = [(term, counts) for term, counts in counted if sum(counts)]
        weights = np.ones((len(segments), len(known)))
        for j, (_, counts) in enumerate(known):
            overall = _idf(sum(counts), self._total)
            for i, (segment, count) in enumerate(zip(segments, counts, strict=True)):
                if count:
                    weights[i, j] = overall / _idf(count, len(segment))
        return QueryTerms(tuple(t for t, _ in known), weights)

    def scores(self, terms: QueryTerms) -> np.ndarray:
        """The BM25 score of every row (0 for rows holding no term)."""
        scores = np.zeros(self._total, dtype=np.float32)
        places = zip(self._rows.segments, self._rows.offsets, strict=True)
        for i, (segment, start) in enumerate(places):
            for j, term in enumerate(terms.terms):
                rows, data = segment.lexical.postings(term)
                scores[rows + start] += data * np.float32(terms.weights[i, j])
        return scores

    def top(
        self,
        terms: QueryTerms,
        n: int,
        mask: np.ndarray | None = None,
        scores: np.ndarray | None = None,
    ) -> dict[int, float]:
        """The `n` best live rows by BM25 for `terms` (whose `scores` are computed here if not
        given), among those `mask` allows, as {row: score}, best first; rows matching no term
        are left out."""
        if not len(terms) or n < 1:
            return {}
        allowed = self._rows.live if mask is None else mask & self._rows.live
        scores = np.where(allowed, self.scores(terms) if scores is None else scores, 0)
        n = min(n, len(scores))
        best = np.argpartition(-scores, n - 1)[:n] if n < len(scores) else np.arange(len(scores))
        best = best[np.argsort(-scores[best], kind="stable")]
        return {int(r): float(scores[r]) for r in best if scores[r] > 0}

    def score(self, terms: QueryTerms, row: int) -> float:
        """BM25 score of one row for `terms`, read from its segment's postings."""
        if not self._rows.live[row]:
            return 0.0
        index, local = self._rows.locate(row)
        segment = self._rows.segments[index]
        total = 0.0
        for j, term in enumerate(terms.terms):
            rows, data = segment.lexical.postings(term)
            at = int(np.searchsorted(rows, local))
            if at < len(rows) and rows[at] == local:
                total += float(data[at] * np.float32(terms.weights[index, j]))
        return total

    def idf(self, term: str) -> float:
        """Inverse document frequency of an analysed `term`; highest for unknown terms."""
        n = self._total
        frequency = sum(len(s.lexical.postings(term)[0]) for s in self._rows.segments)
        if not frequency:
            return math.log(1 + 2 * n) if n else 1.0
        return math.log(1 + n / frequency)

    def knows(self, term: str) -> bool:
        """Whether an analysed `term` occurs in any indexed passage."""
        return any(len(s.lexical.postings(term)[0]) for s in self._rows.segments)


def _idf(frequency: int, documents: int) -> float:
    """bm25s' (Lucene's) IDF."""
    return math.log(1 + (documents - frequency + 0.5) / (frequency + 0.5))
