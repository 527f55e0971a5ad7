"""Search without passes over the whole corpus: bm25s top-k, per-row BM25 from the postings,
filters as arrays, best sentences of the candidate passages only."""

import threading
from datetime import date

import numpy as np
import pytest

from index.merged import QueryTerms
from index.query import Filters, Mode
from index.search import Searcher
from index.snapshot import Snapshot
from tests.fakes import HashingEmbedder

QUERY = "Emmett Shear directeur général intérimaire d'OpenAI"


def test_lexical_top_k_is_the_best_rows_by_bm25(fake_snapshot: Snapshot) -> None:
    lexical = fake_snapshot.lexical
    terms = lexical.terms(QUERY)
    every = np.array([lexical.score(terms, row) for row in range(len(lexical.ids))])
    top = lexical.top(terms, 5)
    assert len(top) == 5
    assert np.allclose(sorted(top.values(), reverse=True), sorted(every, reverse=True)[:5])
    assert all(np.isclose(every[row], score) for row, score in top.items())
    mask = np.zeros(len(lexical.ids), dtype=bool)
    mask[::2] = True
    assert set(lexical.top(terms, 50, mask)) == {r for r in np.flatnonzero(mask) if every[r] > 0}
    assert lexical.top(lexical.terms("zzzqqq xxyyzz"), 5) == {}


def test_filters_allow_exactly_the_rows_of_matching_articles(
    fake_snapshot: Snapshot, fake_embedder: HashingEmbedder
) -> None:
    searcher = Searcher(fake_snapshot, fake_embedder)
    cases = [
        Filters(frozenset({"DJABOO", "études tech"})),
        Filters(published_from=date(2023, 11, 22)),
        Filters(published_to=date(2023, 11, 20)),
        Filters(frozenset({"djaboo"}), published_to=date(2023, 11, 21)),
    ]
    for filters in cases:
        allowed = {
            a.doc_id
            for a in fake_snapshot.articles.values()
            if (not filters.sources or (a.source or "").casefold() in {"djaboo", "études tech"})
            and (filters.published_from is None or a.published >= filters.published_from)
            and (filters.published_to is None or a.published <= filters.published_to)
        }
        found = searcher.candidates(QUERY, None, Mode.HYBRID, filters, 50)
        rows = found.dense.keys() | found.lexical.keys() | found.sentence.keys()
        assert {found.passage(r).doc_id for r in rows} <= allowed
        assert searcher.admits_any(filters) == bool(allowed)
    assert searcher.admits_any(cases[1]) and not searcher.admits_any(cases[3])


def test_sentence_signal_is_each_candidates_best_sentence(
    fake_snapshot: Snapshot, fake_embedder: HashingEmbedder
) -> None:
    found = Searcher(fake_snapshot, fake_embedder).candidates(
        QUERY, None, Mode.HYBRID, Filters(), 8
    )
    assert found.sentence.keys() == found.dense.keys() | found.lexical.keys()
    for row, score in found.sentence.items():
        passage = found.passage(row)
        sentences = fake_snapshot.sentences_in([passage])
        assert np.isclose(score, max(float(s.vector @ found.vector) for _, s in sentences))
        assert np.isclose(found.bm25[row], found.lexical.get(row, found.bm25[row]))


def test_sentence_vectors_kept_in_memory_are_bounded(
    fake_snapshot: Snapshot, fake_embedder: HashingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long-running server meets every row in time: only the latest few stay in memory,
    and a row read again after eviction scores the same."""
    monkeypatch.setattr("index.search.SENTENCE_CACHE_ROWS", 3)
    searcher = Searcher(fake_snapshot, fake_embedder)
    vector = fake_embedder.embed_query(QUERY)
    first = {row: float((searcher.sentence_vectors(row) @ vector).max()) for row in range(6)}
    info = searcher.sentence_vectors.cache_info()
    assert info.currsize == 3 and info.misses == 6
    again = {row: float((searcher.sentence_vectors(row) @ vector).max()) for row in range(6)}
    assert again == first


def test_bm25_runs_while_the_query_is_embedded(
    fake_snapshot: Snapshot, fake_embedder: HashingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    lexical = fake_snapshot.lexical
    scored = threading.Event()
    score_every_row = lexical.scores

    def scores(terms: QueryTerms) -> np.ndarray:
        scored.set()
        return score_every_row(terms)

    def vector() -> np.ndarray:
        # returns only once BM25 has run, which it can only do on another thread
        assert scored.wait(timeout=60), "BM25 did not run while the vector was computed"
        return fake_embedder.embed_query(QUERY)

    monkeypatch.setattr(lexical, "scores", scores)
    searcher = Searcher(fake_snapshot, fake_embedder)
    found = searcher.candidates(QUERY, vector, Mode.HYBRID, Filters(), 8)
    given = searcher.candidates(QUERY, fake_embedder.embed_query(QUERY), Mode.HYBRID, Filters(), 8)
    assert found.lexical and found.lexical == given.lexical
    assert found.dense == given.dense and found.sentence == given.sentence
