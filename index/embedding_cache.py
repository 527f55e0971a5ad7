"""The embedding cache: vectors (and the reader's token vectors) already computed, on disk in
SQLite, keyed by model id, reader id and a hash of the text. A build that crashed resumes from
it, and a rebuild of unchanged text embeds nothing."""

import hashlib
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

import numpy as np

SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    model TEXT NOT NULL, reader TEXT NOT NULL, digest BLOB NOT NULL,
    vector BLOB NOT NULL, tokens BLOB NOT NULL, PRIMARY KEY (model, reader, digest)
) WITHOUT ROWID
"""

Embedded = tuple[np.ndarray, np.ndarray]
"""A text's vector (float32) and its reader token vectors (float16; empty without a reader)."""


class EmbeddingCache:
    """Embeddings of one model (and reader, "" for none) by text; safe across processes."""

    def __init__(self, path: Path, model: str, reader: str = "", dimension: int = 0) -> None:
        self.path = path
        self.model = model
        self.reader = reader
        self.dimension = dimension
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(SCHEMA)

    def for_reader(self, reader: str, dimension: int) -> "EmbeddingCache":
        """The same cache, for the vectors and token vectors of `reader`."""
        return EmbeddingCache(self.path, self.model, reader, dimension)

    def get(self, texts: Sequence[str]) -> dict[int, Embedded]:
        """The cached embeddings of `texts`, by position in `texts`."""
        positions: dict[bytes, list[int]] = {}
        for i, text in enumerate(texts):
            positions.setdefault(_digest(text), []).append(i)
        found: dict[int, Embedded] = {}
        keys = list(positions)
        with closing(self._connect()) as db:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                rows = db.execute(
                    "SELECT digest, vector, tokens FROM embeddings WHERE model = ? AND reader = ?"
                    f" AND digest IN ({','.join('?' * len(chunk))})",
                    (self.model, self.reader, *chunk),
                )
                for digest, vector, tokens in rows:
                    embedded = self._decode(vector, tokens)
                    found |= {i: embedded for i in positions[digest]}
        return found

    def put(self, texts: Sequence[str], vectors: np.ndarray, tokens: Sequence[np.ndarray]) -> None:
        """Remember the embeddings of `texts` (one transaction: all or nothing)."""
        rows = [
            (
                self.model,
                self.reader,
                _digest(text),
                np.asarray(vector, dtype=np.float32).tobytes(),
                np.asarray(token, dtype=np.float16).tobytes(),
            )
            for text, vector, token in zip(texts, vectors, tokens, strict=True)
        ]
        with closing(self._connect()) as db, db:
            db.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?, ?)", rows)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30.0)

    def _decode(self, vector: bytes, tokens: bytes) -> Embedded:
        token_array = np.frombuffer(tokens, dtype=np.float16)
        shape = (-1, self.dimension) if self.dimension else (0, 0)
        return np.frombuffer(vector, dtype=np.float32), token_array.reshape(shape)


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()
