"""Candidate passages from a snapshot, per signal: passage vectors (FAISS), best sentence
vectors and BM25 (bm25s). Fusing them into one ranking is service.ranking's job."""

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from index.analysis import analyse
from index.chunking import Passage
from index.embedding import Embedder
from index.merged import MergedLexical, QueryTerms
from index.query import Filters, Mode
from index.snapshot import Snapshot


@dataclass(frozen=True)
class Candidates:
    """The candidate passages for one query, per signal, as {row: raw score}: the best rows by
    passage vector (`dense`, cosine), by BM25 (`lexical`, rows scoring above 0) and, among
    those, by best sentence vector (`sentence`, cosine); a signal the mode does not use is
    empty. A row is a passage's place in the index; for any row, `passage` gives its passage,
    `cosine` its passage-vector cosine and `bm25` its BM25 score, for the passages a ranking
    keeps."""

    dense: dict[int, float]
    sentence: dict[int, float]
    lexical: dict[int, float]
    snapshot: Snapshot
    vector: np.ndarray  # the query's
    bm25: "RowBm25"  # the query's BM25 score of any row

    def passage(self, row: int) -> Passage:
        return self.snapshot.passage(row)

    def cosine(self, row: int) -> float:
        """Cosine of the query and the passage vector of `row`."""
        return float(self.snapshot.vectors.vector(row) @ self.vector)


@dataclass(frozen=True)
class RowBm25:
    """The BM25 score of any row for one query's terms: from `scores` when the search computed
    them for every row, else read from the postings on demand."""

    lexical: MergedLexical
    terms: QueryTerms
    scores: np.ndarray | None = None

    def __getitem__(self, row: int) -> float:
        if self.scores is None:
            return self.lexical.score(self.terms, row)
        return float(self.scores[row]) if self.lexical.ids[row] >= 0 else 0.0


SENTENCE_CACHE_ROWS = 8192  # rows whose sentence vectors stay in memory (about 8 KB each)

# A query vector, or a function computing it (a model runs on one core: BM25 uses another)
QueryVector = np.ndarray | Callable[[], np.ndarray]
_LEXICAL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="bm25")


class Searcher:
    """Finds candidate passages in one snapshot (their ranking is service.ranking's); safe to
    share between threads. Nothing per query runs over every passage or sentence."""

    def __init__(self, snapshot: Snapshot, embedder: Embedder) -> None:
        self.snapshot = snapshot
        self.embedder = embedder
        # the rows asked for most recently, as float32: a long-running server's memory stays
        # bounded whatever the rows its questions come across
        self.sentence_vectors = lru_cache(maxsize=SENTENCE_CACHE_ROWS)(self._sentences_of)

    def candidates(
        self,
        query: str,
        vector: QueryVector | None,
        mode: Mode,
        filters: Filters,
        n: int,
    ) -> Candidates:
        """Up to `n` candidates per signal of `mode` for `query`, among the passages `filters`
        allow. The query's `vector` is embedded here if not given; while it is computed (here or
        by the function given), BM25 runs on another thread. The sentence signal ranks the
        passages the other signals found by their best sentence."""
        mask = self.snapshot.rows.mask(filters) if filters else None
        best_lexical = 0 if mode is Mode.DENSE else n
        if isinstance(vector, np.ndarray):
            bm25, lexical = self._lexical(query, best_lexical, mask)
        else:
            pending = _LEXICAL.submit(self._lexical, query, best_lexical, mask)
            vector = self.embedder.embed_query(query) if vector is None else vector()
            bm25, lexical = pending.result()
        dense: dict[int, float] = {}
        sentence: dict[int, float] = {}
        if mode is not Mode.LEXICAL:
            dense = self._dense(vector, n, mask)
            sentence = self._best_sentences(dense.keys() | lexical.keys(), vector)
        return Candidates(dense, sentence, lexical, self.snapshot, vector, bm25)

    def _lexical(
        self, query: str, n: int, mask: np.ndarray | None
    ) -> tuple[RowBm25, dict[int, float]]:
        """The query's BM25 (over every row, unless `n` is 0) and its `n` best rows `mask`
        allows."""
        lexical = self.snapshot.lexical
        terms = lexical.terms(query)
        if not n:
            return RowBm25(lexical, terms), {}
        scores = lexical.scores(terms)
        return RowBm25(lexical, terms, scores), lexical.top(terms, n, mask, scores)

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
        return not filters or bool(self.snapshot.rows.mask(filters).any())

    def _dense(self, vector: np.ndarray, n: int, mask: np.ndarray | None) -> dict[int, float]:
        """Top passages by passage vector, as {row: cosine}."""
        rows, scores = self.snapshot.vectors.search(vector, n, mask)
        return {int(r): float(s) for r, s in zip(rows, scores, strict=True)}

    def _best_sentences(self, rows: Iterable[int], vector: np.ndarray) -> dict[int, float]:
        """Each row's best sentence cosine (sentence vectors are sharper than passage vectors
        for factoid questions): the sentences lying mostly inside the passage, else the one
        overlapping it most."""
        return {row: float((self.sentence_vectors(row) @ vector).max()) for row in rows}

    def _sentences_of(self, row: int) -> np.ndarray:
        """The vectors of the sentences `row`'s passage is made of."""
        return np.asarray(self.snapshot.passage_sentence_vectors(row), dtype=np.float32)
