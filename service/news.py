"""News fields of an answer: the latest state first, what it superseded, and the other
articles that support or contradict it.

Given the question and the chosen answer sentence, the sentences of the passages that best
match the question are read for the fact the question asks (service.facts). Each claim holds
over a span of days: its event date (index.event_dates) if the sentence has one, else any
day up to its article's publication; a claim told as a past state ends the day before. Two
claims of other articles with the same value support each other; with different values
they conflict if their spans overlap, else the earlier one was superseded.
"""

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from index.query import Filters, Mode
from index.search import Searcher
from index.text_folding import fold
from service.facts import Claim, Focus, Kind, claim_in, focus_of, names_in
from service.ranking import rank_passages
from service.state_questions import asks_current_state
from service.syndication import copies, group_key
from service.tuning import RankingTuning

READ_PASSAGES = 30
# A state told as new at publication, and a role a person takes back (French and English).
_NOW = re.compile(
    r"\b(?:pour l'instant|pour le moment|desormais|dorenavant|a present|actuellement"
    r"|aujourd'hui|currently|for now|now|at present)\b"
)
_REGAINED = re.compile(
    r"\b(?:retrouv|repren|reprend|reintegr|regagn|regain|retak|resum|reinstat)\w*"
    r"|\bde retour\b|\bback as\b"
)


@dataclass(frozen=True)
class Evidence:
    """A cited sentence: `article.text[start:end] == text`; `copies` are the doc_ids of the
    article's syndicated copies."""

    doc_id: str
    start: int
    end: int
    text: str
    event_date: date | None
    copies: tuple[str, ...] = ()


@dataclass(frozen=True)
class NewsFields:
    answer: Evidence  # the answer sentence, replaced by the latest state for state questions
    holds_on: date | None  # the day the answer is known to hold (event, else publication date)
    superseded: tuple[Evidence, ...] = ()  # earlier states, newest first
    supporting: tuple[Evidence, ...] = ()  # other articles, same value
    conflicting: tuple[Evidence, ...] = ()  # other articles, another value at the same time


@dataclass(frozen=True)
class _Told:
    evidence: Evidence
    claim: Claim
    group: str  # syndication group
    low: float  # the span of days (ordinals) over which the claim holds
    high: float
    dated: bool
    rank: int


def news_fields(
    searcher: Searcher,
    question: str,
    vector: np.ndarray,
    answer: Evidence,
    mode: Mode = Mode.HYBRID,
    filters: Filters = Filters(),
    tuning: RankingTuning = RankingTuning(),
) -> NewsFields:
    """The news fields of `answer` to `question`, from articles allowed by `filters` (whose
    `published_to` is also the last event day considered) and ranked with `tuning`."""
    answer = replace(answer, copies=copies(searcher.snapshot).get(answer.doc_id, ()))
    focus = focus_of(question)
    if focus is None:
        return NewsFields(answer, _holds_on(searcher, answer))
    told = _claims(searcher, question, vector, focus, mode, filters, tuning)
    state = asks_current_state(question)
    mine = next((t for t in told if _same_sentence(t.evidence, answer)), None)
    if state and told:
        mine = max(told, key=lambda t: (*_recency(t), _support(t, told), -t.rank))
    fallback = mine is None
    if mine is None:  # the answer sentence states no value: the best sentence that does
        mine = min(told, key=lambda t: t.rank, default=None)
    if mine is None:
        return NewsFields(answer, _holds_on(searcher, answer))
    own = {mine.group, group_key(searcher.snapshot, answer.doc_id) if fallback else mine.group}
    others = [t for t in told if t.group not in own and _overlap(t, mine)]
    supporting = _one_per_group(t for t in others if t.claim.agrees(mine.claim))
    conflicting = _one_per_group(t for t in others if not t.claim.agrees(mine.claim))
    superseded = _earlier_states(told, mine) if state else ()
    shown = answer if fallback else mine.evidence
    return NewsFields(
        shown,
        _holds_on(searcher, shown),
        superseded,
        supporting,
        conflicting,
    )


def _recency(t: _Told) -> tuple[bool, bool, float]:
    """Current states first, then dated ones, then the latest."""
    return not t.claim.ended, t.dated, t.high


def _support(t: _Told, told: list[_Told]) -> int:
    """How many syndication groups agree with `t`'s value."""
    return len({o.group for o in told if o.claim.agrees(t.claim)})


def _overlap(a: _Told, b: _Told) -> bool:
    return a.low <= b.high and b.low <= a.high


def _earlier_states(told: list[_Told], mine: _Told) -> tuple[Evidence, ...]:
    """One sentence per earlier value (the earliest dated one that tells it: when that state
    began), newest state first."""
    earlier = [t for t in told if not t.claim.agrees(mine.claim) and t.high < mine.low]
    states: list[list[_Told]] = []
    for t in earlier:
        same = next((s for s in states if s[0].claim.agrees(t.claim)), None)
        if same is None:
            states.append([t])
        else:
            same.append(t)
    firsts = [min(s, key=lambda t: (not t.dated, t.claim.ended, t.high, t.rank)) for s in states]
    latest = {id(f): max(t.high for t in s) for f, s in zip(firsts, states, strict=True)}
    return tuple(f.evidence for f in sorted(firsts, key=lambda f: -latest[id(f)]))


def _claims(
    searcher: Searcher,
    question: str,
    vector: np.ndarray,
    focus: Focus,
    mode: Mode,
    f: Filters,
    tuning: RankingTuning,
) -> list[_Told]:
    """Every claim about `focus` in the sentences of the passages best matching `question`,
    in retrieval order, once per sentence."""
    snapshot = searcher.snapshot
    last_day = f.published_to
    told = []
    hits = rank_passages(searcher, question, READ_PASSAGES, mode, f, vector, tuning)
    for rank, sentence in snapshot.sentences_in(hit.passage for hit in hits):
        doc_id, text = sentence.doc_id, sentence.text
        article = snapshot.articles[doc_id]
        claim = claim_in(text, focus) if _states(text) else None
        if claim is None or not _about(focus, text, article.title, article.text):
            continue
        days = [d for d in sentence.event_dates if last_day is None or d <= last_day]
        day = max(days, default=None)
        high = day or article.published
        top = (high.toordinal() - claim.ended) if high else math.inf
        low = day.toordinal() if day and not claim.ended else -math.inf
        if high and not day and _NOW.search(fold(text)):
            low = top  # « pour l'instant », « désormais »: a new state, as published
        if focus.kind is Kind.ROLE and _REGAINED.search(fold(text)):
            low = -math.inf  # a role taken back was held before too
        evidence = Evidence(
            doc_id, sentence.start, sentence.end, text, day, copies(snapshot).get(doc_id, ())
        )
        group = group_key(snapshot, doc_id)
        told.append(_Told(evidence, claim, group, low, top, day is not None, rank))
    return told


def _about(focus: Focus, sentence: str, title: str, article: str) -> bool:
    """Whether the claim is about the question's subject: the sentence (or the title) names
    it, or, for a person holding a role, names nobody else but the holder."""
    wanted = focus.names
    if not wanted:
        return True
    here = {n.key for n in names_in(sentence)}
    if wanted & here or wanted & {n.key for n in names_in(title, True)}:
        return True
    if focus.kind is Kind.HOLDER:
        return len(here) <= 1
    folded = fold(article)
    return all(name in folded for name in wanted)


def _states(sentence: str) -> bool:
    """Headings (no closing punctuation) and questions state nothing."""
    stripped = sentence.rstrip('»"”) ')
    return stripped.endswith((".", "!", "…", ":")) and not stripped.endswith("?")


def _one_per_group(told: Iterable[_Told]) -> tuple[Evidence, ...]:
    """The first sentence of each syndication group: copies count once."""
    kept: dict[str, Evidence] = {}
    for t in told:
        kept.setdefault(t.group, t.evidence)
    return tuple(kept.values())


def _same_sentence(a: Evidence, b: Evidence) -> bool:
    return a.doc_id == b.doc_id and a.start < b.end and b.start < a.end


def _holds_on(searcher: Searcher, evidence: Evidence) -> date | None:
    if evidence.event_date:
        return evidence.event_date
    return searcher.snapshot.articles[evidence.doc_id].published
