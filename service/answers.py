"""What an answer is made of: cited passages, the answer sentence with its citation and the
news around it. Plain data, shared by the answerer, the HTTP and Slack layers and the HTTP
client (which imports it without loading the index)."""

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Citation:
    """Where a text comes from: `article.text[start:end]` is the cited text."""

    doc_id: str
    title: str
    source: str | None
    url: str | None
    published: date | None
    start: int
    end: int
    also_published_by: tuple["Copy", ...] = ()  # syndicated copies of the same article


@dataclass(frozen=True)
class Copy:
    """Another site's copy of the cited article."""

    doc_id: str
    source: str | None
    url: str | None


@dataclass(frozen=True)
class CitedSentence:
    """A sentence of another article about the answer's fact, with the day it tells."""

    text: str
    citation: Citation
    event_date: date | None


@dataclass(frozen=True)
class CitedPassage:
    rank: int
    score: float
    text: str
    citation: Citation


@dataclass(frozen=True)
class AnswerSentence:
    text: str
    citation: Citation
    confidence: float
    event_date: date | None = None  # the latest day of the events the sentence tells
    as_of: date | None = None  # the day the answer is known to hold (event, else publication)
    superseded: tuple[CitedSentence, ...] = ()  # earlier states, newest first
    supporting: tuple[CitedSentence, ...] = ()  # other articles stating the same fact
    conflicting: tuple[CitedSentence, ...] = ()  # other articles giving another value


@dataclass(frozen=True)
class Answer:
    query: str
    no_answer: bool
    answer: AnswerSentence | None
    passages: list[CitedPassage]
    took_ms: float
    notice: str | None = None
