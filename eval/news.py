"""News metrics on eval/news_questions.jsonl: the answer as of a day, the latest state, and
the conflicting and supporting sources (`depeche eval` adds them to its report and gate).

Each question has `answers` (regexes, normalised, on the answer sentence) and, by kind,
`conflicting` or `supporting` (regexes a listed sentence must match; for a conflict, an
alternative other than the one the answer matched) and `as_of`.
"""

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

from eval.metrics import mean, normalise
from index.query import Filters, Mode
from service.answering import QuestionAnswerer

NEWS_FILE = Path(__file__).parent / "news_questions.jsonl"


def load_news_questions(path: Path = NEWS_FILE) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def news_metrics(
    answerer: QuestionAnswerer, questions: list[dict[str, Any]], mode: Mode = Mode.HYBRID
) -> dict[str, Any]:
    """as_of_accuracy, latest_state_accuracy, conflict_precision/recall, supporting_recall."""
    outcomes = [_outcome(answerer, q, mode) for q in questions]
    by = {k: [o for o in outcomes if o["kind"] == k] for k in ("as_of", "latest", "conflict")}
    flagged = sum(o["conflicts"] for o in outcomes)
    right = sum(o["right_conflicts"] for o in outcomes)
    return {
        "as_of_accuracy": mean([float(o["correct"]) for o in by["as_of"]]),
        "latest_state_accuracy": mean([float(o["correct"]) for o in by["latest"]]),
        "conflict_recall": mean([float(o["right_conflicts"] > 0) for o in by["conflict"]]),
        "conflict_precision": right / flagged if flagged else 1.0,
        "supporting_recall": mean(
            [float(o["supported"]) for o in outcomes if o["kind"] == "supporting"]
        ),
        "failures": [o for o in outcomes if not o["ok"]],
    }


def _outcome(answerer: QuestionAnswerer, q: dict[str, Any], mode: Mode) -> dict[str, Any]:
    as_of = date.fromisoformat(q["as_of"]) if q.get("as_of") else None
    answer = answerer.ask(q["question"], 5, mode, Filters().as_of(as_of)).answer
    text = normalise(answer.text) if answer else ""
    alternatives = q["answers"][0].split("|")
    matched = next((a for a in alternatives if re.search(a, text)), None)
    conflicts = [normalise(c.text) for c in answer.conflicting] if answer else []
    wanted = [a for a in "|".join(q.get("conflicting", [])).split("|") if a and a != matched]
    right = sum(any(re.search(a, c) for a in wanted) for c in conflicts)
    supporting = [normalise(s.text) for s in answer.supporting] if answer else []
    supported = any(re.search(p, s) for p in q.get("supporting", []) for s in supporting)
    ok = matched is not None and (
        q["kind"] in ("as_of", "latest")
        or (q["kind"] == "conflict" and right > 0)
        or (q["kind"] == "supporting" and supported)
    )
    return {
        "id": q["id"],
        "kind": q["kind"],
        "question": q["question"],
        "as_of": q.get("as_of"),
        "correct": matched is not None,
        "conflicts": len(conflicts),
        "right_conflicts": right,
        "supported": supported,
        "ok": ok,
        "answer": answer.text if answer else None,
    }
