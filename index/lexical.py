"""The French lexical index: BM25 (bm25s) over analysed passage text."""

import math
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

from index.analysis import analyse

_IDS_FILE = "ids.npy"


class LexicalIndex:
    """BM25 scores for every passage, aligned with `ids` (FAISS vector ids)."""

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

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for `query` (zeros when no term matches)."""
        terms = analyse(query)
        if not terms or len(self.ids) == 0:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(terms), dtype=np.float32)

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
