"""Question answering: question -> cited passages and one cited answer sentence.

This is the core every edge uses (HTTP, Slack, CLI, evaluation); it knows nothing of HTTP.
"""

import time
from dataclasses import replace
from functools import cache, partial

import numpy as np

from corpus.clean import normalise_typography
from index.answer_types import Asked, asked
from index.embedding import Embedder, TokenEmbedder
from index.query import Filters, Mode
from index.search import Searcher
from index.snapshot import Snapshot
from service.answer_span import answer_span
from service.answers import Answer, AnswerSentence, Citation, CitedPassage, CitedSentence, Copy
from service.candidates import Question
from service.news import Evidence, news_fields
from service.query_language import is_english
from service.ranking import Hit, Pick, pick_by_formula, pick_by_reader, rank_passages
from service.reader import Reader
from service.translation import Translator
from service.tuning import RankingTuning

MAX_K = 50


class QueryError(ValueError):
    """The question cannot be answered as asked (empty, too long, bad k); says why."""


class QuestionAnswerer:
    """Answers questions from one snapshot (immutable: `ServedIndex` swaps answerers)."""

    def __init__(
        self,
        snapshot: Snapshot,
        embedder: Embedder,
        tuning: RankingTuning = RankingTuning(),
        max_query_chars: int = 1000,
        reader: Reader | None = None,
        translator: Translator | None = None,
    ) -> None:
        self.embedder = embedder
        self.translator = translator
        self.tuning = tuning
        self.max_query_chars = max_query_chars
        self.searcher = Searcher(snapshot, embedder)
        # the reader reads the token vectors the index stored for it, or not at all
        self.reader = reader if reader and snapshot.manifest.reader == reader.id else None

    @property
    def snapshot(self) -> Snapshot:
        return self.searcher.snapshot

    def ask(
        self, query: str, k: int = 5, mode: Mode = Mode.HYBRID, filters: Filters = Filters()
    ) -> Answer:
        """Answer `query` with up to `k` cited passages and, if the evidence holds, a sentence."""
        started = time.perf_counter()
        question = self._checked(query, k)
        searcher = self.searcher
        encoded = cache(partial(self._encoded, question))  # while it runs, BM25 does too
        tuning = self.tuning.for_question(question)
        read = self._as_read(question)
        hits = rank_passages(searcher, read, k, mode, filters, lambda: encoded()[0], tuning)
        vector, tokens = encoded()
        passages = [
            CitedPassage(
                rank,
                round(hit.score, 4),
                hit.passage.text,
                self._cite(searcher, hit.passage.doc_id, hit.passage.start, hit.passage.end),
            )
            for rank, hit in enumerate(hits, start=1)
        ]
        reading = Question(read, vector, searcher.term_weights(read), asked(read))
        pick = self._pick(searcher, reading, tokens, hits, tuning)
        answer = None
        if pick is not None and pick.answered:
            c = pick.candidate
            dates = searcher.snapshot.sentences[c.doc_id].dated(c.row)
            answer = AnswerSentence(
                c.text,
                self._cite(searcher, c.doc_id, c.start, c.end),
                round(pick.confidence, 4),
                event_date=max(dates, default=None),
            )
            answer = _with_news(searcher, question, vector, mode, filters, self.tuning, answer)
            if answer is not None:
                answer = _with_context(searcher.snapshot, answer, reading.asked)
        excluded = not hits and filters and not searcher.admits_any(filters)
        return Answer(
            query=query,
            no_answer=answer is None,
            answer=answer,
            passages=passages,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            notice=f"no article matches the filters ({filters})" if excluded else None,
        )

    def _pick(
        self,
        searcher: Searcher,
        question: Question,
        tokens: np.ndarray | None,
        hits: list[Hit],
        tuning: RankingTuning,
    ) -> Pick | None:
        if tokens is not None and self.reader is not None:
            return pick_by_reader(searcher, question, tokens, hits, self.reader, tuning)
        return pick_by_formula(searcher, question, hits, tuning)

    def _as_read(self, question: str) -> str:
        """`question`, followed by its French translation if it is asked in English: the
        words of the articles then match it (the question is still embedded as asked, and
        ranked with the English figures of `RankingTuning`)."""
        if self.translator is None or not is_english(question):
            return question
        french = self.translator.translate(question)
        return f"{question} {french}" if french else question

    def _encoded(self, question: str) -> tuple[np.ndarray, np.ndarray | None]:
        """The question's vector, and its token vectors if the reader reads them."""
        if self.reader is None:
            return self.embedder.embed_query(question), None
        token_embedder: TokenEmbedder = self.embedder  # type: ignore[assignment]
        return token_embedder.embed_query_tokens(question)

    def _checked(self, query: str, k: int) -> str:
        question = normalise_typography(query).strip()
        if not question:
            raise QueryError("the query is empty")
        if len(question) > self.max_query_chars:
            raise QueryError(f"the query is longer than {self.max_query_chars} characters")
        if not 1 <= k <= MAX_K:
            raise QueryError(f"k must be between 1 and {MAX_K}")
        return question

    @staticmethod
    def _cite(searcher: Searcher, doc_id: str, start: int, end: int) -> Citation:
        article = searcher.snapshot.articles[doc_id]
        return Citation(
            article.doc_id,
            article.title,
            article.source,
            article.url,
            article.published,
            start,
            end,
        )


def _with_news(
    searcher: Searcher,
    question: str,
    vector: np.ndarray,
    mode: Mode,
    filters: Filters,
    tuning: RankingTuning,
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
        tuning,
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


def _with_context(snapshot: Snapshot, answer: AnswerSentence, question: Asked) -> AnswerSentence:
    """`answer`, citing what it needs to be understood alone, or to hold what the `question`
    asks for, too (service.answer_span)."""
    c = answer.citation
    start, end = answer_span(snapshot, c.doc_id, c.start, c.end, question)
    if (start, end) == (c.start, c.end):
        return answer
    text = snapshot.articles[c.doc_id].text[start:end]
    return replace(answer, text=text, citation=replace(c, start=start, end=end))


def _citation(snapshot: Snapshot, e: Evidence) -> Citation:
    a = snapshot.articles[e.doc_id]
    copies = tuple(
        Copy(d, snapshot.articles[d].source, snapshot.articles[d].url)
        for d in e.copies
        if d in snapshot.articles
    )
    return Citation(a.doc_id, a.title, a.source, a.url, a.published, e.start, e.end, copies)
