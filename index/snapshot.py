"""An index snapshot: articles, passages, vectors, lexical index, sentence vectors and the
reader's token vectors together.

Snapshots are immutable once built: an update makes a new snapshot from the old one,
re-embedding only the articles that changed, so a reader never sees a half-applied change.
"""

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from corpus import Article
from index.chunking import Passage, chunk_article, make_splitter
from index.embedding import Embedder, TokenProjection
from index.embedding_cache import EmbeddingCache
from index.event_dates import Dates, event_dates
from index.ingest import NO_TOKENS, embed_texts
from index.lexical import LexicalIndex
from index.manifest import IndexCorruptError, Manifest, file_sha256
from index.sentences import sentence_spans
from index.store import SentenceRow, read_store, write_store
from index.vectors import VectorIndex

STORE_FILE = "store.sqlite"
VECTORS_FILE = "vectors.faiss"
LEXICAL_DIR = "lexical"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class SentenceTable:
    """The sentences of one article: spans into its text, their vectors, their reader token
    vectors (empty arrays when the index has no reader) and the dates of the events they
    tell (one row each)."""

    spans: np.ndarray
    vectors: np.ndarray
    tokens: tuple[np.ndarray, ...]
    event_dates: tuple[Dates, ...] = field(default=())

    def dated(self, row: int) -> Dates:
        """The event dates of sentence `row` (empty when it tells no dated event)."""
        return self.event_dates[row] if row < len(self.event_dates) else ()

    def within(self, start: int, end: int) -> np.ndarray:
        """Row numbers of the sentences that lie mostly inside [start, end)."""
        overlap = np.minimum(self.spans[:, 1], end) - np.maximum(self.spans[:, 0], start)
        length = self.spans[:, 1] - self.spans[:, 0]
        return np.flatnonzero(overlap * 2 > length)

    def nearest(self, start: int, end: int) -> int:
        """Row of the sentence that overlaps [start, end) the most."""
        overlap = np.minimum(self.spans[:, 1], end) - np.maximum(self.spans[:, 0], start)
        return int(np.argmax(overlap))


@dataclass(frozen=True)
class Sentence:
    """One sentence of an indexed article, as the readers of retrieved passages see it."""

    doc_id: str
    row: int  # in the article's sentence table
    start: int
    end: int
    text: str
    vector: np.ndarray
    event_dates: Dates


@dataclass(frozen=True)
class ReaderTokens:
    """The reader's token vectors of a sentence, of its neighbours, and of its title."""

    sentence: np.ndarray
    neighbours: np.ndarray
    title: np.ndarray


@dataclass(frozen=True)
class Snapshot:
    """One consistent state of the index."""

    manifest: Manifest
    articles: dict[str, Article]
    passages: dict[int, Passage]
    vectors: VectorIndex
    lexical: LexicalIndex
    sentences: dict[str, SentenceTable]
    titles: dict[str, np.ndarray]  # reader token vectors of each article's title

    def sentences_in(self, passages: Iterable[Passage]) -> list[tuple[int, Sentence]]:
        """The sentences lying mostly inside each passage, with the passage's position in
        `passages`; a sentence shared by two passages comes once, with the first."""
        found: list[tuple[int, Sentence]] = []
        seen: set[tuple[str, int]] = set()
        for position, passage in enumerate(passages):
            table = self.sentences[passage.doc_id]
            text = self.articles[passage.doc_id].text
            for row in (int(r) for r in table.within(passage.start, passage.end)):
                if (passage.doc_id, row) in seen:
                    continue
                seen.add((passage.doc_id, row))
                start, end = (int(x) for x in table.spans[row])
                sentence = Sentence(
                    passage.doc_id,
                    row,
                    start,
                    end,
                    text[start:end],
                    table.vectors[row],
                    table.dated(row),
                )
                found.append((position, sentence))
        return found

    def reader_tokens(self, doc_id: str, row: int) -> ReaderTokens:
        """What the reader reads of sentence `row` of `doc_id` (empty arrays without one)."""
        table = self.sentences[doc_id]
        around = [r for r in (row - 1, row + 1) if 0 <= r < len(table.tokens)]
        neighbours = [table.tokens[r] for r in around if len(table.tokens[r])]
        sentence = table.tokens[row]
        return ReaderTokens(
            sentence,
            np.vstack(neighbours) if neighbours else sentence[:0],
            self.titles[doc_id],
        )

    def event_dates_at(self, doc_id: str, start: int, end: int) -> Dates:
        """The event dates of the sentence of `doc_id` that overlaps [start, end) the most."""
        table = self.sentences.get(doc_id)
        if table is None or not len(table.spans):
            return ()
        return table.dated(table.nearest(start, end))

    def updated(
        self,
        embedder: Embedder,
        add: Iterable[Article] = (),
        remove: Iterable[str] = (),
        progress: Progress | None = None,
        reader: TokenProjection | None = None,
        cache: EmbeddingCache | None = None,
    ) -> "Snapshot":
        """A new snapshot with `remove`d doc_ids gone and `add`ed articles added or replaced."""
        removed = set(remove)
        return build_snapshot(
            embedder,
            self.manifest.chunk_size,
            self.manifest.chunk_overlap,
            keep={k: v for k, v in self.articles.items() if k not in removed},
            add=list(add),
            base=self,
            progress=progress,
            reader=reader,
            cache=cache,
        )

    def save(self, folder: Path) -> None:
        """Write the snapshot's files and a manifest with their checksums into `folder`."""
        folder.mkdir(parents=True)
        write_store(
            folder / STORE_FILE,
            self.articles.values(),
            self.passages.values(),
            (
                (doc_id, int(s), int(e), table.vectors[row], table.dated(row), table.tokens[row])
                for doc_id, table in self.sentences.items()
                for row, (s, e) in enumerate(table.spans)
            ),
            self.titles.items(),
        )
        self.vectors.save(folder / VECTORS_FILE)
        self.lexical.save(folder / LEXICAL_DIR)
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        checksums = {str(p.relative_to(folder)): file_sha256(p) for p in files}
        Manifest(**{**self.manifest.__dict__, "checksums": checksums}).write(folder)

    @classmethod
    def load(cls, folder: Path, manifest: Manifest) -> "Snapshot":
        """Read a snapshot whose manifest has been checked; verify its counts."""
        articles, passages, sentence_rows, titles = read_store(
            folder / STORE_FILE, manifest.dimension, manifest.reader_dimension
        )
        vectors = VectorIndex.load(folder / VECTORS_FILE)
        lexical = LexicalIndex.load(folder / LEXICAL_DIR)
        counts = {
            "articles": (len(articles), manifest.articles),
            "passages": (len(passages), manifest.passages),
            "vectors": (len(vectors), manifest.passages),
            "lexical entries": (len(lexical.ids), manifest.passages),
            "sentences": (len(sentence_rows), manifest.sentences),
        }
        for name, (found, expected) in counts.items():
            if found != expected:
                raise IndexCorruptError(f"{folder}: {found} {name}, the manifest says {expected}")
        if vectors.dimension != manifest.dimension:
            raise IndexCorruptError(f"{folder}: vectors have dimension {vectors.dimension}")
        return cls(
            manifest,
            {a.doc_id: a for a in articles},
            {p.vector_id: p for p in passages},
            vectors,
            lexical,
            _sentence_tables(sentence_rows, manifest.dimension),
            titles,
        )


def build_snapshot(
    embedder: Embedder,
    chunk_size: int,
    chunk_overlap: int,
    keep: dict[str, Article],
    add: list[Article],
    base: Snapshot | None = None,
    progress: Progress | None = None,
    reader: TokenProjection | None = None,
    cache: EmbeddingCache | None = None,
) -> Snapshot:
    """Build a snapshot of `keep` + `add`, reusing `base`'s vectors for unchanged articles.
    With a `reader` (and an embedder that gives token vectors), every sentence and title
    also gets its token vectors in the reader's space. Embeddings found in `cache` are not
    computed again; new ones are added to it."""
    articles = dict(keep) | {article.doc_id: article for article in add}
    if not hasattr(embedder, "embed_passages_with_tokens"):
        reader = None
    reader_id = reader.id if reader else None
    reusable = reusable_articles(
        base, articles, embedder.model_id, chunk_size, chunk_overlap, reader_id
    )
    splitter = make_splitter(chunk_size, chunk_overlap)
    fresh = [a for doc_id, a in sorted(articles.items()) if doc_id not in reusable]

    passages = (
        {p.vector_id: p for p in base.passages.values() if p.doc_id in reusable} if base else {}
    )
    vectors = _clone_vectors(base, embedder.dimension, keep_ids=set(passages))
    sentences = {doc_id: base.sentences[doc_id] for doc_id in reusable} if base else {}
    titles = {doc_id: base.titles[doc_id] for doc_id in reusable} if base else {}

    new_passages = [p for article in fresh for p in chunk_article(article, splitter)]
    new_spans = {a.doc_id: sentence_spans(a.text) for a in fresh}
    sentence_texts = [articles[d].text[s:e] for d, spans in new_spans.items() for s, e in spans]
    if progress and fresh:
        progress(
            f"Embedding {len(new_passages)} passages and {len(sentence_texts)} sentences "
            f"of {len(fresh)} articles with {embedder.model_id}"
        )
    show = progress is not None
    passage_vectors, _ = embed_texts(embedder, [p.text for p in new_passages], cache, None, show)
    titled = sentence_texts + [a.title for a in fresh] * (reader is not None)
    sentence_vectors, sentence_tokens = embed_texts(embedder, titled, cache, reader, show)
    sentence_vectors = sentence_vectors[: len(sentence_texts)]
    title_tokens = sentence_tokens[len(sentence_texts) :] or [NO_TOKENS] * len(fresh)
    titles |= {a.doc_id: tokens for a, tokens in zip(fresh, title_tokens, strict=True)}

    if new_passages:
        vectors.add(np.array([p.vector_id for p in new_passages]), passage_vectors)
    passages |= {p.vector_id: p for p in new_passages}
    row = 0
    for doc_id, spans in new_spans.items():
        sentences[doc_id] = SentenceTable(
            np.array(spans, dtype=np.int64).reshape(-1, 2),
            sentence_vectors[row : row + len(spans)],
            tuple(sentence_tokens[row : row + len(spans)]),
        )
        row += len(spans)
    dated = {d for d in reusable if base is not None and base.articles[d] == articles[d]}
    sentences = {
        doc_id: table if doc_id in dated else _with_event_dates(table, articles[doc_id])
        for doc_id, table in sentences.items()
    }

    ordered = sorted(passages.values(), key=lambda p: (p.doc_id, p.start, p.end))
    lexical = LexicalIndex.build([p.vector_id for p in ordered], [p.text for p in ordered])
    manifest = Manifest(
        model=embedder.model_id,
        dimension=embedder.dimension,
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        articles=len(articles),
        passages=len(passages),
        sentences=sum(len(t.spans) for t in sentences.values()),
        corpus_fingerprint=corpus_fingerprint(articles.values()),
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        reader=reader_id,
        reader_dimension=reader.dimension if reader else 0,
    )
    return Snapshot(manifest, articles, passages, vectors, lexical, sentences, titles)


def corpus_fingerprint(articles: Iterable[Article]) -> str:
    """A hash of every article's id, metadata and text, independent of order."""
    digest = hashlib.sha256()
    for article in sorted(articles, key=lambda a: a.doc_id):
        record = {**article.__dict__, "published": str(article.published)}
        digest.update(json.dumps(record, sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()


def reusable_articles(
    base: Snapshot | None,
    articles: dict[str, Article],
    model: str,
    size: int,
    overlap: int,
    reader: str | None,
) -> set[str]:
    """doc_ids whose passages and vectors in `base` are still valid."""
    if base is None:
        return set()
    m = base.manifest
    if (m.model, m.chunk_size, m.chunk_overlap, m.reader) != (model, size, overlap, reader):
        return set()
    return {
        d for d, a in articles.items() if d in base.articles and base.articles[d].text == a.text
    }


def _clone_vectors(base: Snapshot | None, dimension: int, keep_ids: set[int]) -> VectorIndex:
    if base is None or not keep_ids:
        return VectorIndex.empty(dimension)
    clone = base.vectors.copy()
    clone.remove(set(base.passages) - keep_ids)
    return clone


def _with_event_dates(table: SentenceTable, article: Article) -> SentenceTable:
    """`table` with the event dates of its sentences, computed afresh: they depend on the
    publication date, which may change while the text (and so the vectors) stays. (An
    article unchanged in every field keeps the dates it had.)"""
    spans = [(int(s), int(e)) for s, e in table.spans]
    return replace(table, event_dates=tuple(event_dates(article.text, spans, article.published)))


def _sentence_tables(rows: list[SentenceRow], dimension: int) -> dict[str, SentenceTable]:
    grouped: dict[str, list[SentenceRow]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row)
    return {
        doc_id: SentenceTable(
            np.array([(r[1], r[2]) for r in items], dtype=np.int64).reshape(-1, 2),
            np.vstack([r[3] for r in items]).astype(np.float32).reshape(-1, dimension),
            tuple(r[5] for r in items),
            tuple(r[4] for r in items),
        )
        for doc_id, items in grouped.items()
    }
