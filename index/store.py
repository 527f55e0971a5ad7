"""The metadata store: articles, sentences (event dates, reader tokens) and titles in SQLite,
read one article at a time. Passage and sentence spans are in the segment's layout
(index/layout.py), the sentence vectors a matrix beside it (index/segment_files.py)."""

import sqlite3
import threading
from collections.abc import Iterable
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from corpus import Article
from index.ingest import NO_TOKENS
from index.manifest import IndexCorruptError

SCHEMA = """
CREATE TABLE articles (
    doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, source TEXT, url TEXT, published TEXT,
    published_inferred INTEGER NOT NULL, language TEXT NOT NULL, text TEXT NOT NULL
);
CREATE TABLE sentences (
    doc_id TEXT NOT NULL REFERENCES articles(doc_id), start INTEGER NOT NULL,
    "end" INTEGER NOT NULL, event_dates TEXT NOT NULL, tokens BLOB NOT NULL,
    PRIMARY KEY (doc_id, start)
);
CREATE TABLE titles (
    doc_id TEXT PRIMARY KEY REFERENCES articles(doc_id), tokens BLOB NOT NULL
);
"""

SentenceRow = tuple[str, int, int, tuple[date, ...], np.ndarray]
"""doc_id, start, end, the event dates (see index.event_dates) and the reader's token vectors
(empty without a reader)."""


def write_store(
    path: Path,
    articles: Iterable[Article],
    sentences: Iterable[SentenceRow],
    titles: Iterable[tuple[str, np.ndarray]],
) -> None:
    """Create a new database at `path` holding everything given."""
    with closing(sqlite3.connect(path)) as db, db:
        db.executescript(SCHEMA)
        db.executemany(
            "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    a.doc_id,
                    a.title,
                    a.source,
                    a.url,
                    a.published and a.published.isoformat(),
                    int(a.published_inferred),
                    a.language,
                    a.text,
                )
                for a in articles
            ),
        )
        db.executemany(
            "INSERT INTO sentences VALUES (?, ?, ?, ?, ?)",
            (
                (doc, start, end, _dates_text(days), _tokens_blob(tokens))
                for doc, start, end, days, tokens in sentences
            ),
        )
        db.executemany(
            "INSERT INTO titles VALUES (?, ?)",
            ((doc, _tokens_blob(tokens)) for doc, tokens in titles),
        )


class Store:
    """A written store, opened read-only and read one article at a time; safe to share between
    threads (one connection, used under a lock: each read is a primary-key lookup)."""

    def __init__(self, path: Path, token_dimension: int) -> None:
        self._dimension = token_dimension
        self._lock = threading.Lock()
        uri = f"file:{path}?mode=ro&immutable=1"
        try:
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self.articles = self._one("SELECT count(*) FROM articles")[0]
        except sqlite3.DatabaseError as error:
            raise IndexCorruptError(f"{path}: {error}") from error

    def article(self, doc_id: str) -> Article:
        row = self._one("SELECT * FROM articles WHERE doc_id = ?", doc_id)
        doc_id, title, source, url, published, inferred, language, text = row
        day = published and date.fromisoformat(published)
        return Article(doc_id, title, text, source, url, day, bool(inferred), language)

    def sentences(self, doc_id: str) -> tuple[tuple[np.ndarray, ...], tuple[tuple[date, ...], ...]]:
        """The reader tokens and event dates of each sentence of `doc_id`, in text order."""
        rows = self._rows(
            "SELECT tokens, event_dates FROM sentences WHERE doc_id = ? ORDER BY start", doc_id
        )
        return (
            tuple(_tokens(tokens, self._dimension) for tokens, _ in rows),
            tuple(_dates(days) for _, days in rows),
        )

    def title_tokens(self, doc_id: str) -> np.ndarray:
        """The reader's token vectors of the title of `doc_id`."""
        row = self._one("SELECT tokens FROM titles WHERE doc_id = ?", doc_id)
        return _tokens(row[0], self._dimension)

    def _one(self, sql: str, *parameters: str) -> tuple[Any, ...]:
        """The first row `sql` selects; KeyError when there is none."""
        rows = self._rows(sql, *parameters)
        if not rows:
            raise KeyError(parameters[0] if parameters else sql)
        return rows[0]

    def _rows(self, sql: str, *parameters: str) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, parameters).fetchall()


def _tokens_blob(tokens: np.ndarray) -> bytes:
    return tokens.astype(np.float16).tobytes()


def _tokens(blob: bytes, dimension: int) -> np.ndarray:
    """Reader token vectors (float16, `dimension` columns; none without a reader)."""
    if dimension == 0:
        if blob:
            raise ValueError("reader tokens stored in an index built without a reader")
        return NO_TOKENS  # one shared empty array for every sentence
    tokens = np.frombuffer(blob, dtype=np.float16)
    if tokens.size % dimension:
        raise ValueError(f"reader tokens of {tokens.size} values do not fit {dimension} columns")
    return tokens.reshape(-1, dimension)


def _dates_text(days: tuple[date, ...]) -> str:
    """Event dates as stored: ISO dates separated by spaces ("" for none)."""
    return " ".join(day.isoformat() for day in days)


def _dates(text: str) -> tuple[date, ...]:
    if not text:
        return ()
    return tuple(date.fromisoformat(day) for day in text.split())
