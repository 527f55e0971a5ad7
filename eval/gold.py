"""The gold question set: loading and checking `eval/questions.jsonl` against the corpus."""

import json
import re
from dataclasses import dataclass
from pathlib import Path

from corpus import Article
from eval.metrics import matches, normalise
from index.sentences import sentence_spans

QUESTIONS_FILE = Path(__file__).parent / "questions.jsonl"
KINDS = ("factoid", "paraphrase", "temporal", "multi-source", "english", "no-answer")
_FIELDS = {"id", "question", "kind", "answers", "doc_ids", "contradiction"}


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    kind: str
    answers: tuple[str, ...]
    doc_ids: tuple[str, ...]
    contradiction: bool = False
    note: str = ""

    @property
    def answerable(self) -> bool:
        return self.kind != "no-answer"


class GoldSetError(ValueError):
    """The gold set has problems; `problems` lists every one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the gold set:\n" + "\n".join(problems))
        self.problems = problems


def load_questions(path: Path = QUESTIONS_FILE) -> list[Question]:
    """Parse the file; raise GoldSetError listing every malformed line."""
    questions, problems = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or not _FIELDS <= set(record) <= _FIELDS | {"note"}:
                raise ValueError(f"fields must be {sorted(_FIELDS)} and optionally note")
            questions.append(
                Question(
                    record["id"],
                    record["question"],
                    record["kind"],
                    tuple(record["answers"]),
                    tuple(record["doc_ids"]),
                    record["contradiction"],
                    record.get("note", ""),
                )
            )
        except ValueError as error:
            problems.append(f"line {number}: {error}")
    if problems:
        raise GoldSetError(problems)
    return questions


def check_questions(questions: list[Question], articles: list[Article]) -> list[str]:
    """Every problem found checking the questions against the articles' sentences (empty if
    none), then warnings prefixed 'warning:' for regexes that also match unlisted articles."""
    sentences = {
        a.doc_id: [normalise(a.text[s:e]) for s, e in sentence_spans(a.text)] for a in articles
    }
    problems: list[str] = []
    warnings: list[str] = []
    for number, q in enumerate(questions, start=1):
        say = lambda message, q=q: problems.append(f"{q.id}: {message}")  # noqa: E731
        if q.id != f"q{number:03d}":
            say(f"id should be q{number:03d}")
        if q.kind not in KINDS:
            say(f"unknown kind {q.kind!r}")
        if not q.question.strip():
            say("empty question")
        if not q.answerable:
            if q.answers or q.doc_ids:
                say("a no-answer question has no answers and no doc_ids")
            continue
        if not q.answers or not q.doc_ids:
            say("an answerable question needs answers and doc_ids")
        if q.contradiction and (len(q.answers) < 2 or not q.note):
            say("a contradiction needs one regex per claim and a note")
        for pattern in q.answers:
            try:
                re.compile(pattern)
            except re.error as error:
                say(f"regex {pattern!r} does not compile: {error}")
                continue
            if pattern != normalise(pattern):
                say(f"regex {pattern!r} is not normalised (lowercase, no accents, plain ')")
            for doc_id, doc_sentences in sentences.items():
                hit = any(re.search(pattern, s) for s in doc_sentences)
                if hit and doc_id not in q.doc_ids:
                    warnings.append(f"warning: {q.id}: {pattern!r} also matches unlisted {doc_id}")
        for doc_id in q.doc_ids:
            if doc_id not in sentences:
                say(f"unknown doc_id {doc_id}")
            elif not any(matches(s, q.answers) for s in sentences[doc_id]):
                say(f"no answer regex matches a sentence of {doc_id}")
    return problems + warnings
