"""Choosing the answer sentence among the candidates of the best passages: with the learned
reader when the index holds its token vectors, else with the formula of `AnswerTuning`."""

from dataclasses import dataclass

import numpy as np

from index.search import Hit, Searcher
from service.candidates import Candidate, Question, candidates
from service.reader import Reader


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
    (see eval/README.md). With the reader (service/reader.py), its logit times the weight
    chosen by cross-validation on the training corpus is added to each sentence's score.
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
    tuning: AnswerTuning,
) -> Pick | None:
    """The best sentence by the formula plus the reader's weighted logit; the formula's
    confidence still decides no_answer (the reader's own separated no worse, measured)."""
    found = candidates(searcher, question, hits, reader.passages_read, tuning.min_sentence_chars)
    if not found:
        return None
    readings = [searcher.snapshot.reader_tokens(c.doc_id, c.row) for c in found]
    logits = reader.score(question, question_tokens, found, readings)
    formula = np.array([formula_score(c, tuning) for c in found])
    best = int(np.argmax(formula + reader.weight * logits))
    return _pick(searcher, question, found[best], tuning)


def pick_by_formula(
    searcher: Searcher, question: Question, hits: list[Hit], tuning: AnswerTuning
) -> Pick | None:
    """The best sentence by cosine, shared terms and answer type (see `AnswerTuning`)."""
    found = candidates(searcher, question, hits, tuning.passages_read, tuning.min_sentence_chars)
    if not found:
        return None
    return _pick(searcher, question, max(found, key=lambda c: formula_score(c, tuning)), tuning)


def formula_score(c: Candidate, tuning: AnswerTuning) -> float:
    return (
        c.cosine
        + tuning.term_weight * c.shared
        + tuning.type_boost * c.typed
        - tuning.heading_penalty * c.heading
    )


def _pick(searcher: Searcher, question: Question, best: Candidate, tuning: AnswerTuning) -> Pick:
    """`best` with the formula's confidence: its score plus the share of the question's terms
    the corpus knows at all."""
    known = searcher.known_share(question.weights)
    confidence = formula_score(best, tuning) + tuning.known_weight * known
    return Pick(best, confidence, confidence >= tuning.threshold)
