"""The HTTP contract: request and response bodies (see DESIGN.md)."""

import re
from datetime import date
from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StrictStr,
    Tag,
    create_model,
    model_validator,
)
from pydantic_core import PydanticCustomError

from corpus.article import DOC_ID, Article
from corpus.clean import VISIBLE
from index.query import Mode
from service.answering import MAX_K


def _iso_date(value: object) -> object:
    """Only YYYY-MM-DD: pydantic alone would take 0 or "0" as a timestamp (1970-01-01)."""
    if isinstance(value, date) or (
        isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value)
    ):
        return value
    raise ValueError("expected a date as YYYY-MM-DD")


IsoDate = Annotated[date, BeforeValidator(_iso_date)]


def _json_integer(value: object) -> object:
    """A JSON number with no fractional part (3 or 3.0, as JSON Schema's "integer" says), not a
    string nor a boolean."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


def _visible(value: str) -> str:
    if not re.search(VISIBLE, value):
        raise ValueError("empty: nothing but spaces and invisible characters")
    return value


Visible = Annotated[
    StrictStr, Field(min_length=1, json_schema_extra={"pattern": VISIBLE}), AfterValidator(_visible)
]
"""A string with something left once typography is normalised and spaces stripped."""


class SearchRequest(BaseModel):
    """The question and its options; `query_model` sets the query's length limit."""

    model_config = ConfigDict(extra="forbid")

    query: Annotated[StrictStr, Field(min_length=1, description="The question.")]
    k: Annotated[
        int, Field(ge=1, le=MAX_K, description="How many passages."), BeforeValidator(_json_integer)
    ] = 5
    mode: Mode = Mode.HYBRID
    sources: list[StrictStr] | None = Field(
        None, max_length=100, description="Only these sites (case does not matter)."
    )
    published_from: IsoDate | None = Field(None, description="Only articles published on or after.")
    published_to: IsoDate | None = Field(None, description="Only articles published on or before.")
    as_of: IsoDate | None = Field(
        None,
        description="Answer as the news stood that day: only articles published on or before it.",
    )


def search_request(max_query_chars: int) -> type[SearchRequest]:
    """SearchRequest whose schema states the configured query limit and that a query must hold
    a visible character (the core refuses the rest with the same 422)."""
    query = Annotated[
        StrictStr,
        Field(
            min_length=1,
            max_length=max_query_chars,
            json_schema_extra={"pattern": VISIBLE},
            description="The question.",
        ),
        AfterValidator(_visible),
    ]
    return create_model("SearchRequest", __base__=SearchRequest, query=(query, ...))


class DocumentSummary(BaseModel):
    """An article's metadata (the fields of `corpus.Article` but its text) and its length."""

    doc_id: str
    title: str
    source: str | None
    url: str | None
    published: date | None
    published_inferred: bool
    language: str
    chars: int

    @classmethod
    def of(cls, article: Article) -> Self:
        return cls.model_validate(vars(article) | {"chars": len(article.text)})


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


class ArticleIn(BaseModel):
    """An article's content, exactly one of `text` and `html` (cleaned as the CLI does; a page
    with no main text found is indexed by its visible text), and its metadata."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "oneOf": [
                {"required": [name], "properties": {name: {"type": "string"}}}
                for name in ("text", "html")
            ]
        },
    )

    title: StrictStr | None = Field(None, max_length=500)
    text: Visible | None = None
    html: Visible | None = None
    source: StrictStr | None = Field(None, max_length=200)
    url: StrictStr | None = Field(None, max_length=2000)
    published: IsoDate | None = None
    language: StrictStr = Field("fr", pattern=r"^[a-z]{2,3}$")

    @model_validator(mode="after")
    def _one_body(self) -> "ArticleIn":
        if (self.text is None) == (self.html is None):
            raise ValueError("give exactly one of 'text' and 'html'")
        return self


class DocumentIn(ArticleIn):
    """An article to add; without a `doc_id`, it gets one from its text."""

    doc_id: StrictStr | None = Field(None, pattern=DOC_ID)


class DocumentBatch(BaseModel):
    """Several articles at once, applied in order (a later one with the same doc_id wins)."""

    model_config = ConfigDict(extra="forbid")

    documents: list[DocumentIn] = Field(min_length=1)


def _shape(body: object) -> str:
    return "batch" if isinstance(body, dict) and "documents" in body else "article"


NewDocuments = Annotated[
    Annotated[DocumentIn, Tag("article")] | Annotated[DocumentBatch, Tag("batch")],
    Discriminator(_shape),
]
"""POST /documents: one article, or a batch; errors are reported for the shape sent only."""
