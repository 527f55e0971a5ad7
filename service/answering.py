"""Question answering: question -> cited passages and one cited answer sentence.

This is the core every edge uses (HTTP, Slack, CLI, evaluation); it knows nothing of HTTP.
"""

import threading
import time
from dataclasses import dataclass
from datetime import date

import numpy as np

from corpus.clean import normalise_typography
from index.analysis import analyse
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


@dataclass(frozen=True)
class AnswerTuning:
    """How the answer sentence is chosen and when the evidence counts as too weak.

    A sentence scores `cosine(query, sentence) + term_weight * shared query terms`, read
    from the `passages_read` best passages. The answer's confidence is the best sentence's
    score plus `known_weight * fraction of query terms that occur in the corpus`; below
    `threshold`, the answer is withheld (no_answer). Calibrated on eval/questions.jsonl.
    """

    passages_read: int = 3
    term_weight: float = 0.10
    known_weight: float = 0.10
    min_sentence_chars: int = 25
    threshold: float = 0.80


class QuestionAnswerer:
    """Answers questions from the live snapshot; `swap` replaces it atomically."""

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
        self._searcher = Searcher(snapshot, embedder, fusion)
        self._swap_lock = threading.Lock()

    @property
    def snapshot(self) -> Snapshot:
        return self._searcher.snapshot

    def swap(self, snapshot: Snapshot) -> None:
        """Serve `snapshot` from now on; queries already running finish on the old one."""
        searcher = Searcher(snapshot, self.embedder, self.fusion)
        with self._swap_lock:
            self._searcher = searcher

    def ask(
        self, query: str, k: int = 5, mode: Mode = Mode.HYBRID, filters: Filters = Filters()
    ) -> Answer:
        """Answer `query` with up to `k` cited passages and, if the evidence holds, a sentence."""
        started = time.perf_counter()
        question = self._checked(query, k)
        searcher = self._searcher
        vector = self.embedder.embed_query(question)
        hits = searcher.search(question, k, mode, filters, query_vector=vector)
        passages = [
            CitedPassage(rank, round(hit.score, 4), hit.passage.text, self._cite(searcher, hit, hit.passage.start, hit.passage.end))
            for rank, hit in enumerate(hits, start=1)
        ]
        sentence = self._best_sentence(searcher, question, vector, hits)
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
        terms = set(analyse(question))
        best: tuple[float, Hit, int, int] | None = None
        seen: set[tuple[str, int]] = set()
        for hit in hits[: tuning.passages_read]:
            table = searcher.snapshot.sentences.get(hit.passage.doc_id)
            if table is None:
                continue
            text = searcher.snapshot.articles[hit.passage.doc_id].text
            rows = table.within(hit.passage.start, hit.passage.end)
            cosines = table.vectors[rows] @ vector
            for row, cosine in zip(rows, cosines, strict=True):
                start, end = (int(x) for x in table.spans[row])
                if (hit.passage.doc_id, start) in seen or end - start < tuning.min_sentence_chars:
                    continue
                seen.add((hit.passage.doc_id, start))
                shared = len(terms & set(analyse(text[start:end]))) / len(terms) if terms else 0.0
                score = float(cosine) + tuning.term_weight * shared
                if best is None or score > best[0]:
                    best = (score, hit, start, end)
        if best is None:
            return None
        score, hit, start, end = best
        confidence = score + tuning.known_weight * searcher.query_terms_known(question)
        article = searcher.snapshot.articles[hit.passage.doc_id]
        return AnswerSentence(article.text[start:end], self._cite(searcher, hit, start, end), round(confidence, 4))

    @staticmethod
    def _cite(searcher: Searcher, hit: Hit, start: int, end: int) -> Citation:
        article = searcher.snapshot.articles[hit.passage.doc_id]
        return Citation(article.doc_id, article.title, article.source, article.url, article.published, start, end)
