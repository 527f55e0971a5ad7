"""The timeline of a subject: its dated events, oldest first, each told once with every source.

The passages that best match the query are ranked as for a question (service.ranking); their
sentences that carry event dates (index.event_dates) and name one of the query's terms are
the events. Sentences of different articles on the same day that tell the same event
(`same_event`) are merged into one entry citing all of them.
"""

import datetime
import time
from dataclasses import dataclass

import numpy as np

from corpus.clean import normalise_typography
from index.analysis import analyse, analyse_cached
from index.query import Filters
from index.search import Searcher
from service.answering import QueryError
from service.answers import Citation
from service.ranking import rank_passages
from service.tuning import RankingTuning

MAX_QUERY_CHARS = 1000


@dataclass(frozen=True)
class TimelineTuning:
    """`passages`: how many retrieved passages are read. Two sentences of different articles
    on the same day are one event when cosine(vectors) + Jaccard(analysed terms) reaches
    `same_event`: the best F1 on eval/same_event.jsonl (see `python -m eval.merging`)."""

    passages: int = 30
    same_event: float = 0.989
    min_term_chars: int = 5  # terms this long match with one typo (« Atlman » for « Altman »)


@dataclass(frozen=True)
class TimelineEvent:
    """One event: its day, the sentence that tells it best, and every sentence telling it."""

    date: datetime.date
    text: str
    citations: list[Citation]
    sources: int
    published: datetime.date | None  # when it was first reported (earliest publication date)


@dataclass(frozen=True)
class Timeline:
    query: str
    events: list[TimelineEvent]
    took_ms: float


@dataclass
class _Told:
    """A dated sentence as found: where, its terms and vector, and its retrieval rank."""

    day: datetime.date
    citation: Citation
    text: str
    terms: frozenset[str]
    vector: np.ndarray
    rank: int


def build_timeline(
    searcher: Searcher,
    query: str,
    filters: Filters = Filters(),
    tuning: TimelineTuning = TimelineTuning(),
    ranking: RankingTuning = RankingTuning(),
) -> Timeline:
    """The dated events about `query` in the passages that match it (ranked with `ranking`),
    sorted by date."""
    started = time.perf_counter()
    subject = normalise_typography(query).strip()
    if not subject:
        raise QueryError("the query is empty")
    if len(subject) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is longer than {MAX_QUERY_CHARS} characters")
    told = _dated_sentences(searcher, subject, filters, tuning, ranking)
    events: list[list[_Told]] = []
    for sentence in told:
        group = _same_event(events, sentence, tuning.same_event)
        if group is None:
            events.append([sentence])
        else:
            group.append(sentence)
    ordered = sorted(events, key=lambda group: (group[0].day, group[0].rank))
    return Timeline(query, [_event(group) for group in ordered], round(_ms_since(started), 2))


def _dated_sentences(
    searcher: Searcher,
    subject: str,
    filters: Filters,
    tuning: TimelineTuning,
    ranking: RankingTuning,
) -> list[_Told]:
    """Every dated sentence of the retrieved passages that names a term of `subject`, once
    per day it tells, in retrieval order."""
    snapshot = searcher.snapshot
    wanted = set(analyse(subject))
    told = []
    hits = rank_passages(searcher, subject, tuning.passages, filters=filters, tuning=ranking)
    for rank, sentence in snapshot.sentences_in(hit.passage for hit in hits):
        if not sentence.event_dates:
            continue
        terms = frozenset(analyse_cached(sentence.text))
        if not _tells_something(sentence.text) or not _names(terms, wanted, tuning.min_term_chars):
            continue
        article = snapshot.articles[sentence.doc_id]
        citation = Citation(
            sentence.doc_id,
            article.title,
            article.source,
            article.url,
            article.published,
            sentence.start,
            sentence.end,
        )
        told += [
            _Told(d, citation, sentence.text, terms, sentence.vector, rank)
            for d in sentence.event_dates
        ]
    return told


def _same_event(events: list[list[_Told]], sentence: _Told, threshold: float) -> list[_Told] | None:
    """The event of the same day, not yet told by this article, most like `sentence`, if it
    is alike enough."""
    best, best_score = None, threshold
    for group in events:
        if group[0].day != sentence.day:
            continue
        if any(told.citation.doc_id == sentence.citation.doc_id for told in group):
            continue
        score = max(_likeness(told, sentence) for told in group)
        if score >= best_score:
            best, best_score = group, score
    return best


def _likeness(a: _Told, b: _Told) -> float:
    """Cosine of the sentence vectors plus the Jaccard index of their analysed terms."""
    union = a.terms | b.terms
    return float(a.vector @ b.vector) + (len(a.terms & b.terms) / len(union) if union else 0.0)


def _event(group: list[_Told]) -> TimelineEvent:
    first = group[0]
    published = [t.citation.published for t in group if t.citation.published]
    return TimelineEvent(
        first.day,
        first.text,
        [t.citation for t in group],
        len({t.citation.doc_id for t in group}),
        min(published, default=None),
    )


def _names(terms: frozenset[str], wanted: set[str], min_chars: int) -> bool:
    """Whether the sentence names a wanted term, long terms allowing one typo."""
    if not wanted:
        return True
    return any(
        term in terms or (len(term) >= min_chars and any(_one_edit_apart(term, t) for t in terms))
        for term in wanted
    )


def _one_edit_apart(a: str, b: str) -> bool:
    """One insertion, deletion, substitution or swap of neighbours turns `a` into `b`."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return a == b
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diff) == 1 or (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _tells_something(sentence: str) -> bool:
    """Headings (no closing punctuation) and questions tell no event."""
    stripped = sentence.rstrip('»"”) ')
    return stripped.endswith((".", "!", "…", ":")) and not stripped.endswith("?")


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000
