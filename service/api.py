"""The HTTP API (FastAPI). It only translates: HTTP in, core call, HTTP out."""

import asyncio
import bisect
import hmac
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline
from pydantic import TypeAdapter
from starlette.exceptions import HTTPException as StarletteHTTPException

from corpus.article import DOC_ID
from index.query import Filters
from service.admin import admin_router
from service.answering import QueryError, QuestionAnswerer
from service.answers import Answer
from service.errors import documented, error_response
from service.library import Library
from service.limits import AdmissionMiddleware, Limits
from service.observability import Metrics, RequestObserver
from service.runtime import Service, settle_heap
from service.schemas import (
    VISIBLE,
    DocumentOut,
    DocumentSummary,
    Health,
    IsoDate,
    SearchRequest,
    search_request,
)
from service.served import ServedIndex
from service.settings import Settings, get_settings
from service.shared_state import shared_state
from service.slack import slack_configured, slack_router
from service.timeline import Timeline, build_timeline

log = logging.getLogger("depeche.api")
DOCS_ASSETS = "/docs/assets"
ADMITTED = (413, 429, 503, 500)  # possible answers of every route behind admission control
ANSWER_JSON = TypeAdapter(Answer)
PAGE, MAX_PAGE = 100, 1000  # articles a page of GET /documents: by default, at most


def create_app(
    settings: Settings | None = None,
    service_factory: Callable[[Settings], Service] | None = None,
) -> FastAPI:
    """The app; the model and index are loaded once, at start-up, by `service_factory`."""
    settings = settings or get_settings()
    if service_factory is None:
        from service.runtime import open_service

        service_factory = open_service

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service: Service = await run_in_threadpool(service_factory, settings)
        app.state.service = service
        served = service.served
        app.state.metrics = Metrics(
            lambda: served.snapshot,
            lambda: datetime.fromisoformat(served.snapshot.manifest.built_at).timestamp(),
        )
        watcher = asyncio.create_task(_follow_publications(served, settings.reload_seconds))
        yield
        watcher.cancel()

    app = FastAPIOffline(  # /docs with Swagger UI's assets served from here: works offline
        title="depeche",
        version="0.1.0",
        summary="Questions in French or English over French news, answered with cited passages.",
        lifespan=lifespan,
        static_url=DOCS_ASSETS,
        redoc_url=None,
    )
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(QueryError, _query_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _server_error)
    limits = Limits(
        settings.max_body_bytes, settings.rate_limit, settings.rate_burst, settings.max_in_flight
    )
    shared = shared_state(settings)
    app.add_middleware(AdmissionMiddleware, limits=limits, buckets=shared.buckets)
    app.add_middleware(RequestObserver, metrics=lambda: getattr(app.state, "metrics", None))
    if slack_configured(settings):
        app.include_router(slack_router(settings, lambda: _served(app).answerer, shared.seen))
    app.include_router(admin_router(settings, lambda: _library(app), shared.writers))
    reader = [Depends(_api_key_guard(settings))]
    guarded = (401,) if settings.api_key else ()
    SearchBody = search_request(settings.max_query_chars)

    @app.post(
        "/search",
        response_model=Answer,
        responses=documented(400, 422, *guarded, *ADMITTED),
        dependencies=reader,
    )
    def search(body: SearchBody, answerer: Answerer) -> Response:  # type: ignore[valid-type]
        """Best passages for the question, an answer sentence, and a citation for each; a
        `notice` says when the filters exclude every article."""
        request: SearchRequest = body
        filters = Filters(
            frozenset(request.sources) if request.sources else None,
            request.published_from,
            request.published_to,
        ).as_of(request.as_of)
        answer = answerer.ask(request.query, request.k, request.mode, filters)
        # serialised by its own schema in one step: FastAPI would validate it again first
        return Response(ANSWER_JSON.dump_json(answer), media_type="application/json")

    @app.get(
        "/timeline",
        response_model=Timeline,
        responses=documented(422, *guarded, *ADMITTED),
        dependencies=reader,
    )
    def timeline(
        answerer: Answerer,
        q: Annotated[
            str,
            Query(
                min_length=1,
                max_length=settings.max_query_chars,
                pattern=VISIBLE,
                description="The subject.",
            ),
        ],
        as_of: Annotated[IsoDate | None, Query(description="Only articles published by then.")] = (
            None
        ),
    ) -> Timeline:
        """The dated events about `q`, oldest first, each merged across the articles telling it."""
        return build_timeline(answerer.searcher, q, Filters().as_of(as_of), ranking=answerer.tuning)

    @app.get(
        "/documents",
        response_model=list[DocumentSummary],
        responses=documented(422, *guarded, *ADMITTED),
        dependencies=reader,
    )
    def documents(
        request: Request,
        response: Response,
        answerer: Answerer,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Articles a page.")] = PAGE,
        after: Annotated[
            str | None, Query(pattern=DOC_ID, description="The last doc_id of the page before.")
        ] = None,
    ) -> list[DocumentSummary]:
        """The indexed articles' metadata, by doc_id, a page at a time: when more follow, the
        `Link` header gives the next page (`rel="next"`)."""
        articles, ids = answerer.snapshot.articles, answerer.snapshot.doc_ids
        start = bisect.bisect_right(ids, after) if after is not None else 0
        page = ids[start : start + limit]
        if start + limit < len(ids):
            following = request.url.include_query_params(limit=limit, after=page[-1])
            response.headers["Link"] = f'<{following}>; rel="next"'
        return [DocumentSummary.of(articles[doc_id]) for doc_id in page]

    @app.get(
        "/documents/{doc_id}",
        response_model=DocumentOut,
        responses=documented(404, *guarded, *ADMITTED),
        dependencies=reader,
    )
    def document(doc_id: str, answerer: Answerer) -> DocumentOut:
        """One article: the stored text that citation offsets point into, and its metadata."""
        article = answerer.snapshot.articles.get(doc_id)
        if article is None:
            raise HTTPException(404, f"no document with doc_id {doc_id!r}")
        return DocumentOut.of(article)

    @app.get("/healthz", response_model=Health, responses=documented(500))
    def health(request: Request) -> Health:
        """Liveness, what is being served, and why the service is degraded if it is."""
        serving = _served(request.app).current
        m = serving.snapshot.manifest
        return Health(
            status="degraded" if serving.degraded else "ok",
            reason=serving.degraded,
            model=m.model,
            dimension=m.dimension,
            articles=m.articles,
            passages=m.passages,
            sentences=m.sentences,
            built_at=m.built_at,
            corpus_fingerprint=m.corpus_fingerprint,
        )

    @app.get("/metrics", response_class=Response, include_in_schema=False)
    def metrics(request: Request) -> Response:
        """Prometheus metrics."""
        body = request.app.state.metrics.render()
        return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")

    return app


async def _follow_publications(served: ServedIndex, every: float) -> None:
    """Pick up generations published by another writer (the CLI) while serving."""
    while True:
        await asyncio.sleep(every)
        try:
            if await run_in_threadpool(served.refresh):
                await run_in_threadpool(settle_heap)
        except Exception:
            log.exception("could not load the newly published index; still serving the old one")


def _served(app: FastAPI) -> ServedIndex:
    served: ServedIndex = app.state.service.served
    return served


async def get_answerer(request: Request) -> QuestionAnswerer:
    """The answerer of the state served when the request arrived, for the whole request
    (async: it does not block, and a sync dependency costs a trip to the thread pool)."""
    return _served(request.app).answerer


Answerer = Annotated[QuestionAnswerer, Depends(get_answerer)]


def _library(app: FastAPI) -> Library:
    library: Library | None = app.state.service.library
    if library is None:
        raise HTTPException(403, "this service is read-only")
    return library


def _api_key_guard(settings: Settings) -> Callable[..., Awaitable[None]]:
    async def guard(x_api_key: Annotated[str | None, Header()] = None) -> None:
        if settings.api_key is None:
            return
        expected = settings.api_key.get_secret_value().encode()
        if not hmac.compare_digest((x_api_key or "").encode(), expected):
            raise HTTPException(401, "a valid X-API-Key header is required")

    return guard


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    details = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in error.errors()
    ]
    message = "; ".join(f"{_field(d['loc'])}: {d['msg']}" for d in details)
    return error_response(422, message, details)


def _field(loc: list[object]) -> str:
    """Where an error is, for people: `documents.0.text`, without the body's shape tag."""
    path = [str(part) for part in loc[1:] if part not in ("article", "batch")]
    return ".".join(path) or "body"


async def _query_error(request: Request, error: Exception) -> JSONResponse:
    return error_response(422, str(error))


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    headers = error.headers
    if error.status_code == 405:
        headers = {**(headers or {}), "Allow": _allowed_methods(request, headers)}
    return error_response(error.status_code, str(error.detail), headers=headers)


async def _server_error(request: Request, error: Exception) -> JSONResponse:
    """Any other failure: a 500 with the request id, which the log line of the error carries."""
    request_id = getattr(request.state, "request_id", None)
    log.error("unexpected error", exc_info=error, extra={"request_id": request_id})
    return error_response(
        500, "unexpected server error; quote the request id to report it", request_id=request_id
    )


def _allowed_methods(request: Request, headers: Mapping[str, str] | None) -> str:
    """Every method served at this path: Starlette's 405 names only the first matching
    route's, and each of our methods is a route of its own."""
    given = (headers or {}).get("Allow", "")
    methods = {method.strip() for method in given.split(",") if method.strip()}
    for template, operations in request.app.openapi()["paths"].items():
        pattern = "[^/]+".join(re.escape(part) for part in re.split(r"\{[^/}]+\}", template))
        if re.fullmatch(pattern, request.url.path):
            methods |= {method.upper() for method in operations}
    return ", ".join(sorted(methods))
