"""A fast deterministic embedder for unit tests: hashed bag of analysed French terms."""

import hashlib
from collections.abc import Sequence

import numpy as np

from index.analysis import analyse


class HashingEmbedder:
    """Vectors whose dot products reflect shared terms; no model, no randomness."""

    def __init__(self, model_id: str = "fake-hashing", dimension: int = 64) -> None:
        self.model_id = model_id
        self.dimension = dimension

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        return np.vstack([self._embed(text) for text in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed(text)

    def _embed(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dimension, dtype=np.float32)
        for term in analyse(text) or ["<empty>"]:
            bucket = int(hashlib.md5(term.encode()).hexdigest()[:8], 16) % self.dimension
            vector[bucket] += 1.0
        return vector / np.linalg.norm(vector)
