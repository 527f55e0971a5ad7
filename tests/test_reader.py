"""The reader: NumPy inference equals the torch network it was trained as; labels and
calibration on small hand-made cases."""

import numpy as np
import pytest

from corpus.training import Evidence, TrainingQuestion
from index.answer_types import asked
from index.snapshot import ReaderTokens
from service import reader_training as rt
from service.candidates import Candidate, Question
from service.reader import Reader


def candidate(start: int, end: int, rank: int = 0, doc_id: str = "d") -> Candidate:
    return Candidate(
        doc_id, start, end, "x" * (end - start), 1, rank, 0.8, 0.3, False, True, False, True, False
    )


def test_numpy_reader_scores_like_the_trained_network() -> None:
    rng = np.random.default_rng(0)
    table = rt.TokenTable()
    rows = [table.row("passage", f"text {i}") for i in range(6)]
    query = table.row("query", "question")
    table.rows += [
        rng.normal(size=(rng.integers(10, 16), 384)).astype(np.float32) for _ in range(7)
    ]
    raw = list(table.rows)
    found = [candidate(0, 40), candidate(50, 90, rank=1), candidate(100, 130, rank=2)]
    question = Question("Quand ?", np.zeros(384, np.float32), {}, asked("Quand ?"))
    from service.reader import scalar_features

    example = rt.Example(
        TrainingQuestion("t", "Quand ?", "fr", "date", ()),
        query,
        found,
        [True, False, False],
        rows[:3],
        [(0, rows[3]), (rows[0], rows[4]), (rows[1], 0)],
        [rows[5]] * 3,
        np.vstack([scalar_features(c, question) for c in found]),
        known=1.0,
    )
    basis = table.reduce()
    net = rt.ReaderNet(rt.BASIS, seed=1)
    expected = rt.predict(net, [example], table)[0]

    card = {"id": "test", "weight": 0.1, "passages_read": 3, "no_answer": {"threshold": 0.8}}
    reader = Reader(net.numpy_weights(basis), card)
    readings = [
        ReaderTokens(
            reader.project(raw[example.sentence[i]]),
            reader.project(np.vstack([raw[r] for r in example.neighbours[i] if r])),
            reader.project(raw[example.title[i]]),
        )
        for i in range(3)
    ]
    got = reader.score(question, raw[query], found, readings)
    assert got.shape == (3,)
    assert np.allclose(got, expected, atol=2e-2), (got, expected)  # float16 token storage


def test_a_candidate_answers_when_it_mostly_covers_an_answer_sentence() -> None:
    item = TrainingQuestion("t", "q", "fr", "person", (Evidence("d", 100, 200, "x"),))
    assert rt.answers(candidate(100, 200), item)
    assert rt.answers(candidate(90, 190), item)
    assert not rt.answers(candidate(180, 260), item)
    assert not rt.answers(candidate(100, 200, doc_id="other"), item)


def test_the_reader_weight_is_the_one_that_picks_the_most_answers() -> None:
    def example(labels: list[bool]) -> rt.Example:
        item = TrainingQuestion("t", "q", "fr", "x", (Evidence("d", 0, 10, "x"),))
        found = [candidate(0, 30), candidate(40, 70)]  # equal for the formula
        return rt.Example(
            item,
            0,
            found,
            labels,
            [0, 0],
            [(0, 0)] * 2,
            [0] * 2,
            np.zeros((2, 10), np.float32),
            1.0,
        )

    examples = [example([False, True]), example([False, True]), example([True, False])]
    helpful = [np.array([0.0, 1.0]), np.array([0.0, 2.0]), np.array([1.0, 0.0])]
    assert rt.choose_weight(examples, helpful) > 0
    combined = [rt.baseline(e) + s for e, s in zip(examples, helpful, strict=True)]
    assert rt.figures(examples, combined)["all"] == 1
    misleading = [-s for s in helpful]
    assert rt.choose_weight(examples, misleading) == 0.0


def test_no_answer_is_calibrated_on_the_confidence_of_each_questions_pick() -> None:
    def example(answerable: bool, known: float) -> rt.Example:
        evidence = (Evidence("d", 0, 10, "x"),) if answerable else ()
        item = TrainingQuestion("t", "q", "fr", "x", evidence)
        found = [candidate(0, 30), candidate(40, 70)]
        return rt.Example(
            item,
            0,
            found,
            [answerable, False],
            [0, 0],
            [(0, 0)] * 2,
            [0] * 2,
            np.zeros((2, 10), np.float32),
            known,
        )

    examples = [example(True, 1.0), example(True, 0.5), example(False, 0.0)]
    scores = [np.array([1.0, 0.0])] * 3
    calibration = rt.calibrate_no_answer(examples, scores)
    formula = rt.baseline(examples[0])[0]  # both candidates score the same by the formula
    tuning = rt.TUNING
    lowest_answerable = formula + tuning.known_weight * 0.5
    assert calibration.threshold == pytest.approx(lowest_answerable, abs=1e-3)
    assert calibration.answerable_withheld == 0.0
    assert calibration.unanswerable_caught == 1.0  # its confidence lacks the known share
