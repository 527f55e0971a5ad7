"""Question answering: question -> cited passages and one cited answer sentence.

This is the core every edge uses (HTTP, Slack, CLI, evaluation); it knows nothing of HTTP.
"""

import time
from dataclasses import dataclass
from datetime import date

import numpy as np

from corpus.clean import normalise_typography
from index.analysis import analyse_cached
from index.embedding import Embedder
from index.search import Filters, FusionWeights, Hit, Mode, Searcher
from index.snapshot import Snapshot

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


@dataclass(frozen=True)
class Answer:
    query: str
    no_answer: bool
    answer: AnswerSentence | None
    passages: list[CitedPassage]
    took_ms: float
    notice: str | None = None


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
    """Answers questions from one snapshot (immutable: `ServedIndex` swaps answerers)."""

    def __init__(
        self,
        snapshot: Snapshot,
        embedder: Embedder,
        fusion: FusionWeights = FusionWeights(),
        tuning: AnswerTuning = AnswerTuning(),
        max_query_chars: int = 1000,
    ) -> None:
        self.embedder = embedder
        self.fusion = fusion
        self.tuning = tuning
        self.max_query_chars = max_query_chars
        self.searcher = Searcher(snapshot, embedder, fusion)

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
        sentence = self._best_sentence(searcher, question, vector, hits)
        no_answer = sentence is None or sentence.confidence < self.tuning.threshold
        excluded = not hits and filters and not searcher.admits_any(filters)
        return Answer(
            query=query,
            no_answer=no_answer,
            answer=None if no_answer else sentence,
            passages=passages,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            notice=f"no article matches the filters ({filters})" if excluded else None,
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


def _is_heading(sentence: str) -> bool:
    """Questions and lines without closing punctuation (titles, headings) state nothing."""
    return sentence.endswith("?") or not sentence.rstrip('»"”) ').endswith((".", "!", "…", ":"))
