import math

import pytest

from eval.metrics import (
    citation_correct,
    hit_at,
    matches,
    ndcg_at,
    normalise,
    percentile,
    precision_recall,
    reciprocal_rank,
)

RANKING = [False, False, True, False, True]


def test_hit_at_k() -> None:
    assert [hit_at(RANKING, k) for k in (1, 2, 3, 5, 10)] == [0.0, 0.0, 1.0, 1.0, 1.0]
    assert hit_at([], 5) == 0.0


def test_reciprocal_rank() -> None:
    assert reciprocal_rank(RANKING) == pytest.approx(1 / 3)
    assert reciprocal_rank([True]) == 1.0
    assert reciprocal_rank([False, False]) == 0.0


def test_ndcg() -> None:
    expected = (1 / math.log2(4) + 1 / math.log2(6)) / (1 / math.log2(2) + 1 / math.log2(3))
    assert ndcg_at(RANKING, 10, total_relevant=2) == pytest.approx(expected)
    assert ndcg_at([True, True], 10, total_relevant=2) == 1.0
    assert ndcg_at([False, True], 1, total_relevant=1) == 0.0
    assert ndcg_at([True, True, True], 10, total_relevant=1) == 1.0


def test_normalise_and_matches() -> None:
    assert normalise("L’Élysée  a dit\u00a0« OUI »") == "l'elysee a dit « oui »"
    assert matches("Emmett Shear a été nommé PDG", ["nomme pdg"])
    assert not matches("Emmett Shear", ["murati"])
    assert matches("Bret Taylor", ["(bret|brett) taylor"])


def test_citation_correct() -> None:
    document = "Sam Altman revient. Emmett Shear part."
    assert citation_correct("Emmett Shear part.", "d1", 20, 38, ["d1"], document)
    assert not citation_correct("Emmett Shear part.", "d2", 20, 38, ["d1"], document)
    assert not citation_correct("Emmett Shear part.", "d1", 19, 38, ["d1"], document)
    assert not citation_correct("x", "d1", 30, 99, ["d1"], document)


def test_no_answer_precision_and_recall() -> None:
    flagged = [True, True, False, False]
    truth = [True, False, True, False]
    assert precision_recall(flagged, truth) == (0.5, 0.5)
    assert precision_recall([False, False], [False, False]) == (1.0, 1.0)


def test_percentile() -> None:
    values = [10.0, 20.0, 30.0, 40.0]
    assert percentile(values, 50) == 25.0
    assert percentile(values, 0) == 10.0 and percentile(values, 100) == 40.0
    assert percentile(values, 95) == pytest.approx(38.5)
    assert percentile([], 50) == 0.0
