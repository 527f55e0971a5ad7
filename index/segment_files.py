"""A segment on disk: the files it is written to (a SQLite store, its layout's arrays, its
sentence vectors as one float16 matrix, its FAISS passage index with its shards of quantised
codes, its BM25 postings), where they lie in a generation folder, hard-linking them into a new
generation, and opening them again with their counts verified."""

import os
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import numpy as np

from index.layout import LAYOUT_FILE, SegmentLayout
from index.lexical import LexicalIndex
from index.manifest import IndexCorruptError, Manifest, SegmentEntry, file_checksum
from index.matrix_file import MatrixFile
from index.segment import Segment, SentenceTable
from index.store import Store, write_store
from index.stored import StoredArticles, StoredPassages, StoredSentences, StoredTitles
from index.vectors import VectorIndex

STORE_FILE = "store.sqlite"
VECTORS_FILE = "vectors.faiss"
SENTENCE_VECTORS_FILE = "sentences.npy"  # float16, one row per sentence, by doc_id then start
LEXICAL_DIR = "lexical"
SEGMENTS_DIR = "segments"


class Stored(NamedTuple):
    """Where a segment's files are on disk, checked, and their checksums by path in `folder`."""

    folder: Path
    checksums: dict[str, str]


def segment_prefixes(manifest: Manifest) -> list[str]:
    """Where each segment a manifest lists lies in a generation folder: the last one at its
    top, the others under segments/<name>/."""
    last = len(manifest.segments) - 1
    return [
        "" if i == last else f"{SEGMENTS_DIR}/{entry.name}/"
        for i, entry in enumerate(manifest.segments)
    ]


def stored_segments(folder: Path, manifest: Manifest) -> dict[str, Stored]:
    """Where each segment of the generation in `folder` has its files, with their checksums."""
    found = {}
    for entry, prefix in zip(manifest.segments, segment_prefixes(manifest), strict=True):
        own = (
            (name, digest)
            for name, digest in manifest.checksums.items()
            if (name.startswith(prefix) if prefix else not name.startswith(f"{SEGMENTS_DIR}/"))
        )
        found[entry.name] = Stored(folder / prefix, {n.removeprefix(prefix): d for n, d in own})
    return found


def link_segment(source: Stored, target: Path) -> dict[str, str] | None:
    """Hard-link the files of a stored segment into `target`; their checksums, or None (and
    nothing left in `target`) when that is not possible."""
    made: list[Path] = []
    try:
        for name in source.checksums:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            os.link(source.folder / name, target / name)
            made.append(target / name)
    except OSError:
        for path in made:
            path.unlink()
        return None
    return dict(source.checksums)


def write_segment(segment: Segment, target: Path) -> dict[str, str]:
    """Write a segment's store, sentence vectors, passage vectors and lexical index into
    `target`; their checksums."""
    target.mkdir(parents=True, exist_ok=True)
    write_store(
        target / STORE_FILE,
        segment.articles.values(),
        (
            (doc_id, int(s), int(e), table.dated(row), table.tokens[row])
            for doc_id, table in segment.sentences.items()
            for row, (s, e) in enumerate(table.spans)
        ),
        segment.titles.items(),
    )
    segment.layout.save(target / LAYOUT_FILE)
    tables = (segment.sentences[doc_id] for doc_id in segment.layout.doc_ids.tolist())
    _write_sentence_matrix(
        target / SENTENCE_VECTORS_FILE,
        tables,
        len(segment.layout.sentence_spans),
        segment.vectors.dimension,
    )
    vectors = segment.vectors.save(target / VECTORS_FILE)
    segment.lexical.save(target / LEXICAL_DIR)
    lexical = sorted(p for p in (target / LEXICAL_DIR).rglob("*") if p.is_file())
    files = [
        target / STORE_FILE,
        target / LAYOUT_FILE,
        target / SENTENCE_VECTORS_FILE,
        *vectors,
        *lexical,
    ]
    return {str(p.relative_to(target)): file_checksum(p) for p in files}


def _write_sentence_matrix(
    path: Path, tables: Iterable[SentenceTable], rows: int, dimension: int
) -> None:
    """The sentence vectors of `tables` (`rows` in all), one after the other, as one float16
    .npy matrix, written table by table (a copy of them all would double a large build's
    memory)."""
    header = {
        "descr": np.lib.format.dtype_to_descr(np.dtype(np.float16)),
        "fortran_order": False,
        "shape": (rows, dimension),
    }
    with path.open("wb") as sink:
        np.lib.format.write_array_header_1_0(sink, header)
        for table in tables:
            sink.write(np.ascontiguousarray(table.vectors, dtype=np.float16).tobytes())


def read_segment(folder: Path, entry: SegmentEntry, manifest: Manifest) -> Segment:
    """Open one segment's files (its rows are read from the store when asked for); verify its
    counts and that its rows line up."""
    layout = _layout(folder / LAYOUT_FILE)
    store = Store(folder / STORE_FILE, manifest.reader_dimension)
    sentence_vectors = _sentence_matrix(folder / SENTENCE_VECTORS_FILE)
    vectors = VectorIndex.load(folder / VECTORS_FILE)
    lexical = LexicalIndex.load(folder / LEXICAL_DIR)
    counts = {
        "articles": (len(layout.doc_ids), entry.articles),
        "stored articles": (store.articles, entry.articles),
        "passages": (len(layout.passage_docs), entry.passages),
        "vectors": (len(vectors), entry.passages),
        "scanned vectors": (vectors.scanned or entry.passages, entry.passages),
        "lexical entries": (len(lexical.ids), entry.passages),
        "sentences": (int(layout.sentence_counts.sum()), entry.sentences),
        "sentence spans": (len(layout.sentence_spans), entry.sentences),
        "sentence vectors": (len(sentence_vectors), entry.sentences),
    }
    for name, (found, expected) in counts.items():
        if found != expected:
            raise IndexCorruptError(f"{folder}: {found} {name}, the manifest says {expected}")
    for name, found in (
        ("vectors", vectors.dimension),
        ("sentence vectors", sentence_vectors.shape[1]),
    ):
        if found != manifest.dimension:
            raise IndexCorruptError(f"{folder}: {name} have dimension {found}")
    if not _ids_agree(lexical.ids, layout.passage_ids):
        raise IndexCorruptError(f"{folder}: the lexical index and the layout disagree")
    articles = StoredArticles(layout, store)
    return Segment(
        entry.name,
        articles,
        StoredPassages(layout, articles),
        vectors,
        lexical,
        StoredSentences(layout, store, sentence_vectors),
        StoredTitles(layout, store),
        layout,
        sentence_vectors,
    )


def _layout(path: Path) -> SegmentLayout:
    try:
        return SegmentLayout.load(path)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise IndexCorruptError(f"{path}: {error}") from error


def _ids_agree(vector_ids: np.ndarray, passage_ids: np.ndarray, sample: int = 1000) -> bool:
    """Whether the lexical index's vector ids are those of the layout's passages, on up to
    `sample` rows spread over the segment (the files' checksums cover the rest)."""
    rows = np.unique(np.linspace(0, len(passage_ids) - 1, min(sample, len(passage_ids)), dtype=int))
    expected = [int(passage_ids[r][:15], 16) for r in rows]
    return np.array_equal(vector_ids[rows], expected)


def _sentence_matrix(path: Path) -> MatrixFile:
    """The segment's sentence vectors, read from disk as they are used."""
    try:
        matrix = MatrixFile(path)
    except (OSError, ValueError) as error:
        raise IndexCorruptError(f"{path}: {error}") from error
    if matrix.dtype != np.float16:
        raise IndexCorruptError(f"{path}: {matrix.dtype}, not a float16 matrix")
    return matrix
