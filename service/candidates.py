"""Candidate answer sentences: the sentences of the best passages, with what is known of each
before any reading (its cosine to the question, the question terms it shares, its place)."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.analysis import analyse_cached
from index.answer_types import AnswerType, Asked, answers_type, counts, holds
from index.chunking import Passage
from index.search import Searcher


@dataclass(frozen=True)
class Candidate:
    """One sentence `article.text[start:end]` of the passage ranked `passage_rank` (0-based)."""

    doc_id: str
    start: int
    end: int
    text: str
    row: int  # the sentence's row in its article's sentence table
    passage_rank: int
    cosine: float
    shared: float  # IDF-weighted share of the question's terms found in the sentence
    heading: bool
    typed: bool  # holds a new value of each type the question asks for (date, number)
    counted: bool  # holds a number of what the question counts (« dix lits »)
    has_date: bool
    has_number: bool


@dataclass(frozen=True)
class Question:
    """A question as the reader sees it: text, vector, term weights and asked types."""

    text: str
    vector: np.ndarray
    weights: dict[str, float]
    asked: Asked


def candidates(
    searcher: Searcher, question: Question, passages: Sequence[Passage], min_chars: int
) -> list[Candidate]:
    """The sentences of `passages` (best first), each once, at least `min_chars` long."""
    total = sum(question.weights.values()) or 1.0
    found = []
    for rank, sentence in searcher.snapshot.sentences_in(passages):
        if sentence.end - sentence.start < min_chars:
            continue
        terms = set(analyse_cached(sentence.text)) & question.weights.keys()
        found.append(
            Candidate(
                doc_id=sentence.doc_id,
                start=sentence.start,
                end=sentence.end,
                text=sentence.text,
                row=sentence.row,
                passage_rank=rank,
                cosine=float(sentence.vector @ question.vector),
                shared=sum(question.weights[t] for t in terms) / total,
                heading=is_heading(sentence.text),
                typed=answers_type(sentence.text, question.asked),
                counted=counts(sentence.text, question.asked),
                has_date=holds(sentence.text, AnswerType.DATE, question.asked),
                has_number=holds(sentence.text, AnswerType.NUMBER, question.asked),
            )
        )
    return found


def is_heading(sentence: str) -> bool:
    """Questions and lines without closing punctuation (titles, headings) state nothing."""
    return sentence.endswith("?") or not sentence.rstrip('»"”) ').endswith((".", "!", "…", ":"))
