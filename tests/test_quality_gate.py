"""The quality gate: hybrid search on the built-in corpus must hold the committed thresholds."""

from dataclasses import asdict

import pytest

from corpus import Article
from eval.gold import check_questions, load_questions
from eval.news import load_news_questions, news_metrics
from eval.runner import load_news_thresholds, load_thresholds
from eval.scoring import score, summarise
from index.embedding import Embedder
from index.query import Mode
from index.snapshot import Snapshot
from service.runtime import make_answerer
from service.settings import Settings

pytestmark = pytest.mark.integration


def test_gold_set_is_consistent_with_the_corpus(articles: list[Article]) -> None:
    problems = check_questions(load_questions(), articles)
    assert [p for p in problems if not p.startswith("warning:")] == []


def test_hybrid_meets_the_committed_thresholds(
    real_snapshot: Snapshot, real_embedder: Embedder, articles: list[Article]
) -> None:
    answerer = make_answerer(Settings(), real_snapshot, real_embedder)
    documents = {a.doc_id: a.text for a in articles}
    outcomes = [
        score(q, asdict(answerer.ask(q.question, 10, Mode.HYBRID)), documents)
        for q in load_questions()
    ]
    metrics = summarise(outcomes)
    print({name: round(value, 3) for name, value in metrics.items()})
    below = {
        name: (round(metrics[name], 3), minimum)
        for name, minimum in load_thresholds().items()
        if metrics[name] < minimum
    }
    assert not below, f"below the quality gate: {below}"


def test_news_metrics_meet_the_committed_thresholds(
    real_snapshot: Snapshot, real_embedder: Embedder
) -> None:
    answerer = make_answerer(Settings(), real_snapshot, real_embedder)
    questions = load_news_questions()
    kinds = [q["kind"] for q in questions]
    assert all(kinds.count(k) >= n for k, n in [("as_of", 15), ("latest", 10), ("conflict", 10)])
    assert kinds.count("supporting") >= 10
    metrics = news_metrics(answerer, questions)
    below = {
        name: (round(metrics[name], 3), minimum)
        for name, minimum in load_news_thresholds().items()
        if metrics[name] < minimum
    }
    assert not below, f"below the news quality gate: {below}"
