"""The French lexical index of one segment: BM25 (bm25s) over analysed passage text. Scoring
across segments, with the IDF of them all, is index.merged's job."""

from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np
from tqdm import tqdm

from index.analysis import analyse

_IDS_FILE = "ids.npy"
_NO_ROWS = np.empty(0, dtype=np.int64)
_NO_SCORES = np.empty(0, dtype=np.float32)


class LexicalIndex:
    """BM25 over one segment's passages; row i is the passage whose vector id is `ids[i]` (and
    whose vector is row i of the segment's VectorIndex)."""

    def __init__(self, bm25: bm25s.BM25, ids: np.ndarray) -> None:
        self._bm25 = bm25
        self.ids = ids
        # plain views of the (possibly mapped) postings: slicing a memmap costs more
        scores = bm25.scores if len(ids) else {}
        self._postings = tuple(np.asarray(scores.get(k, [])) for k in ("data", "indices", "indptr"))

    @classmethod
    def build(
        cls, ids: Sequence[int], texts: Sequence[str], progress: bool = False
    ) -> "LexicalIndex":
        """Index `texts` (one per id), with a progress bar if asked; an empty corpus gives an
        index that scores nothing."""
        bm25 = bm25s.BM25()
        if texts:
            shown = tqdm(texts, desc="BM25 analysis", unit="passage", disable=not progress)
            bm25.index([analyse(text) or [""] for text in shown], show_progress=False)
        return cls(bm25, np.asarray(ids, dtype=np.int64))

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """The rows holding an analysed `term` and their BM25 scores (this segment's IDF and
        mean length); empty when the term does not occur."""
        vocabulary_id = self._bm25.vocab_dict.get(term) if len(self.ids) else None
        if vocabulary_id is None:
            return _NO_ROWS, _NO_SCORES
        data, indices, indptr = self._postings
        start, end = int(indptr[vocabulary_id]), int(indptr[vocabulary_id + 1])
        return indices[start:end], data[start:end]

    def save(self, folder: Path) -> None:
        """Write the index as .npy and .json files (no pickle)."""
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / _IDS_FILE, self.ids, allow_pickle=False)
        if len(self.ids):
            self._bm25.save(str(folder), allow_pickle=False, show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> "LexicalIndex":
        """Read an index written by `save`; its postings are mapped, not read: a question
        touches only its terms' pages."""
        ids = np.load(folder / _IDS_FILE, allow_pickle=False)
        if not len(ids):
            return cls(bm25s.BM25(), ids)
        return cls(bm25s.BM25.load(str(folder), allow_pickle=False, mmap=True), ids)
