"""The FAISS vector index: exact inner product over normalised vectors, with removable ids."""

from collections.abc import Collection
from pathlib import Path
from typing import Any

import faiss
import numpy as np


class VectorIndex:
    """Passage vectors keyed by 60-bit ids; supports add, remove and filtered search."""

    def __init__(self, index: Any) -> None:
        self._index: Any = index  # faiss.IndexIDMap2; faiss's bundled stubs are too narrow

    @classmethod
    def empty(cls, dimension: int) -> "VectorIndex":
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)))

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def copy(self) -> "VectorIndex":
        return VectorIndex(faiss.clone_index(self._index))

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self._index.add_with_ids(
            np.ascontiguousarray(vectors, dtype=np.float32), ids.astype(np.int64)
        )

    def remove(self, ids: Collection[int]) -> int:
        """Remove `ids`; returns how many were present."""
        return int(self._index.remove_ids(np.fromiter(ids, dtype=np.int64, count=len(ids))))

    def vector(self, vector_id: int) -> np.ndarray:
        return np.asarray(self._index.reconstruct(int(vector_id)))

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top `k` (ids, scores) for one query vector, restricted to the `allowed` ids if
        given."""
        k = min(k, len(self))
        if k == 0 or (allowed is not None and not len(allowed)):
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        params = None
        if allowed is not None:
            params = faiss.SearchParameters()
            params.sel = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
        scores, ids = self._index.search(query.reshape(1, -1).astype(np.float32), k, params=params)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path) -> "VectorIndex":
        index = faiss.read_index(str(path))
        if not isinstance(index, faiss.IndexIDMap2):
            index = faiss.downcast_index(index)
        return cls(index)
