"""Recall@10 of the served passage index against exact float32 search over the vectors as
they were embedded (read back from the embedding cache)."""

from collections.abc import Sequence

import numpy as np

from index.embedding import Embedder
from index.embedding_cache import EmbeddingCache
from index.snapshot import Snapshot

K = 10


def recall_at_10(
    snapshot: Snapshot, cache: EmbeddingCache, embedder: Embedder, questions: Sequence[str]
) -> float:
    """Mean share of each question's exact top 10 passages that the index returns."""
    passages = list(snapshot.passages.values())
    cached = cache.get([p.text for p in passages])
    ids = np.array([p.vector_id for p in passages], dtype=np.int64)
    exact = np.vstack([cached[i][0] for i in range(len(passages))])
    found = []
    for question in questions:
        vector = embedder.embed_query(question)
        truth = ids[np.argsort(-(exact @ vector), kind="stable")[:K]]
        rows, _ = snapshot.vectors.search(vector, K)
        returned = snapshot.rows.ids[rows]
        found.append(len(set(truth.tolist()) & set(returned.tolist())) / K)
    return float(np.mean(found))
