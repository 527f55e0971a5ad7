"""Ingest: each distinct text embedded once, in batches sorted by length, and a build that
crashed resumes from the embedding cache instead of embedding everything again."""

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from index import ingest
from index.embedding_cache import EmbeddingCache
from index.ingest import embed_texts
from tests.fakes import HashingEmbedder

TEXTS = [f"Article {'très ' * i}long numéro {i} sur la crise d'OpenAI" for i in range(10, 0, -1)]


class CrashingEmbedder(HashingEmbedder):
    """Records each batch it embeds; raises on batch number `crash_at` (if given)."""

    def __init__(self, crash_at: int | None = None) -> None:
        super().__init__()
        self.batches: list[list[str]] = []
        self.crash_at = crash_at

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if len(self.batches) == self.crash_at:
            raise RuntimeError("killed")
        self.batches.append(list(texts))
        return super().embed_passages(texts)


def test_a_crashed_build_resumes_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest, "BATCH", 4)
    cache = EmbeddingCache(tmp_path / "cache.sqlite", "fake-hashing")
    crashing = CrashingEmbedder(crash_at=2)
    with pytest.raises(RuntimeError, match="killed"):
        embed_texts(crashing, TEXTS + TEXTS[:3], cache)
    embedded = [t for batch in crashing.batches for t in batch]
    assert len(embedded) == 8 and embedded == sorted(embedded, key=len)

    resumed = CrashingEmbedder()
    vectors, tokens = embed_texts(resumed, TEXTS + TEXTS[:3], cache)
    assert sorted(t for batch in resumed.batches for t in batch) == sorted(
        set(TEXTS) - set(embedded)
    )
    assert np.allclose(vectors, HashingEmbedder().embed_passages(TEXTS + TEXTS[:3]))
    assert len(tokens) == 13 and all(t.size == 0 for t in tokens)

    again = CrashingEmbedder()
    embed_texts(again, TEXTS, cache)
    assert again.batches == []
    other_model = CrashingEmbedder()
    embed_texts(other_model, TEXTS, EmbeddingCache(tmp_path / "cache.sqlite", "another-model"))
    assert sum(len(b) for b in other_model.batches) == len(TEXTS)


def test_each_distinct_text_is_embedded_once_without_a_cache() -> None:
    embedder = CrashingEmbedder()
    vectors, _ = embed_texts(embedder, TEXTS[:2] * 3)
    assert sorted(t for b in embedder.batches for t in b) == sorted(TEXTS[:2])
    assert vectors.shape == (6, embedder.dimension)
    assert embed_texts(embedder, [])[0].shape == (0, embedder.dimension)


def test_cached_reader_tokens_come_back_as_stored(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "cache.sqlite", "m").for_reader("reader-1", 4)
    tokens = [np.arange(12, dtype=np.float16).reshape(3, 4), np.ones((1, 4), dtype=np.float16)]
    cache.put(["a", "b"], np.eye(2, 3, dtype=np.float32), tokens)
    found = cache.get(["b", "c", "a"])
    assert sorted(found) == [0, 2]
    assert np.array_equal(found[2][1], tokens[0]) and np.array_equal(found[0][1], tokens[1])
    assert np.array_equal(found[2][0], [1, 0, 0])
    assert EmbeddingCache(tmp_path / "cache.sqlite", "m").get(["a"]) == {}
