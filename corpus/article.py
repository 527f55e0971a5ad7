"""The Article record: cleaned text plus the metadata a citation needs."""

import hashlib
from dataclasses import dataclass
from datetime import date

DOC_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
"""What a doc_id may be: 1-128 letters, digits, '.', '_' or '-', not starting with a sign."""


@dataclass(frozen=True)
class Article:
    """One cleaned news article; `text` is what citation offsets point into."""

    doc_id: str
    title: str
    text: str
    source: str | None = None
    url: str | None = None
    published: date | None = None
    published_inferred: bool = False
    language: str = "fr"


def content_id(text: str) -> str:
    """A stable id derived from content (16 hex digits of SHA-256)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
