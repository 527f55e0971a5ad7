"""The HTTP contract: request and response bodies (see DESIGN.md)."""

import datetime
import re
from datetime import date
from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    model_validator,
)

from index.search import Mode
from service.answering import MAX_K


def _iso_date(value: object) -> object:
    """Only YYYY-MM-DD: pydantic alone would take 0 or "0" as a timestamp (1970-01-01)."""
    if isinstance(value, date) or (
        isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value)
    ):
        return value
    raise ValueError("expected a date as YYYY-MM-DD")


IsoDate = Annotated[date, BeforeValidator(_iso_date)]


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: Annotated[StrictStr, Field(min_length=1, max_length=10_000, description="The question.")]
    k: Annotated[StrictInt, Field(ge=1, le=MAX_K, description="How many passages.")] = 5
    mode: Mode = Mode.HYBRID
    sources: list[StrictStr] | None = Field(None, max_length=100, description="Only these sites.")
    published_from: IsoDate | None = Field(None, description="Only articles published on or after.")
    published_to: IsoDate | None = Field(None, description="Only articles published on or before.")
    as_of: IsoDate | None = Field(
        None,
        description="Answer as the news stood that day: only articles published on or before it.",
    )


class CopyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    doc_id: str
    source: str | None
    url: str | None


class CitationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    doc_id: str
    title: str
    source: str | None
    url: str | None
    published: date | None
    start: int
    end: int
    also_published_by: list[CopyOut] = Field(
        default_factory=list,
        description="Syndicated copies of the same article on other sites (counted once).",
    )


class CitedSentenceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    text: str
    citation: CitationOut
    event_date: date | None = Field(description="The day the sentence tells, if dated.")


class PassageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    rank: int
    score: float
    text: str
    citation: CitationOut


class AnswerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    text: str
    citation: CitationOut
    confidence: float
    event_date: date | None = Field(
        None, description="When the answer's event happened (latest day its sentence tells)."
    )
    as_of: date | None = Field(
        None, description="The day the answer is known to hold (event, else publication date)."
    )
    superseded: list[CitedSentenceOut] = Field(
        default_factory=list,
        description="For a question about a current state: earlier states, newest first.",
    )
    supporting: list[CitedSentenceOut] = Field(
        default_factory=list, description="Sentences of other articles stating the same fact."
    )
    conflicting: list[CitedSentenceOut] = Field(
        default_factory=list,
        description="Sentences of other articles giving another value for it at the same time.",
    )


class SearchResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    query: str
    no_answer: bool
    answer: AnswerOut | None
    passages: list[PassageOut]
    took_ms: float


class DocumentSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    doc_id: str
    title: str
    source: str | None
    url: str | None
    published: date | None
    published_inferred: bool
    language: str
    chars: int


class DocumentOut(DocumentSummary):
    text: str


class Health(BaseModel):
    status: str
    reason: str | None = None
    model: str
    dimension: int
    articles: int
    passages: int
    sentences: int
    built_at: str
    corpus_fingerprint: str


class ErrorOut(BaseModel):
    detail: str | list[dict[str, object]]
    message: str


class DocumentIn(BaseModel):
    """An article to add: `text` or `html` (cleaned as the CLI does) plus metadata."""

    model_config = ConfigDict(extra="forbid")

    doc_id: StrictStr | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
    title: StrictStr | None = Field(None, max_length=500)
    text: StrictStr | None = Field(None, min_length=1)
    html: StrictStr | None = Field(None, min_length=1)
    source: StrictStr | None = Field(None, max_length=200)
    url: StrictStr | None = Field(None, max_length=2000)
    published: IsoDate | None = None
    language: StrictStr = Field("fr", pattern=r"^[a-z]{2,3}$")

    @model_validator(mode="after")
    def _one_body(self) -> "DocumentIn":
        if (self.text is None) == (self.html is None):
            raise ValueError("give exactly one of 'text' and 'html'")
        return self


class DocumentBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    documents: list[DocumentIn] = Field(min_length=1)


class TimelineEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    date: datetime.date = Field(description="The day of the event.")
    text: str = Field(description="The sentence that tells it (that of the first citation).")
    citations: list[CitationOut] = Field(description="Every sentence telling it, one per article.")
    sources: int = Field(description="How many articles tell it.")
    published: datetime.date | None = Field(description="When it was first reported.")


class TimelineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    query: str
    events: list[TimelineEventOut] = Field(description="Sorted by date, oldest first.")
    took_ms: float
