"""Scoring one response (the HTTP contract's JSON shape) against one gold question."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eval.gold import Question
from eval.metrics import (
    citation_correct,
    hit_at,
    matches,
    mean,
    ndcg_at,
    percentile,
    precision_recall,
    reciprocal_rank,
)

CUTOFFS = (1, 3, 5, 10)


@dataclass(frozen=True)
class Outcome:
    """How one configuration did on one question."""

    question: Question
    relevant: tuple[bool, ...]
    answer: str | None
    answer_correct: bool
    citation_correct: bool
    flagged_no_answer: bool
    took_ms: float
    top: tuple[str, ...]

    @property
    def failed(self) -> bool:
        if not self.question.answerable:
            return not self.flagged_no_answer
        return self.flagged_no_answer or self.relevant[:1] != (True,) or not self.answer_correct


def score(question: Question, response: Mapping[str, Any], documents: Mapping[str, str]) -> Outcome:
    """Score a /search response; `documents` maps doc_id to the article text."""
    passages = response["passages"]
    relevant = tuple(question.answerable and matches(p["text"], question.answers) for p in passages)
    answer = response.get("answer")
    text = answer["text"] if answer else None
    cited = False
    if answer:
        c = answer["citation"]
        cited = citation_correct(
            text or "",
            c["doc_id"],
            c["start"],
            c["end"],
            question.doc_ids,
            documents.get(c["doc_id"], ""),
        )
    return Outcome(
        question=question,
        relevant=relevant,
        answer=text,
        answer_correct=bool(text) and question.answerable and matches(text or "", question.answers),
        citation_correct=cited,
        flagged_no_answer=bool(response["no_answer"]),
        took_ms=float(response["took_ms"]),
        top=tuple(p["text"][:160] for p in passages[:3]),
    )


def summarise(outcomes: Sequence[Outcome]) -> dict[str, float]:
    """The metrics over `outcomes`; retrieval and answer metrics use answerable questions only."""
    answerable = [o for o in outcomes if o.question.answerable]
    metrics = {f"hit@{k}": mean([hit_at(o.relevant, k) for o in answerable]) for k in CUTOFFS}
    precision, recall = precision_recall(
        [o.flagged_no_answer for o in outcomes], [not o.question.answerable for o in outcomes]
    )
    latencies = [o.took_ms for o in outcomes]
    return metrics | {
        "mrr": mean([reciprocal_rank(o.relevant) for o in answerable]),
        "ndcg@10": mean([ndcg_at(o.relevant, 10, len(o.question.doc_ids)) for o in answerable]),
        "answer_accuracy": mean([float(o.answer_correct) for o in answerable]),
        "citation_accuracy": mean([float(o.citation_correct) for o in answerable]),
        "no_answer_precision": precision,
        "no_answer_recall": recall,
        "answerable_flagged": float(sum(o.flagged_no_answer for o in answerable)),
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
        "questions": float(len(outcomes)),
    }
