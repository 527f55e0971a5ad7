"""Filters as arrays: each passage row's article (in one segment), and each article's source
and publication day, so that a filter is a few numpy operations whatever the corpus size."""

from collections.abc import Iterable
from datetime import date
from typing import Protocol

import numpy as np

from index.layout import SegmentLayout


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

    def __init__(self, layout: SegmentLayout) -> None:
        self._layout = layout

    def mask(self, restriction: Restriction) -> np.ndarray:
        """A boolean per row: True where the row's article passes `restriction`."""
        layout = self._layout
        allowed = np.ones(len(layout.days), dtype=bool)
        if restriction.sources:
            wanted = [s.casefold() for s in restriction.sources]
            allowed &= np.isin(layout.sources, wanted)
        if restriction.published_from is not None:
            allowed &= layout.days >= restriction.published_from.toordinal()
        if restriction.published_to is not None:
            allowed &= (layout.days >= 0) & (layout.days <= restriction.published_to.toordinal())
        return allowed[layout.passage_docs]

    def rows_of(self, doc_ids: Iterable[str]) -> np.ndarray:
        """A boolean per row: True where the row's article is one of `doc_ids`."""
        chosen = np.zeros(len(self._layout.days), dtype=bool)
        chosen[self._layout.positions(doc_ids)] = True
        return chosen[self._layout.passage_docs]
