"""What a search is asked for besides the question: how it ranks (`Mode`) and which articles
it may return (`Filters`). Light on purpose: the command line and the HTTP client import it
without loading the index."""

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum


class Mode(StrEnum):
    DENSE = "dense"
    LEXICAL = "lexical"
    HYBRID = "hybrid"


@dataclass(frozen=True)
class Filters:
    """Restrict search to some sources (case does not matter) and a published date range
    (inclusive)."""

    sources: frozenset[str] | None = None
    published_from: date | None = None
    published_to: date | None = None

    def __bool__(self) -> bool:
        return (
            bool(self.sources) or self.published_from is not None or self.published_to is not None
        )

    def as_of(self, day: date | None) -> "Filters":
        """These filters, further restricted to articles published on or before `day`: what
        the news said as of that day."""
        if day is None:
            return self
        return replace(self, published_to=min(day, self.published_to or day))

    def __str__(self) -> str:
        parts = [f"source {' or '.join(sorted(self.sources))}"] if self.sources else []
        if self.published_from:
            parts.append(f"published on or after {self.published_from}")
        if self.published_to:
            parts.append(f"published on or before {self.published_to}")
        return ", ".join(parts) or "none"
