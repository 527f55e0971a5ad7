"""Ranking and reading, with one tuning object (`RankingTuning`).

`rank_passages` fuses the index's candidate passages by reciprocal rank and collapses
near-duplicates; the answer sentence is then chosen among the candidate sentences of the best
passages by the answer formula (cosine, shared terms, answer type) plus, when it is loaded,
the learned reader's weighted logit, and the formula's confidence decides whether to answer."""

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from index.chunking import Passage
from index.query import Filters, Mode
from index.search import QueryVector, Searcher
from service.candidates import Candidate, Question, candidates
from service.reader import Reader
from service.tuning import RankingTuning


@dataclass(frozen=True)
class Hit:
    """A ranked passage; `score` is the fused score, `dense`/`lexical` the raw signals."""

    passage: Passage
    score: float
    dense: float
    lexical: float


def rank_passages(
    searcher: Searcher,
    query: str,
    k: int,
    mode: Mode = Mode.HYBRID,
    filters: Filters = Filters(),
    vector: QueryVector | None = None,
    tuning: RankingTuning = RankingTuning(),
) -> list[Hit]:
    """The best `k` distinct passages for `query` (whose `vector` is embedded if not given;
    see `Searcher.candidates`)."""
    tuning = tuning.for_question(query)
    found = searcher.candidates(query, vector, mode, filters, max(tuning.candidates, 4 * k))
    rankings: list[tuple[float, dict[int, float]]] = []
    if mode is not Mode.LEXICAL:
        rankings.append((tuning.dense_weight, found.dense))
        rankings.append((tuning.sentence_weight, found.sentence))
    if mode is not Mode.DENSE:
        rankings.append((tuning.lexical_weight, found.lexical))
    ranked = _fuse(rankings, tuning.rrf_k)
    kept = collapse_duplicates((found.passage(row) for row, _ in ranked), k)
    hits = []
    for position in kept:
        row, score = ranked[position]
        hits.append(Hit(found.passage(row), score, found.cosine(row), float(found.bm25[row])))
    return hits


def _fuse(rankings: list[tuple[float, dict[int, float]]], k: int) -> list[tuple[int, float]]:
    """Reciprocal rank fusion, normalised so that 1.0 means first in every ranking."""
    best = sum(weight for weight, _ in rankings) / (k + 1) or 1.0
    fused: dict[int, float] = {}
    for weight, scores in rankings:
        for rank, row in enumerate(sorted(scores, key=lambda r: (-scores[r], r)), start=1):
            fused[row] = fused.get(row, 0.0) + weight / (k + rank)
    return sorted(
        ((row, score / best) for row, score in fused.items()), key=lambda x: (-x[1], x[0])
    )


def collapse_duplicates(passages: Iterable[Passage], limit: int, overlap: float = 0.5) -> list[int]:
    """Positions of the first `limit` passages that do not repeat a better one: the same
    article with a mostly shared span, or near-identical text elsewhere (a syndicated copy:
    `NEAR_COPY` of their word trigrams shared). Reads `passages` only as far as it needs."""
    kept: list[int] = []
    kept_passages: list[Passage] = []
    shingles: list[frozenset[int]] = []
    for position, passage in enumerate(passages):
        if len(kept) == limit:
            break
        if any(_overlaps(passage, other, overlap) for other in kept_passages):
            continue
        mine = _shingles(passage.text)
        if any(_jaccard(mine, other) >= NEAR_COPY for other in shingles):
            continue
        kept.append(position)
        kept_passages.append(passage)
        shingles.append(mine)
    return kept


NEAR_COPY = 0.8


def _shingles(text: str) -> frozenset[int]:
    """The hashes of the text's word trigrams (a tuple's hash is not kept: sets of them would
    hash every trigram again at each comparison)."""
    words = text.lower().split()
    trigrams = zip(words, words[1:], words[2:], strict=False)
    return frozenset(map(hash, trigrams)) or frozenset({hash(tuple(words))})


def _jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared) if a or b else 1.0


def _overlaps(a: Passage, b: Passage, threshold: float) -> bool:
    if a.doc_id != b.doc_id:
        return False
    shared = min(a.end, b.end) - max(a.start, b.start)
    return shared > threshold * min(a.end - a.start, b.end - b.start)


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
    tuning: RankingTuning,
) -> Pick | None:
    """The best sentence by the formula plus the reader's weighted logit; the formula's
    confidence still decides no_answer (the reader's own separated no worse, measured)."""
    tuning = tuning.for_question(question.text)
    best_passages = [h.passage for h in hits[: reader.passages_read]]
    found = candidates(searcher, question, best_passages, tuning.min_sentence_chars)
    if not found:
        return None
    readings = [searcher.snapshot.reader_tokens(c.doc_id, c.row) for c in found]
    logits = reader.score(question, question_tokens, found, readings)
    formula = np.array([formula_score(c, tuning) for c in found])
    best = int(np.argmax(formula + reader.weight * logits))
    return _pick(searcher, question, found[best], tuning)


def pick_by_formula(
    searcher: Searcher, question: Question, hits: list[Hit], tuning: RankingTuning
) -> Pick | None:
    """The best sentence by cosine, shared terms and answer type (see `RankingTuning`)."""
    tuning = tuning.for_question(question.text)
    best_passages = [h.passage for h in hits[: tuning.passages_read]]
    found = candidates(searcher, question, best_passages, tuning.min_sentence_chars)
    if not found:
        return None
    return _pick(searcher, question, max(found, key=lambda c: formula_score(c, tuning)), tuning)


def formula_score(c: Candidate, tuning: RankingTuning) -> float:
    return (
        c.cosine
        + tuning.term_weight * c.shared
        + tuning.type_boost * (c.typed + c.counted)
        - tuning.heading_penalty * c.heading
    )


def confidence(best: Candidate, known: float, tuning: RankingTuning) -> float:
    """The formula's confidence in `best`: its score plus `known`, the share of the
    question's terms the corpus knows at all, weighted."""
    return formula_score(best, tuning) + tuning.known_weight * known


def _pick(searcher: Searcher, question: Question, best: Candidate, tuning: RankingTuning) -> Pick:
    """`best` with the formula's confidence, answered if it reaches the threshold."""
    sure = confidence(best, searcher.known_share(question.weights), tuning)
    return Pick(best, sure, sure >= tuning.threshold)
