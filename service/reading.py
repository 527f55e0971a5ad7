"""Choosing the answer sentence among the candidates of the best passages: with the learned
reader when the index holds its token vectors, else with the formula of `AnswerTuning`."""

from dataclasses import dataclass

import numpy as np

from index.search import Hit, Searcher
from service.candidates import Candidate, Question, candidates
from service.reader import Reader, Reading


@dataclass(frozen=True)
class AnswerTuning:
    """How the answer sentence is chosen when no reader is loaded, and when the evidence
    counts as too weak.

    Each sentence of the `passages_read` best passages scores
    `cosine(query, sentence) + term_weight * (IDF-weighted share of query terms it contains)
    + type_boost * (it holds a new date/number when the question asks for one)`,
    minus `heading_penalty` for a heading or a question. The answer's confidence is the best
    score plus `known_weight * (IDF-weighted share of query terms found anywhere in the
    corpus)`; below `threshold` the answer is withheld. Calibrated on eval/questions.jsonl
    (see eval/README.md). With the reader (service/reader.py) the reader scores instead, and
    its own threshold, calibrated on the training corpus, decides.
    """

    passages_read: int = 3
    term_weight: float = 0.30
    type_boost: float = 0.08
    heading_penalty: float = 0.05
    known_weight: float = 0.10
    min_sentence_chars: int = 25
    threshold: float = 0.81


@dataclass(frozen=True)
class Pick:
    """The best candidate, how sure the picker is, and whether that is enough to answer."""

    candidate: Candidate
    confidence: float
    answered: bool


def pick_by_reader(
    searcher: Searcher,
    question: Question,
    question_tokens: np.ndarray,
    hits: list[Hit],
    reader: Reader,
    min_chars: int,
) -> Pick | None:
    """The reader's best sentence; confidence is its probability of answering."""
    found = candidates(searcher, question, hits, reader.passages_read, min_chars)
    if not found:
        return None
    scores = reader.score(question, question_tokens, found, [_reading(searcher, c) for c in found])
    best = int(np.argmax(scores))
    confidence = float(1.0 / (1.0 + np.exp(-scores[best])))
    return Pick(found[best], confidence, confidence >= reader.threshold)


def pick_by_formula(
    searcher: Searcher, question: Question, hits: list[Hit], tuning: AnswerTuning
) -> Pick | None:
    """The best sentence by cosine, shared terms and answer type (see `AnswerTuning`)."""
    found = candidates(searcher, question, hits, tuning.passages_read, tuning.min_sentence_chars)
    if not found:
        return None

    def score(c: Candidate) -> float:
        return (
            c.cosine
            + tuning.term_weight * c.shared
            + tuning.type_boost * c.typed
            - tuning.heading_penalty * c.heading
        )

    best = max(found, key=score)
    confidence = score(best) + tuning.known_weight * searcher.known_share(question.weights)
    return Pick(best, confidence, confidence >= tuning.threshold)


def _reading(searcher: Searcher, candidate: Candidate) -> Reading:
    snapshot = searcher.snapshot
    table = snapshot.sentences[candidate.doc_id]
    rows = [r for r in (candidate.row - 1, candidate.row + 1) if 0 <= r < len(table.tokens)]
    neighbours = [table.tokens[r] for r in rows if len(table.tokens[r])]
    sentence = table.tokens[candidate.row]
    return Reading(
        sentence,
        np.vstack(neighbours) if neighbours else sentence[:0],
        snapshot.titles[candidate.doc_id],
    )
