"""The metadata store: articles, passages, sentences (spans, event dates, reader tokens) and
titles in SQLite. The sentence vectors are a matrix beside it (index/segment_files.py)."""

import sqlite3
from collections.abc import Iterable
from contextlib import closing
from datetime import date
from pathlib import Path

import numpy as np

from corpus import Article
from index.chunking import Passage
from index.ingest import NO_TOKENS

SCHEMA = """
CREATE TABLE articles (
    doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, source TEXT, url TEXT, published TEXT,
    published_inferred INTEGER NOT NULL, language TEXT NOT NULL, text TEXT NOT NULL
);
CREATE TABLE passages (
    vector_id INTEGER PRIMARY KEY, passage_id TEXT NOT NULL UNIQUE,
    doc_id TEXT NOT NULL REFERENCES articles(doc_id), start INTEGER NOT NULL,
    "end" INTEGER NOT NULL, text TEXT NOT NULL
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
    passages: Iterable[Passage],
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
            "INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?)",
            ((p.vector_id, p.passage_id, p.doc_id, p.start, p.end, p.text) for p in passages),
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


def read_store(
    path: Path, token_dimension: int
) -> tuple[list[Article], list[Passage], list[SentenceRow], dict[str, np.ndarray]]:
    """Everything in the database at `path` (opened read-only)."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        articles = [
            Article(
                doc_id,
                title,
                text,
                source,
                url,
                published and date.fromisoformat(published),
                bool(inferred),
                language,
            )
            for doc_id, title, source, url, published, inferred, language, text in db.execute(
                "SELECT * FROM articles ORDER BY doc_id"
            )
        ]
        texts = {a.doc_id: a.text for a in articles}
        passages = [
            Passage(pid, doc_id, start, end, texts[doc_id])
            for pid, doc_id, start, end in db.execute(
                'SELECT passage_id, doc_id, start, "end" FROM passages'
                ' ORDER BY doc_id, start, "end"'
            )
        ]
        sentences = [
            (doc_id, start, end, _dates(days), _tokens(tokens, token_dimension))
            for doc_id, start, end, days, tokens in db.execute(
                "SELECT * FROM sentences ORDER BY doc_id, start"
            )
        ]
        titles = {
            doc_id: _tokens(tokens, token_dimension)
            for doc_id, tokens in db.execute("SELECT * FROM titles")
        }
    return articles, passages, sentences, titles


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
