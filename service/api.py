"""The HTTP API (FastAPI). It only translates: HTTP in, core call, HTTP out."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from corpus import Article
from index.search import Filters
from service.answering import QueryError, QuestionAnswerer
from service.schemas import (
    DocumentOut,
    DocumentSummary,
    ErrorOut,
    Health,
    SearchRequest,
    SearchResponse,
)
from service.settings import Settings, get_settings

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "Unknown document"},
    422: {"model": ErrorOut, "description": "Invalid request"},
}


def create_app(
    settings: Settings | None = None,
    answerer_factory: Callable[[Settings], QuestionAnswerer] | None = None,
) -> FastAPI:
    """The app; the model and index are loaded once, at start-up, by `answerer_factory`."""
    settings = settings or get_settings()
    if answerer_factory is None:
        from service.runtime import open_answerer

        answerer_factory = open_answerer

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.answerer = await run_in_threadpool(answerer_factory, settings)
        yield

    app = FastAPI(
        title="depeche",
        version="0.1.0",
        summary="Questions in French or English over French news, answered with cited passages.",
        lifespan=lifespan,
    )
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(QueryError, _query_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)

    @app.post("/search", response_model=SearchResponse, responses=ERRORS)
    def search(body: SearchRequest, answerer: Answerer) -> SearchResponse:
        """Best passages for the question, an answer sentence, and a citation for each."""
        filters = Filters(
            frozenset(body.sources) if body.sources else None, body.published_from, body.published_to
        )
        answer = answerer.ask(body.query, body.k, body.mode, filters)
        return SearchResponse.model_validate(answer)

    @app.get("/documents", response_model=list[DocumentSummary])
    def documents(answerer: Answerer) -> list[DocumentSummary]:
        """Every indexed article's metadata."""
        articles = sorted(answerer.snapshot.articles.values(), key=lambda a: a.doc_id)
        return [DocumentSummary(**_summary(a)) for a in articles]

    @app.get("/documents/{doc_id}", response_model=DocumentOut, responses=ERRORS)
    def document(doc_id: str, answerer: Answerer) -> DocumentOut:
        """One article: the stored text that citation offsets point into, and its metadata."""
        article = answerer.snapshot.articles.get(doc_id)
        if article is None:
            raise HTTPException(404, f"no document with doc_id {doc_id!r}")
        return DocumentOut(**_summary(article), text=article.text)

    @app.get("/healthz", response_model=Health)
    def health(answerer: Answerer) -> Health:
        """Liveness and what is being served."""
        m = answerer.snapshot.manifest
        return Health(
            status="ok",
            model=m.model,
            dimension=m.dimension,
            articles=m.articles,
            passages=m.passages,
            sentences=m.sentences,
            built_at=m.built_at,
            corpus_fingerprint=m.corpus_fingerprint,
        )

    return app


def get_answerer(request: Request) -> QuestionAnswerer:
    answerer: QuestionAnswerer = request.app.state.answerer
    return answerer


Answerer = Annotated[QuestionAnswerer, Depends(get_answerer)]


def _summary(article: Article) -> dict[str, Any]:
    fields = ("doc_id", "title", "source", "url", "published", "published_inferred", "language")
    return {name: getattr(article, name) for name in fields} | {"chars": len(article.text)}


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    details = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in error.errors()
    ]
    message = "; ".join(
        f"{'.'.join(str(p) for p in d['loc'][1:]) or 'body'}: {d['msg']}" for d in details
    )
    return JSONResponse({"detail": details, "message": message}, status_code=422)


async def _query_error(request: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(error), "message": str(error)}, status_code=422)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    return JSONResponse(
        {"detail": error.detail, "message": str(error.detail)},
        status_code=error.status_code,
        headers=error.headers,
    )
