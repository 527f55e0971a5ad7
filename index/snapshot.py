"""An index snapshot: the segments of one consistent state of the index and the tombstones of
the articles replaced or deleted since each segment was written, read as one index.

Snapshots are immutable: an update makes a new snapshot holding the old one's segments plus one
new segment for the articles it adds or replaces (re-embedding only those whose text changed),
and tombstones for what it replaces or deletes, so a reader never sees a half-applied change and
a write costs what it changes. Small segments are merged as index.merging decides.
"""

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

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
    articles, passages (by vector id), sentence tables and titles, and the row space (a row is
    a passage's place in the segments one after the other) that `vectors` and `lexical`
    search."""

    manifest: Manifest
    segments: tuple[Segment, ...]
    deleted: Mapping[str, frozenset[str]]
    articles: dict[str, Article] = field(init=False)
    passages: dict[int, Passage] = field(init=False)
    sentences: dict[str, SentenceTable] = field(init=False)
    titles: dict[str, np.ndarray] = field(init=False)  # reader token vectors of each title
    home: dict[str, str] = field(init=False)  # the segment holding each live article
    rows: Rows = field(init=False)
    vectors: MergedVectors = field(init=False)
    lexical: MergedLexical = field(init=False)

    def __post_init__(self) -> None:
        articles: dict[str, Article] = {}
        passages: dict[int, Passage] = {}
        sentences: dict[str, SentenceTable] = {}
        titles: dict[str, np.ndarray] = {}
        home: dict[str, str] = {}
        for segment in self.segments:
            gone = self.deleted.get(segment.name, frozenset())
            live = [d for d in segment.articles if d not in gone]
            articles |= {d: segment.articles[d] for d in live}
            sentences |= {d: segment.sentences[d] for d in live}
            titles |= {d: segment.titles[d] for d in live}
            home |= dict.fromkeys(live, segment.name)
            if gone:
                passages |= {i: p for i, p in segment.by_id.items() if p.doc_id not in gone}
            else:
                passages |= segment.by_id
        rows = Rows(self.segments, self.deleted)
        derived = {
            "articles": articles,
            "passages": passages,
            "sentences": sentences,
            "titles": titles,
            "home": home,
            "rows": rows,
            "vectors": MergedVectors(rows, self.manifest.dimension),
            "lexical": MergedLexical(rows),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)

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

    def segment_of(self, doc_id: str) -> Segment:
        """The segment holding the live copy of article `doc_id`."""
        return next(s for s in self.segments if s.name == self.home[doc_id])

    def merged(self, positions: Iterable[int]) -> "Snapshot":
        """This state with the segments at `positions` merged into one, placed last (their
        tombstoned rows dropped)."""
        chosen = set(positions)
        picked = [s for i, s in enumerate(self.segments) if i in chosen]
        kept = tuple(s for i, s in enumerate(self.segments) if i not in chosen)
        fused = merge(picked, self.deleted, self.manifest.dimension)
        deleted = {s.name: self.deleted[s.name] for s in kept if s.name in self.deleted}
        return _snapshot(self.manifest, (*kept, fused), deleted)

    def optimized(self) -> "Snapshot":
        """This state as a single segment without tombstones (itself if it is one already)."""
        if len(self.segments) <= 1 and not self.deleted:
            return self
        return self.merged(range(len(self.segments)))

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
        sentences = sum(len(t.spans) for t in snapshot.sentences.values())
        counts = {
            "articles": (len(snapshot.articles), manifest.articles),
            "passages": (len(snapshot.passages), manifest.passages),
            "vectors": (len(snapshot.vectors), manifest.passages),
            "sentences": (sentences, manifest.sentences),
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
    if not hasattr(embedder, "embed_passages_with_tokens"):
        reader = None
    reader_id = reader.id if reader else None
    model, dimension = embedder.model_id, embedder.dimension
    reusable = reusable_articles(base, articles, model, chunk_size, chunk_overlap, reader_id)
    segments: tuple[Segment, ...] = ()
    deleted: dict[str, frozenset[str]] = {}
    fresh = [a for _, a in sorted(articles.items())]
    if base is not None and _compatible(base, model, chunk_size, chunk_overlap, reader_id):
        fresh = [a for a in fresh if base.articles.get(a.doc_id) != a]
        gone = (base.articles.keys() - articles.keys()) | {a.doc_id for a in fresh}
        segments, deleted = base.segments, _tombstoned(base, gone)
    else:
        base = None
    if fresh:
        kept = [a.doc_id for a in fresh if a.doc_id in reusable]
        reused = {d: base.segment_of(d) for d in kept} if base is not None else {}
        splitting = (chunk_size, chunk_overlap)
        segment = build_segment(embedder, fresh, reused, splitting, progress, reader, cache)
        segments = (*segments, segment)
    manifest = Manifest(
        model=model,
        dimension=dimension,
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        articles=0,
        passages=0,
        sentences=0,
        corpus_fingerprint="",
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        reader=reader_id,
        reader_dimension=reader.dimension if reader else 0,
    )
    snapshot = _snapshot(manifest, segments, deleted)
    while positions := to_merge([len(s) for s in snapshot.segments]):
        snapshot = snapshot.merged(positions)
    return snapshot


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
    """A hash of every live article's id, metadata and text, independent of order."""
    digests = sorted(
        digest
        for segment in segments
        for doc_id, digest in segment.digests.items()
        if doc_id not in deleted.get(segment.name, ())
    )
    return hashlib.sha256(b"".join(digests)).hexdigest()


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
            sum(len(t.spans) for t in s.sentences.values()),
            sorted(deleted.get(s.name, ())),
        )
        for s in segments
    ]
    live = [(s, d) for s in segments for d in s.articles if d not in deleted.get(s.name, ())]
    listed = replace(
        manifest,
        articles=len(live),
        passages=sum(int(np.count_nonzero(~s.rows_of(deleted.get(s.name, ())))) for s in segments),
        sentences=sum(len(s.sentences[d].spans) for s, d in live),
        corpus_fingerprint=corpus_fingerprint(segments, deleted),
        segments=entries,
        checksums={},
    )
    return Snapshot(listed, segments, deleted)
