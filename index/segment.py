"""A segment: an immutable part of the index holding some articles whole, with their passages,
passage vectors (FAISS), lexical postings (BM25), sentences and titles.

A publish adds a segment for the articles it adds or replaces and records the replaced or
deleted ones as tombstones in the older segments (see index.snapshot); merging segments
(index.merging) drops the tombstoned rows.
"""

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
from tqdm import tqdm

from corpus import Article
from index.chunking import Passage, chunk_article, make_splitter
from index.embedding import Embedder, TokenProjection
from index.embedding_cache import EmbeddingCache
from index.event_dates import Dates, event_dates
from index.ingest import NO_TOKENS, embed_texts
from index.layout import SegmentLayout, nearest_sentence, sentences_within
from index.lexical import LexicalIndex
from index.matrix_file import MatrixFile
from index.row_filter import RowFilter
from index.sentences import sentence_spans
from index.vectors import VectorIndex


@dataclass(frozen=True)
class SentenceDetails:
    """What a sentence table reads only when asked: each sentence's reader token vectors
    (empty arrays when the index has no reader) and the dates of the events it tells."""

    tokens: tuple[np.ndarray, ...]
    event_dates: tuple[Dates, ...]


@dataclass(frozen=True)
class SentenceTable:
    """The sentences of one article: spans into its text and their vectors (float16), one row
    each; their details are `details` or, for a loaded segment, read from its store the first
    time they are asked for."""

    spans: np.ndarray
    vectors: np.ndarray
    details: SentenceDetails | Callable[[], SentenceDetails] = field(repr=False, compare=False)

    @cached_property
    def _details(self) -> SentenceDetails:
        return self.details() if callable(self.details) else self.details

    @property
    def tokens(self) -> tuple[np.ndarray, ...]:
        return self._details.tokens

    @property
    def event_dates(self) -> tuple[Dates, ...]:
        return self._details.event_dates

    def dated(self, row: int) -> Dates:
        """The event dates of sentence `row` (empty when it tells no dated event)."""
        return self.event_dates[row] if row < len(self.event_dates) else ()

    def within(self, start: int, end: int) -> np.ndarray:
        """Row numbers of the sentences that lie mostly inside [start, end)."""
        return sentences_within(self.spans, start, end)

    def nearest(self, start: int, end: int) -> int:
        """Row of the sentence that overlaps [start, end) the most."""
        return nearest_sentence(self.spans, start, end)


@dataclass(frozen=True, eq=False)
class Segment:
    """Articles and everything indexed about them; row i is `passages[i]`, whose vector is row
    i of `vectors` and whose postings are row i of `lexical`. `layout` holds what search needs
    of every row as arrays; the mappings are held in memory for a segment just built and read
    from its store on demand for a loaded one (index.stored)."""

    name: str
    articles: Mapping[str, Article]
    passages: Sequence[Passage]
    vectors: VectorIndex
    lexical: LexicalIndex
    sentences: Mapping[str, SentenceTable]
    titles: Mapping[str, np.ndarray]  # reader token vectors of each article's title
    layout: SegmentLayout
    sentence_matrix: MatrixFile | None = None  # a loaded segment's sentence vectors

    def passage_sentence_vectors(self, row: int) -> np.ndarray:
        """The vectors (float16) of the sentences passage `row` is made of (see
        index.layout.sentences_of); a loaded segment reads only those rows."""
        layout = self.layout
        position = int(layout.passage_docs[row])
        low, high = layout.passage_sentences[row].tolist()
        if self.sentence_matrix is not None:
            first = int(layout.sentence_starts[position])
            return self.sentence_matrix.rows(first + low, first + high)
        return self.sentences[str(layout.doc_ids[position])].vectors[low:high]

    def __len__(self) -> int:
        return len(self.layout.passage_docs)

    @cached_property
    def row_filter(self) -> RowFilter:
        return RowFilter(self.layout)

    def rows_of(self, doc_ids: Iterable[str]) -> np.ndarray:
        """A boolean per row: True where the row belongs to one of `doc_ids`."""
        return self.row_filter.rows_of(doc_ids)

    def sentence_count(self, left_out: Iterable[str] = ()) -> int:
        """How many sentences the articles hold, but those `left_out`."""
        layout = self.layout
        return int(
            layout.sentence_counts.sum() - layout.sentence_counts[layout.positions(left_out)].sum()
        )


def make_segment(
    articles: Iterable[Article],
    passages: Sequence[Passage],
    vectors: np.ndarray,
    sentences: dict[str, SentenceTable],
    titles: dict[str, np.ndarray],
    dimension: int,
    progress: bool = False,
) -> Segment:
    """A new segment of `articles`, whose `passages` have `vectors` (one row each, any order);
    `progress` shows a bar while the BM25 postings are built."""
    order = sorted(range(len(passages)), key=lambda i: _place(passages[i]))
    ordered = tuple(passages[i] for i in order)
    held = {a.doc_id: a for a in articles}
    digests = {doc_id: article_digest(a) for doc_id, a in held.items()}
    spans = {doc_id: table.spans for doc_id, table in sentences.items()}
    return Segment(
        uuid.uuid4().hex,
        held,
        ordered,
        VectorIndex.build(vectors[order] if len(order) else vectors, dimension),
        LexicalIndex.build([p.vector_id for p in ordered], [p.text for p in ordered], progress),
        sentences,
        titles,
        SegmentLayout.of(held, digests, ordered, spans),
    )


def build_segment(
    embedder: Embedder,
    articles: list[Article],
    reused: Mapping[str, Segment],
    splitting: tuple[int, int],
    progress: Callable[[str], None] | None = None,
    reader: TokenProjection | None = None,
    cache: EmbeddingCache | None = None,
) -> Segment:
    """A segment of `articles`: those in `reused` take their passages, vectors, sentences and
    title tokens from the segment given there (same text), the others are chunked (`splitting`:
    chunk size and overlap) and embedded (with the `reader`'s token vectors, and the embeddings
    in `cache`). Every one gets its event dates computed: they depend on the publication date,
    which may have changed."""
    passages: list[Passage] = []
    vectors: list[np.ndarray] = []
    sentences: dict[str, SentenceTable] = {}
    titles: dict[str, np.ndarray] = {}
    for doc_id, segment in reused.items():
        rows = np.flatnonzero(segment.rows_of([doc_id]))
        passages += [segment.passages[int(r)] for r in rows]
        vectors.append(segment.vectors.vectors(rows))
        sentences[doc_id] = segment.sentences[doc_id]
        titles[doc_id] = segment.titles[doc_id]

    embed = [a for a in articles if a.doc_id not in reused]
    splitter = make_splitter(*splitting)
    new_passages = [p for article in embed for p in chunk_article(article, splitter)]
    new_spans = {a.doc_id: sentence_spans(a.text) for a in embed}
    texts = {a.doc_id: a.text for a in embed}
    sentence_texts = [texts[d][s:e] for d, spans in new_spans.items() for s, e in spans]
    if progress and embed:
        progress(
            f"Embedding {len(new_passages)} passages and {len(sentence_texts)} sentences "
            f"of {len(embed)} articles with {embedder.model_id}"
        )
    show = progress is not None
    passage_vectors, _ = embed_texts(embedder, [p.text for p in new_passages], cache, None, show)
    titled = sentence_texts + [a.title for a in embed] * (reader is not None)
    sentence_vectors, sentence_tokens = embed_texts(
        embedder,
        titled,
        cache,
        reader,
        show,
        dtype=np.float16,  # as stored
    )
    sentence_vectors = sentence_vectors[: len(sentence_texts)]
    title_tokens = sentence_tokens[len(sentence_texts) :] or [NO_TOKENS] * len(embed)
    titles |= {a.doc_id: tokens for a, tokens in zip(embed, title_tokens, strict=True)}
    passages += new_passages
    vectors.append(passage_vectors)
    row = 0
    for doc_id, spans in new_spans.items():
        sentences[doc_id] = SentenceTable(
            np.array(spans, dtype=np.int64).reshape(-1, 2),
            sentence_vectors[row : row + len(spans)],
            SentenceDetails(tuple(sentence_tokens[row : row + len(spans)]), ()),
        )
        row += len(spans)
    by_id = {a.doc_id: a for a in articles}
    dating = tqdm(sentences.items(), desc="Event dates", unit="article", disable=not show)
    sentences = {d: _with_event_dates(t, by_id[d]) for d, t in dating}
    dimension = embedder.dimension
    stacked = np.vstack(vectors)
    return make_segment(articles, passages, stacked, sentences, titles, dimension, show)


def merge(
    segments: Sequence[Segment],
    dead: Mapping[str, frozenset[str]],
    dimension: int,
    progress: bool = False,
) -> Segment:
    """One segment holding the live articles of `segments` (those not in `dead[name]`); the
    vectors are copied, the BM25 postings rebuilt over the merged passages (with a progress
    bar if asked)."""
    articles: list[Article] = []
    passages: list[Passage] = []
    vectors: list[np.ndarray] = []
    sentences: dict[str, SentenceTable] = {}
    titles: dict[str, np.ndarray] = {}
    for segment in segments:
        gone = dead.get(segment.name, frozenset())
        articles += [a for d, a in segment.articles.items() if d not in gone]
        rows = np.flatnonzero(~segment.rows_of(gone))
        passages += [segment.passages[int(r)] for r in rows]
        vectors.append(segment.vectors.vectors(rows))
        sentences |= {d: t for d, t in segment.sentences.items() if d not in gone}
        titles |= {d: t for d, t in segment.titles.items() if d not in gone}
    stacked = np.vstack(vectors) if vectors else np.empty((0, dimension), dtype=np.float32)
    return make_segment(articles, passages, stacked, sentences, titles, dimension, progress)


def article_digest(article: Article) -> bytes:
    """A SHA-256 of an article's id, metadata and text."""
    record = {**article.__dict__, "published": str(article.published)}
    return hashlib.sha256(json.dumps(record, sort_keys=True, ensure_ascii=False).encode()).digest()


def _place(passage: Passage) -> tuple[str, int, int]:
    return passage.doc_id, passage.start, passage.end


def _with_event_dates(table: SentenceTable, article: Article) -> SentenceTable:
    """`table` with the event dates of its sentences, computed afresh."""
    spans = [(int(s), int(e)) for s, e in table.spans]
    dates = tuple(event_dates(article.text, spans, article.published))
    return replace(table, details=SentenceDetails(table.tokens, dates))
