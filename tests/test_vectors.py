"""A segment's passage vectors: exact below `APPROXIMATE_FROM` rows, a quantised scan (in
shards scanned in parallel) refined by the exact vectors above, the same through a save and a
load."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from index.vectors import APPROXIMATE_FROM, VectorIndex

DIMENSION = 384
SHARD_ROWS = 10_000  # three shards of codes in the large index


def unit_rows(count: int, seed: int) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((count, DIMENSION)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def large() -> tuple[np.ndarray, VectorIndex]:
    vectors = unit_rows(APPROXIMATE_FROM + 5_000, seed=1)
    return vectors, VectorIndex.build(vectors, DIMENSION, shard_rows=SHARD_ROWS)


def exact_top(vectors: np.ndarray, query: np.ndarray, k: int, allowed: np.ndarray) -> set[int]:
    scores = np.where(allowed, vectors @ query, -np.inf)
    return set(np.argsort(-scores, kind="stable")[:k].tolist())


def test_small_segments_score_every_vector() -> None:
    vectors = unit_rows(500, seed=2)
    index = VectorIndex.build(vectors, DIMENSION)
    assert not index.approximate
    for query in unit_rows(5, seed=3):
        rows, _ = index.search(query, 10)
        assert set(rows.tolist()) == exact_top(vectors, query, 10, np.ones(500, dtype=bool))


def test_large_segments_find_the_exact_top_10_with_high_recall(
    large: tuple[np.ndarray, VectorIndex],
) -> None:
    vectors, index = large
    assert index.approximate
    queries = unit_rows(40, seed=4)
    everything = np.ones(len(vectors), dtype=bool)
    shared = [
        len(set(index.search(q, 10)[0].tolist()) & exact_top(vectors, q, 10, everything))
        for q in queries
    ]
    recall = np.mean(shared) / 10
    assert recall >= 0.95
    rows, scores = index.search(queries[0], 10)
    assert np.allclose(scores, vectors[rows] @ queries[0], atol=1e-3)  # exact scores, best first
    assert np.all(np.diff(scores) <= 0)


@pytest.mark.parametrize("kept_every", [2, 1_000])
def test_large_segments_return_only_allowed_rows(
    large: tuple[np.ndarray, VectorIndex], kept_every: int
) -> None:
    """A mask that keeps most rows filters the proposals; one that keeps few is searched
    exactly (the proposals would not hold enough allowed rows)."""
    vectors, index = large
    allowed = np.zeros(len(vectors), dtype=bool)
    allowed[::kept_every] = True
    query = unit_rows(1, seed=5)[0]
    rows, _ = index.search(query, 10, allowed)
    assert len(rows) == 10 and allowed[rows].all()
    if kept_every > 2:
        assert set(rows.tolist()) == exact_top(vectors, query, 10, allowed)


def test_large_segments_load_as_they_were_saved(
    large: tuple[np.ndarray, VectorIndex], tmp_path: Path
) -> None:
    vectors, index = large
    written = index.save(tmp_path / "vectors.faiss")
    assert [p.name for p in written] == ["vectors.faiss", *(f"scan-{i}.faiss" for i in range(3))]
    loaded = VectorIndex.load(tmp_path / "vectors.faiss")
    assert loaded.approximate and len(loaded) == loaded.scanned == len(vectors)
    query = unit_rows(1, seed=6)[0]
    assert np.array_equal(loaded.search(query, 10)[0], index.search(query, 10)[0])
    some = np.array([3, 70, 20_001])
    assert np.allclose(loaded.vectors(some), vectors[some], atol=1e-3)


def test_every_shard_proposes_rows(large: tuple[np.ndarray, VectorIndex]) -> None:
    """A query close to a row of each shard finds that row first, whichever shard holds it."""
    vectors, index = large
    for row in (5, SHARD_ROWS + 7, 2 * SHARD_ROWS + 11, len(vectors) - 1):
        rows, scores = index.search(vectors[row], 3)
        assert rows[0] == row and scores[0] == pytest.approx(1.0, abs=1e-3)


def test_shards_are_searched_from_several_threads_at_once(
    large: tuple[np.ndarray, VectorIndex],
) -> None:
    _, index = large
    queries = unit_rows(40, seed=7)
    alone = [index.search(q, 10)[0].tolist() for q in queries]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda q: index.search(q, 10)[0].tolist(), queries))
    assert together == alone
