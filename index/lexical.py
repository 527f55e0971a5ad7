"""The French lexical index: BM25 (bm25s) over analysed passage text."""

import math
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

from index.analysis import analyse

_IDS_FILE = "ids.npy"


class LexicalIndex:
    """BM25 over the passages; row i is the passage whose FAISS vector id is `ids[i]`."""

    def __init__(self, bm25: bm25s.BM25, ids: np.ndarray) -> None:
        self._bm25 = bm25
        self.ids = ids

    @classmethod
    def build(cls, ids: Sequence[int], texts: Sequence[str]) -> "LexicalIndex":
        """Index `texts` (one per id); an empty corpus gives an index that scores nothing."""
        bm25 = bm25s.BM25()
        if texts:
            bm25.index([analyse(text) or [""] for text in texts], show_progress=False)
        return cls(bm25, np.asarray(ids, dtype=np.int64))

    def terms(self, query: str) -> np.ndarray:
        """The vocabulary ids of `query`'s analysed terms that occur in the index (repeats
        kept: a repeated term counts twice, as in BM25's sum)."""
        vocabulary = self._bm25.vocab_dict if len(self.ids) else {}
        return np.array([vocabulary[t] for t in analyse(query) if t in vocabulary], dtype=np.int64)

    def top(self, terms: np.ndarray, n: int, mask: np.ndarray | None = None) -> dict[int, float]:
        """The `n` best rows by BM25 for `terms` (bm25s top-k), among those `mask` allows,
        as {row: score}; rows matching no term are left out."""
        if not len(terms) or n < 1:
            return {}
        rows, scores = self._bm25.retrieve(
            [terms.tolist()],
            k=min(n, len(self.ids)),
            show_progress=False,
            n_threads=0,
            weight_mask=mask,
        )
        return {int(r): float(s) for r, s in zip(rows[0], scores[0], strict=True) if s > 0}

    def score(self, terms: np.ndarray, row: int) -> float:
        """BM25 score of one row for `terms`, read from the postings (no pass over the
        corpus)."""
        data, indices, indptr = (self._bm25.scores[k] for k in ("data", "indices", "indptr"))
        total = 0.0
        for term in terms:
            start, end = int(indptr[term]), int(indptr[term + 1])
            at = start + int(np.searchsorted(indices[start:end], row))
            if at < end and indices[at] == row:
                total += float(data[at])
        return total

    def idf(self, term: str) -> float:
        """Inverse document frequency of an analysed `term`; highest for unknown terms."""
        n = len(self.ids)
        vocabulary_id = self._bm25.vocab_dict.get(term) if n else None
        if vocabulary_id is None:
            return math.log(1 + 2 * n) if n else 1.0
        indptr = self._bm25.scores["indptr"]
        frequency = int(indptr[vocabulary_id + 1] - indptr[vocabulary_id])
        return math.log(1 + n / max(frequency, 1))

    def knows(self, term: str) -> bool:
        """Whether an analysed `term` occurs in any indexed passage."""
        return term in self._bm25.vocab_dict if len(self.ids) else False

    def save(self, folder: Path) -> None:
        """Write the index as .npy and .json files (no pickle)."""
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / _IDS_FILE, self.ids, allow_pickle=False)
        if len(self.ids):
            self._bm25.save(str(folder), allow_pickle=False, show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> "LexicalIndex":
        """Read an index written by `save`."""
        ids = np.load(folder / _IDS_FILE, allow_pickle=False)
        if not len(ids):
            return cls(bm25s.BM25(), ids)
        return cls(bm25s.BM25.load(str(folder), allow_pickle=False), ids)
