"""An index snapshot: the segments of one consistent state of the index and the tombstones of
the articles replaced or deleted since each segment was written, read as one index.

Snapshots are immutable: an update makes a new snapshot holding the old one's segments plus one
new segment for the articles it adds or replaces (re-embedding only those whose text changed),
and tombstones for what it replaces or deletes, so a reader never sees a half-applied change and
a write costs what it changes. Small segments are merged as index.merging decides.
"""

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TypeVar

import numpy as np

from corpus import Article
from index.chunking import Passage
from index.embedding import Embedder, TokenProjection
from index.embedding_cache import EmbeddingCache
from index.event_dates import Dates
from index.manifest import IndexCorruptError, Manifest, SegmentEntry
from index.merged import MergedLexical, MergedVectors, Rows
from index.merging import to_merge
from index.segment import Segment, SentenceTable, build_segment, merge
from index.segment_files import (
    Stored,
    link_segment,
    read_segment,
    segment_prefixes,
    write_segment,
)

Progress = Callable[[str], None]


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


@dataclass(frozen=True, eq=False)
class Snapshot:
    """One consistent state of the index: `segments`, oldest first, and by segment name the
    doc_ids tombstoned in it (`deleted`). The other fields read them as one index: the live
    articles, passages (by vector id), sentence tables and titles (views that ask the segment
    holding each), and the row space (a row is a passage's place in the segments one after the
    other) that `vectors` and `lexical` search."""

    manifest: Manifest
    segments: tuple[Segment, ...]
    deleted: Mapping[str, frozenset[str]]
    articles: Mapping[str, Article] = field(init=False)
    passages: Mapping[int, Passage] = field(init=False)
    sentences: Mapping[str, SentenceTable] = field(init=False)
    titles: Mapping[str, np.ndarray] = field(init=False)  # reader token vectors of each title
    home: dict[str, str] = field(init=False)  # the segment holding each live article
    rows: Rows = field(init=False)
    vectors: MergedVectors = field(init=False)
    lexical: MergedLexical = field(init=False)

    def __post_init__(self) -> None:
        home: dict[str, str] = {}
        for segment in self.segments:
            gone = self.deleted.get(segment.name, frozenset())
            home |= dict.fromkeys((d for d in segment.articles if d not in gone), segment.name)
        named = {segment.name: segment for segment in self.segments}
        rows = Rows(self.segments, self.deleted)
        derived = {
            "articles": _Live(home, named, lambda s: s.articles),
            "passages": _PassagesById(rows),
            "sentences": _Live(home, named, lambda s: s.sentences),
            "titles": _Live(home, named, lambda s: s.titles),
            "home": home,
            "rows": rows,
            "vectors": MergedVectors(rows, self.manifest.dimension),
            "lexical": MergedLexical(rows),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    @cached_property
    def doc_ids(self) -> list[str]:
        """The live articles' doc_ids, sorted (once a snapshot: a listing pages through them)."""
        return sorted(self.home)

    def passage(self, row: int) -> Passage:
        """The passage at `row` of the row space."""
        return _passage_at(self.rows, row)

    def passage_sentence_vectors(self, row: int) -> np.ndarray:
        """The vectors (float16) of the sentences the passage at `row` is made of."""
        index, local = self.rows.locate(row)
        return self.segments[index].passage_sentence_vectors(local)

    def sentence_count(self) -> int:
        """How many sentences the live articles hold."""
        return sum(s.sentence_count(self.deleted.get(s.name, ())) for s in self.segments)

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
                    table.vectors[row].astype(np.float32),
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
        """A new snapshot with `remove`d doc_ids gone and `add`ed articles added or replaced
        (reading only those of this snapshot's articles that they concern)."""
        added = {a.doc_id: a for a in add}
        removed = set(remove) - added.keys()
        reader = _usable_reader(embedder, reader)
        m = self.manifest
        reader_id = reader.id if reader else None
        if not _compatible(self, embedder.model_id, m.chunk_size, m.chunk_overlap, reader_id):
            keep = {k: v for k, v in self.articles.items() if k not in removed}
            return build_snapshot(
                embedder,
                m.chunk_size,
                m.chunk_overlap,
                keep,
                list(added.values()),
                progress=progress,
                reader=reader,
                cache=cache,
            )
        fresh = [a for _, a in sorted(added.items()) if self.articles.get(a.doc_id) != a]
        gone = {d for d in removed if d in self.home} | {a.doc_id for a in fresh}
        return _extend(self, fresh, gone, embedder, progress, reader, cache)

    def segment_of(self, doc_id: str) -> Segment:
        """The segment holding the live copy of article `doc_id`."""
        return next(s for s in self.segments if s.name == self.home[doc_id])

    def merged(self, positions: Iterable[int], progress: bool = False) -> "Snapshot":
        """This state with the segments at `positions` merged into one, placed last (their
        tombstoned rows dropped; a progress bar while BM25 is rebuilt if asked)."""
        chosen = set(positions)
        picked = [s for i, s in enumerate(self.segments) if i in chosen]
        kept = tuple(s for i, s in enumerate(self.segments) if i not in chosen)
        fused = merge(picked, self.deleted, self.manifest.dimension, progress)
        deleted = {s.name: self.deleted[s.name] for s in kept if s.name in self.deleted}
        return _snapshot(self.manifest, (*kept, fused), deleted)

    def optimized(self, progress: bool = False) -> "Snapshot":
        """This state as a single segment without tombstones (itself if it is one already)."""
        if len(self.segments) <= 1 and not self.deleted:
            return self
        return self.merged(range(len(self.segments)), progress)

    def save(self, folder: Path, stored: Mapping[str, Stored] | None = None) -> None:
        """Write the snapshot into `folder`: the last segment's files at its top, the others
        under segments/<name>/, each hard-linked from where `stored` says its files are (else
        written), and a manifest with every file's checksum."""
        folder.mkdir(parents=True)
        checksums: dict[str, str] = {}
        prefixes = segment_prefixes(self.manifest)
        for segment, prefix in zip(self.segments, prefixes, strict=True):
            source = (stored or {}).get(segment.name)
            files = link_segment(source, folder / prefix) if source else None
            if files is None:
                files = write_segment(segment, folder / prefix)
            checksums |= {prefix + name: digest for name, digest in files.items()}
        Manifest(**{**self.manifest.__dict__, "checksums": checksums}).write(folder)

    @classmethod
    def load(
        cls, folder: Path, manifest: Manifest, held: Mapping[str, Segment] | None = None
    ) -> "Snapshot":
        """Read a snapshot whose manifest has been checked; verify its counts. The segments in
        `held` (by name) are taken from there, not read again."""
        segments = tuple(
            (held or {}).get(entry.name) or read_segment(folder / prefix, entry, manifest)
            for entry, prefix in zip(manifest.segments, segment_prefixes(manifest), strict=True)
        )
        deleted = {e.name: frozenset(e.deleted) for e in manifest.segments if e.deleted}
        for segment in segments:
            if not deleted.get(segment.name, frozenset()) <= segment.articles.keys():
                raise IndexCorruptError(f"{folder}: tombstones for articles {segment.name} lacks")
        snapshot = cls(manifest, segments, deleted)
        counts = {
            "articles": (len(snapshot.articles), manifest.articles),
            "passages": (len(snapshot.passages), manifest.passages),
            "vectors": (len(snapshot.vectors), manifest.passages),
            "sentences": (snapshot.sentence_count(), manifest.sentences),
        }
        for name, (found, expected) in counts.items():
            if found != expected:
                raise IndexCorruptError(f"{folder}: {found} {name}, the manifest says {expected}")
        return snapshot


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
    """A snapshot of `keep` + `add`. From a compatible `base` (same model, chunking and
    reader) it holds `base`'s segments plus one for the articles new or different there (taking
    `base`'s vectors of those whose text is unchanged), with tombstones for what they replace
    and for `base`'s articles left out, merged as index.merging says; otherwise one segment.
    With a `reader` (and an embedder that gives token vectors), every sentence and title also
    gets its token vectors in the reader's space. Embeddings found in `cache` are not computed
    again; new ones are added to it."""
    articles = dict(keep) | {article.doc_id: article for article in add}
    reader = _usable_reader(embedder, reader)
    reader_id = reader.id if reader else None
    fresh = [a for _, a in sorted(articles.items())]
    if base is not None and _compatible(
        base, embedder.model_id, chunk_size, chunk_overlap, reader_id
    ):
        fresh = [a for a in fresh if base.articles.get(a.doc_id) != a]
        gone = (base.articles.keys() - articles.keys()) | {a.doc_id for a in fresh}
        return _extend(base, fresh, gone, embedder, progress, reader, cache)
    manifest = _manifest(embedder, chunk_size, chunk_overlap, reader)
    return _with_segment(manifest, (), {}, fresh, {}, embedder, progress, reader, cache)


def _extend(
    base: Snapshot,
    fresh: list[Article],
    gone: Iterable[str],
    embedder: Embedder,
    progress: Progress | None,
    reader: TokenProjection | None,
    cache: EmbeddingCache | None,
) -> Snapshot:
    """`base` with its articles in `gone` tombstoned and a segment for `fresh` (taking `base`'s
    vectors of those whose text is unchanged), merged as index.merging says."""
    m = base.manifest
    reusable = reusable_articles(
        base, {a.doc_id: a for a in fresh}, m.model, m.chunk_size, m.chunk_overlap, m.reader
    )
    reused = {doc_id: base.segment_of(doc_id) for doc_id in reusable}
    manifest = _manifest(embedder, m.chunk_size, m.chunk_overlap, reader)
    deleted = _tombstoned(base, gone)
    return _with_segment(
        manifest, base.segments, deleted, fresh, reused, embedder, progress, reader, cache
    )


def _with_segment(
    manifest: Manifest,
    segments: tuple[Segment, ...],
    deleted: Mapping[str, frozenset[str]],
    fresh: list[Article],
    reused: Mapping[str, Segment],
    embedder: Embedder,
    progress: Progress | None,
    reader: TokenProjection | None,
    cache: EmbeddingCache | None,
) -> Snapshot:
    """A snapshot of `segments` (with tombstones `deleted`) plus a segment of `fresh` (those
    in `reused` taking their vectors from the segment given there), merged as index.merging
    says."""
    if fresh:
        splitting = (manifest.chunk_size, manifest.chunk_overlap)
        segment = build_segment(embedder, fresh, reused, splitting, progress, reader, cache)
        segments = (*segments, segment)
    snapshot = _snapshot(manifest, segments, deleted)
    while positions := to_merge([len(s) for s in snapshot.segments]):
        snapshot = snapshot.merged(positions, progress is not None)
    return snapshot


def _usable_reader(embedder: Embedder, reader: TokenProjection | None) -> TokenProjection | None:
    """`reader`, or None when `embedder` gives no token vectors to project."""
    return reader if hasattr(embedder, "embed_passages_with_tokens") else None


def _manifest(
    embedder: Embedder, chunk_size: int, chunk_overlap: int, reader: TokenProjection | None
) -> Manifest:
    """A manifest of an index built with these settings, counting nothing yet."""
    return Manifest(
        model=embedder.model_id,
        dimension=embedder.dimension,
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        articles=0,
        passages=0,
        sentences=0,
        corpus_fingerprint="",
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        reader=reader.id if reader else None,
        reader_dimension=reader.dimension if reader else 0,
    )


def reusable_articles(
    base: Snapshot | None,
    articles: dict[str, Article],
    model: str,
    size: int,
    overlap: int,
    reader: str | None,
) -> set[str]:
    """doc_ids whose passages and vectors in `base` are still valid."""
    if base is None or not _compatible(base, model, size, overlap, reader):
        return set()
    return {
        d for d, a in articles.items() if d in base.articles and base.articles[d].text == a.text
    }


def corpus_fingerprint(segments: Iterable[Segment], deleted: Mapping[str, frozenset[str]]) -> str:
    """A hash of every live article's id, metadata and text, independent of order: the SHA-256
    of their digests (index.segment.article_digest) sorted and joined."""
    live = [
        np.delete(s.layout.digests, s.layout.positions(deleted.get(s.name, ())), axis=0)
        for s in segments
    ]
    digests = np.ascontiguousarray(np.concatenate(live) if live else np.zeros((0, 32), np.uint8))
    return hashlib.sha256(
        np.sort(digests.view(np.dtype((np.void, 32))).ravel()).tobytes()
    ).hexdigest()


def _compatible(base: Snapshot, model: str, size: int, overlap: int, reader: str | None) -> bool:
    m = base.manifest
    return (m.model, m.chunk_size, m.chunk_overlap, m.reader) == (model, size, overlap, reader)


def _tombstoned(base: Snapshot, gone: Iterable[str]) -> dict[str, frozenset[str]]:
    """`base`'s tombstones plus those of its live articles in `gone`."""
    deleted = dict(base.deleted)
    for doc_id in gone:
        if doc_id in base.home:
            name = base.home[doc_id]
            deleted[name] = deleted.get(name, frozenset()) | {doc_id}
    return deleted


def _snapshot(
    manifest: Manifest, segments: tuple[Segment, ...], deleted: Mapping[str, frozenset[str]]
) -> Snapshot:
    """A snapshot of `segments` and `deleted`, with `manifest` (model, chunking, reader, build
    time) listing them and counting what is live."""
    entries = [
        SegmentEntry(
            s.name,
            len(s.articles),
            len(s.passages),
            s.sentence_count(),
            sorted(deleted.get(s.name, ())),
        )
        for s in segments
    ]
    gone = [deleted.get(s.name, frozenset()) for s in segments]
    listed = replace(
        manifest,
        articles=sum(len(s.articles) - len(g) for s, g in zip(segments, gone, strict=True)),
        passages=sum(
            int(np.count_nonzero(~s.rows_of(g))) for s, g in zip(segments, gone, strict=True)
        ),
        sentences=sum(s.sentence_count(g) for s, g in zip(segments, gone, strict=True)),
        corpus_fingerprint=corpus_fingerprint(segments, deleted),
        segments=entries,
        checksums={},
    )
    return Snapshot(listed, segments, deleted)


Value = TypeVar("Value")


class _Live(Mapping[str, Value]):
    """One of the segments' mappings by doc_id (`part`: articles, sentences or titles), read
    as one over the live articles: each is asked of the segment holding it (`home`)."""

    def __init__(
        self,
        home: dict[str, str],
        named: dict[str, Segment],
        part: Callable[[Segment], Mapping[str, Value]],
    ) -> None:
        self._home = home
        self._named = named
        self._part = part

    def __getitem__(self, doc_id: str) -> Value:
        return self._part(self._named[self._home[doc_id]])[doc_id]

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._home

    def __iter__(self) -> Iterator[str]:
        return iter(self._home)

    def __len__(self) -> int:
        return len(self._home)


class _PassagesById(Mapping[int, Passage]):
    """The live passages by vector id."""

    def __init__(self, rows: Rows) -> None:
        self._rows = rows

    @cached_property
    def _by_id(self) -> np.ndarray:
        return np.argsort(self._rows.ids)

    def __getitem__(self, vector_id: int) -> Passage:
        ids = self._rows.ids
        found = int(np.searchsorted(ids, vector_id, sorter=self._by_id))
        if vector_id < 0 or found == len(ids) or ids[self._by_id[found]] != vector_id:
            raise KeyError(vector_id)
        return _passage_at(self._rows, int(self._by_id[found]))

    def __iter__(self) -> Iterator[int]:
        return iter(self._rows.ids[self._rows.live].tolist())

    def __len__(self) -> int:
        return int(np.count_nonzero(self._rows.live))


def _passage_at(rows: Rows, row: int) -> Passage:
    index, local = rows.locate(row)
    return rows.segments[index].passages[local]
