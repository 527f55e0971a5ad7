"""Filters as arrays: each passage row's article (in one segment), and each article's source
and publication day, so that a filter is a few numpy operations whatever the corpus size."""

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Protocol

import numpy as np

from corpus import Article


class Restriction(Protocol):
    """What a filter restricts: sources (any case) and an inclusive publication range."""

    @property
    def sources(self) -> frozenset[str] | None: ...

    @property
    def published_from(self) -> date | None: ...

    @property
    def published_to(self) -> date | None: ...


class RowFilter:
    """Which rows of a segment a restriction allows, without a loop over passages per query."""

    def __init__(self, articles: Mapping[str, Article], row_docs: Sequence[str]) -> None:
        order = sorted(articles)
        self._position = {doc_id: i for i, doc_id in enumerate(order)}
        self._row_doc = np.fromiter(
            (self._position[d] for d in row_docs), dtype=np.int64, count=len(row_docs)
        )
        self._sources = np.array([(articles[d].source or "").casefold() for d in order])
        days = (articles[d].published for d in order)
        self._days = np.fromiter(
            (day.toordinal() if day else -1 for day in days), dtype=np.int64, count=len(order)
        )

    def mask(self, restriction: Restriction) -> np.ndarray:
        """A boolean per row: True where the row's article passes `restriction`."""
        allowed = np.ones(len(self._days), dtype=bool)
        if restriction.sources:
            wanted = [s.casefold() for s in restriction.sources]
            allowed &= np.isin(self._sources, wanted)
        if restriction.published_from is not None:
            allowed &= self._days >= restriction.published_from.toordinal()
        if restriction.published_to is not None:
            allowed &= (self._days >= 0) & (self._days <= restriction.published_to.toordinal())
        return allowed[self._row_doc]

    def rows_of(self, doc_ids: Iterable[str]) -> np.ndarray:
        """A boolean per row: True where the row's article is one of `doc_ids`."""
        chosen = np.zeros(len(self._days), dtype=bool)
        chosen[[self._position[d] for d in doc_ids if d in self._position]] = True
        return chosen[self._row_doc]
