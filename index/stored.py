"""A loaded segment's articles, passages, sentence tables and titles, read from its store when
asked (the most recently asked kept in memory): loading a segment reads its layout's arrays, not
every row, so a large index starts fast and its texts stay on disk."""

from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from typing import TypeVar

import numpy as np

from corpus import Article
from index.chunking import Passage
from index.layout import SegmentLayout
from index.matrix_file import MatrixFile
from index.segment import SentenceDetails, SentenceTable
from index.store import Store

CACHED = 4096  # articles (and tables, titles) kept per segment once read

Value = TypeVar("Value")


class _ByArticle(Mapping[str, Value]):
    """A mapping keyed by the segment's doc_ids, whose values are read on demand."""

    def __init__(self, layout: SegmentLayout) -> None:
        self._layout = layout
        self._cached = lru_cache(maxsize=CACHED)(self._read)

    def __getitem__(self, doc_id: str) -> Value:
        position = self._layout.position(doc_id)
        if position is None:
            raise KeyError(doc_id)
        return self._cached(position)

    def __contains__(self, doc_id: object) -> bool:
        return isinstance(doc_id, str) and self._layout.position(doc_id) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._layout.doc_ids.tolist())

    def __len__(self) -> int:
        return len(self._layout.doc_ids)

    def _read(self, position: int) -> Value:
        raise NotImplementedError


class StoredArticles(_ByArticle[Article]):
    def __init__(self, layout: SegmentLayout, store: Store) -> None:
        super().__init__(layout)
        self._store = store

    def _read(self, position: int) -> Article:
        return self._store.article(str(self._layout.doc_ids[position]))


class StoredTitles(_ByArticle[np.ndarray]):
    """The reader token vectors of each article's title."""

    def __init__(self, layout: SegmentLayout, store: Store) -> None:
        super().__init__(layout)
        self._store = store

    def _read(self, position: int) -> np.ndarray:
        return self._store.title_tokens(str(self._layout.doc_ids[position]))


class StoredSentences(_ByArticle[SentenceTable]):
    """Each article's sentence table: spans from the layout, vectors read from the segment's
    matrix file (rows in the layout's order), details from the store when first asked for."""

    def __init__(self, layout: SegmentLayout, store: Store, vectors: MatrixFile) -> None:
        super().__init__(layout)
        self._store = store
        self._vectors = vectors

    def _read(self, position: int) -> SentenceTable:
        first, last = self._layout.sentence_starts[position : position + 2].tolist()
        doc_id = str(self._layout.doc_ids[position])
        return SentenceTable(
            self._layout.sentence_spans[first:last],
            self._vectors.rows(first, last),
            lambda: SentenceDetails(*self._store.sentences(doc_id)),
        )


class StoredPassages(Sequence[Passage]):
    """The segment's passages by row, slicing their article's text."""

    def __init__(self, layout: SegmentLayout, articles: StoredArticles) -> None:
        self._layout = layout
        self._articles = articles

    def __len__(self) -> int:
        return len(self._layout.passage_docs)

    def __getitem__(self, row: int) -> Passage:  # type: ignore[override]
        layout = self._layout
        doc_id = str(layout.doc_ids[layout.passage_docs[row]])
        start, end = (int(x) for x in layout.passage_spans[row])
        text = self._articles[doc_id].text
        return Passage(layout.passage_ids[row].decode(), doc_id, start, end, text)
