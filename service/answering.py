"""Question answering: question -> cited passages and one cited answer sentence.

This is the core every edge uses (HTTP, Slack, CLI, evaluation); it knows nothing of HTTP.
"""

import time
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np

from corpus.clean import normalise_typography
from index.analysis import analyse_cached
from index.embedding import Embedder
from index.search import Filters, FusionWeights, Hit, Mode, Searcher
from index.snapshot import Snapshot
from service.news import Evidence, news_fields

MAX_K = 50


class QueryError(ValueError):
    """The question cannot be answered as asked (empty, too long, bad k); says why."""


@dataclass(frozen=True)
class Citation:
    """Where a text comes from: `article.text[start:end]` is the cited text."""

    doc_id: str
    title: str
    source: str | None
    url: str | None
    published: date | None
    start: int
    end: int
    also_published_by: tuple["Copy", ...] = ()  # syndicated copies of the same article


@dataclass(frozen=True)
class Copy:
    """Another site's copy of the cited article."""

    doc_id: str
    source: str | None
    url: str | None


@dataclass(frozen=True)
class CitedSentence:
    """A sentence of another article about the answer's fact, with the day it tells."""

    text: str
    citation: Citation
    event_date: date | None


@dataclass(frozen=True)
class CitedPassage:
    rank: int
    score: float
    text: str
    citation: Citation


@dataclass(frozen=True)
class AnswerSentence:
    text: str
    citation: Citation
    confidence: float
    event_date: date | None = None  # the latest day of the events the sentence tells
    as_of: date | None = None  # the day the answer is known to hold (event, else publication)
    superseded: tuple[CitedSentence, ...] = ()  # earlier states, newest first
    supporting: tuple[CitedSentence, ...] = ()  # other articles stating the same fact
    conflicting: tuple[CitedSentence, ...] = ()  # other articles giving another value


@dataclass(frozen=True)
class Answer:
    query: str
    no_answer: bool
    answer: AnswerSentence | None
    passages: list[CitedPassage]
    took_ms: float


@dataclass(frozen=True)
class AnswerTuning:
    """How the answer sentence is chosen and when the evidence counts as too weak.

    Each sentence of the `passages_read` best passages scores
    `cosine(query, sentence) + term_weight * (IDF-weighted share of query terms it contains)
    - rank_penalty * (passage rank - 1)`, minus `question_penalty` if it is itself a question.
    The answer's confidence is the best score plus `known_weight * (IDF-weighted share of
    query terms found anywhere in the corpus)`; below `threshold` the answer is withheld.
    Calibrated on eval/questions.jsonl (see eval/README.md).
    """

    passages_read: int = 3
    term_weight: float = 0.30
    rank_penalty: float = 0.0
    heading_penalty: float = 0.05
    known_weight: float = 0.10
    min_sentence_chars: int = 25
    threshold: float = 0.81


class QuestionAnswerer:
    """Answers questions from the live snapshot; `swap` replaces it atomically."""

    def __init__(
        self,
        snapshot: Snapshot,
        embedder: Embedder,
        fusion: FusionWeights = FusionWeights(),
        tuning: AnswerTuning = AnswerTuning(),
        max_query_chars: int = 1000,
        generation: Path | None = None,
    ) -> None:
        self.embedder = embedder
        self.fusion = fusion
        self.tuning = tuning
        self.max_query_chars = max_query_chars
        self._served = (Searcher(snapshot, embedder, fusion), generation)

    @property
    def snapshot(self) -> Snapshot:
        return self._served[0].snapshot

    @property
    def searcher(self) -> Searcher:
        """The searcher over the served snapshot, for other readers of it (the timeline)."""
        return self._served[0]

    @property
    def generation(self) -> Path | None:
        """The published folder being served (None for an unpublished snapshot)."""
        return self._served[1]

    def swap(self, snapshot: Snapshot, generation: Path | None) -> None:
        """Serve `snapshot` from now on; queries already running finish on the old one.
        A single attribute assignment, so a reader sees the old state or the new, never a mix."""
        self._served = (Searcher(snapshot, self.embedder, self.fusion), generation)

    def ask(
        self, query: str, k: int = 5, mode: Mode = Mode.HYBRID, filters: Filters = Filters()
    ) -> Answer:
        """Answer `query` with up to `k` cited passages and, if the evidence holds, a sentence."""
        started = time.perf_counter()
        question = self._checked(query, k)
        searcher = self._served[0]
        vector = self.embedder.embed_query(question)
        hits = searcher.search(question, k, mode, filters, query_vector=vector)
        passages = [
            CitedPassage(
                rank,
                round(hit.score, 4),
                hit.passage.text,
                self._cite(searcher, hit, hit.passage.start, hit.passage.end),
            )
            for rank, hit in enumerate(hits, start=1)
        ]
        sentence = _with_event_date(
            searcher.snapshot, self._best_sentence(searcher, question, vector, hits)
        )
        sentence = _with_news(searcher, question, vector, mode, filters, sentence)
        no_answer = sentence is None or sentence.confidence < self.tuning.threshold
        return Answer(
            query=query,
            no_answer=no_answer,
            answer=None if no_answer else sentence,
            passages=passages,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
        )

    def _checked(self, query: str, k: int) -> str:
        question = normalise_typography(query).strip()
        if not question:
            raise QueryError("the query is empty")
        if len(question) > self.max_query_chars:
            raise QueryError(f"the query is longer than {self.max_query_chars} characters")
        if not 1 <= k <= MAX_K:
            raise QueryError(f"k must be between 1 and {MAX_K}")
        return question

    def _best_sentence(
        self, searcher: Searcher, question: str, vector: np.ndarray, hits: list[Hit]
    ) -> AnswerSentence | None:
        tuning = self.tuning
        weights = searcher.term_weights(question)
        total = sum(weights.values()) or 1.0
        best: tuple[float, Hit, int, int] | None = None
        for rank, hit in enumerate(hits[: tuning.passages_read]):
            table = searcher.snapshot.sentences[hit.passage.doc_id]
            text = searcher.snapshot.articles[hit.passage.doc_id].text
            rows = table.within(hit.passage.start, hit.passage.end)
            for row, cosine in zip(rows, table.vectors[rows] @ vector, strict=True):
                start, end = (int(x) for x in table.spans[row])
                sentence = text[start:end]
                if end - start < tuning.min_sentence_chars:
                    continue
                shared = sum(weights[t] for t in set(analyse_cached(sentence)) & weights.keys())
                score = (
                    float(cosine)
                    + tuning.term_weight * shared / total
                    - tuning.rank_penalty * rank
                    - tuning.heading_penalty * _is_heading(sentence)
                )
                if best is None or score > best[0]:
                    best = (score, hit, start, end)
        if best is None:
            return None
        score, hit, start, end = best
        confidence = score + tuning.known_weight * searcher.known_share(weights)
        text = searcher.snapshot.articles[hit.passage.doc_id].text
        return AnswerSentence(
            text[start:end], self._cite(searcher, hit, start, end), round(confidence, 4)
        )

    @staticmethod
    def _cite(searcher: Searcher, hit: Hit, start: int, end: int) -> Citation:
        article = searcher.snapshot.articles[hit.passage.doc_id]
        return Citation(
            article.doc_id,
            article.title,
            article.source,
            article.url,
            article.published,
            start,
            end,
        )


def _with_event_date(snapshot: Snapshot, sentence: AnswerSentence | None) -> AnswerSentence | None:
    """`sentence` with the latest of the event dates stored for it at indexing time."""
    if sentence is None:
        return None
    c = sentence.citation
    return replace(
        sentence, event_date=max(snapshot.event_dates_at(c.doc_id, c.start, c.end), default=None)
    )


def _with_news(
    searcher: Searcher,
    question: str,
    vector: np.ndarray,
    mode: Mode,
    filters: Filters,
    sentence: AnswerSentence | None,
) -> AnswerSentence | None:
    """`sentence`, or the latest state for a question about one, with what it superseded and
    the other articles supporting or contradicting it (service.news)."""
    if sentence is None:
        return None
    c = sentence.citation
    found = news_fields(
        searcher,
        question,
        vector,
        Evidence(c.doc_id, c.start, c.end, sentence.text, sentence.event_date),
        mode,
        filters,
    )

    def cited(e: Evidence) -> CitedSentence:
        return CitedSentence(e.text, _citation(searcher.snapshot, e), e.event_date)

    answer = cited(found.answer)
    return replace(
        sentence,
        text=answer.text,
        citation=answer.citation,
        event_date=answer.event_date,
        as_of=found.holds_on,
        superseded=tuple(map(cited, found.superseded)),
        supporting=tuple(map(cited, found.supporting)),
        conflicting=tuple(map(cited, found.conflicting)),
    )


def _citation(snapshot: Snapshot, e: Evidence) -> Citation:
    a = snapshot.articles[e.doc_id]
    copies = tuple(
        Copy(d, snapshot.articles[d].source, snapshot.articles[d].url)
        for d in e.copies
        if d in snapshot.articles
    )
    return Citation(a.doc_id, a.title, a.source, a.url, a.published, e.start, e.end, copies)


def _is_heading(sentence: str) -> bool:
    """Questions and lines without closing punctuation (titles, headings) state nothing."""
    return sentence.endswith("?") or not sentence.rstrip('»"”) ').endswith((".", "!", "…", ":"))
