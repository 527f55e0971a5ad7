"""The write endpoints: add, replace and delete articles, rebuild the index. They only
translate between HTTP and `Library`; a bearer token guards them."""

import hmac
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException

from corpus import Article, CorpusError
from corpus.readers import article_from_record
from index.directory import WriterBusyError
from service.library import Change, Library, UnknownDocumentError
from service.schemas import DocumentBatch, DocumentIn, ErrorOut
from service.settings import Settings

RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text}
    for code, text in {
        400: "The body is not UTF-8",
        401: "Missing or wrong bearer token",
        403: "Write endpoints disabled (no DEPECHE_ADMIN_TOKEN)",
        404: "Unknown document",
        409: "Another writer holds the index",
        413: "Too many documents or too large a body",
        422: "Invalid article",
        507: "The index could not be written; the previous one is still served",
    }.items()
}


def admin_router(settings: Settings, library: Callable[[], Library]) -> APIRouter:
    router = APIRouter(
        tags=["admin"], responses=RESPONSES, dependencies=[Depends(_guard(settings))]
    )

    def write(change: Callable[[Library], Change]) -> Change:
        try:
            return change(library())
        except CorpusError as error:
            raise HTTPException(422, str(error)) from error
        except UnknownDocumentError as error:
            raise HTTPException(404, f"no document with doc_id {error.args[0]!r}") from error
        except WriterBusyError as error:
            raise HTTPException(409, str(error), headers={"Retry-After": "5"}) from error
        except OSError as error:
            raise HTTPException(
                507, f"the index could not be written ({error}); nothing changed"
            ) from error

    @router.post("/documents", response_model=Change, status_code=201)
    def add_documents(body: DocumentIn | DocumentBatch) -> Change:
        """Add one article or a batch (`{"documents": [...]}`); a re-send changes nothing."""
        items = body.documents if isinstance(body, DocumentBatch) else [body]
        if len(items) > settings.max_batch:
            raise HTTPException(413, f"at most {settings.max_batch} documents per request")
        articles = _articles(items)
        return write(lambda lib: lib.put(articles))

    @router.put("/documents/{doc_id}", response_model=Change)
    def replace_document(doc_id: str, body: DocumentIn) -> Change:
        """Create or replace the article `doc_id`."""
        if body.doc_id not in (None, doc_id):
            raise HTTPException(422, "the body's doc_id differs from the path's")
        articles = _articles([body.model_copy(update={"doc_id": doc_id})])
        return write(lambda lib: lib.put(articles))

    @router.delete("/documents/{doc_id}", response_model=Change)
    def delete_document(doc_id: str) -> Change:
        """Remove an article and all its passages."""
        return write(lambda lib: lib.delete(doc_id))

    @router.post("/index/rebuild", response_model=Change)
    def rebuild() -> Change:
        """Re-chunk and re-embed every article."""
        return write(lambda lib: lib.rebuild())

    return router


def _articles(items: list[DocumentIn]) -> list[Article]:
    try:
        articles = [article_from_record(item.model_dump(exclude_none=True)) for item in items]
    except CorpusError as error:
        raise HTTPException(422, str(error)) from error
    if len({a.doc_id for a in articles}) != len(articles):
        raise HTTPException(422, "the batch holds the same doc_id twice")
    return articles


def _guard(settings: Settings) -> Callable[..., None]:
    def guard(authorization: Annotated[str | None, Header()] = None) -> None:
        if settings.admin_token is None:
            raise HTTPException(
                403, "write endpoints are disabled: set DEPECHE_ADMIN_TOKEN to enable them"
            )
        scheme, _, token = (authorization or "").strip().partition(" ")
        expected = settings.admin_token.get_secret_value().encode()
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
            raise HTTPException(
                401,
                "a valid 'Authorization: Bearer <token>' header is required",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return guard
