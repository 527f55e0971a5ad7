"""The write endpoints: add, replace and delete articles, rebuild the index. They only
translate between HTTP and `Library`; a bearer token guards them."""

import errno
import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Response
from fastapi import Path as PathParam

from corpus import Article, CorpusError
from corpus.article import DOC_ID
from corpus.readers import article_from_record
from index.directory import WriterBusyError
from service.errors import documented
from service.library import Change, Library, UnknownDocumentError
from service.schemas import ArticleIn, DocumentBatch, NewDocuments
from service.settings import Settings
from service.shared_state import LocalWriterLock, SharedStateUnavailable, WriterLock

DocId = Annotated[str, PathParam(pattern=DOC_ID)]
STORAGE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS}
"""Write failures that the storage explains (full, over quota, not writable): 507."""


def admin_router(
    settings: Settings, library: Callable[[], Library], writers: WriterLock | None = None
) -> APIRouter:
    """The write routes; with several replicas, `writers` lets one write at a time."""
    writers = writers or LocalWriterLock()
    router = APIRouter(
        tags=["admin"],
        responses=documented(400, 401, 403, 409, 413, 422, 503, 507),
        dependencies=[Depends(_guard(settings))],
    )

    def write(change: Callable[[Library], Change]) -> Change:
        try:
            with writers.hold():
                return change(library())
        except SharedStateUnavailable as error:
            raise HTTPException(503, str(error), headers={"Retry-After": "5"}) from error
        except CorpusError as error:
            raise HTTPException(422, str(error)) from error
        except UnknownDocumentError as error:
            raise HTTPException(404, f"no document with doc_id {error.args[0]!r}") from error
        except WriterBusyError as error:
            raise HTTPException(409, str(error), headers={"Retry-After": "5"}) from error
        except OSError as error:
            if error.errno not in STORAGE_ERRORS:
                raise  # a 500 with the request id
            raise HTTPException(
                507, f"the index could not be written ({error}); nothing changed"
            ) from error

    @router.post("/documents", response_model=Change, status_code=201)
    def add_documents(body: NewDocuments) -> Change:
        """Add one article or a batch (`{"documents": [...]}`); a re-send changes nothing.
        201 even when nothing changed: the articles are there."""
        items = body.documents if isinstance(body, DocumentBatch) else [body]
        if len(items) > settings.max_batch:
            raise HTTPException(413, f"at most {settings.max_batch} documents per request")
        articles = _articles([item.model_dump(exclude_none=True) for item in items])
        return write(lambda lib: lib.put(articles))

    @router.put(
        "/documents/{doc_id}",
        response_model=Change,
        responses={201: {"model": Change, "description": "Created"}},
    )
    def put_document(doc_id: DocId, body: ArticleIn, response: Response) -> Change:
        """Create (201) or replace (200) the article `doc_id`."""
        articles = _articles([body.model_dump(exclude_none=True) | {"doc_id": doc_id}])
        change = write(lambda lib: lib.put(articles))
        if change.added:
            response.status_code = 201
        return change

    @router.delete("/documents/{doc_id}", response_model=Change, responses=documented(404))
    def delete_document(doc_id: str) -> Change:
        """Remove an article and all its passages."""
        return write(lambda lib: lib.delete(doc_id))

    @router.post("/index/rebuild", response_model=Change)
    def rebuild() -> Change:
        """Re-chunk and re-embed every article."""
        return write(lambda lib: lib.rebuild())

    return router


def _articles(records: list[dict[str, object]]) -> list[Article]:
    """The articles to write, in order; of two with the same doc_id, the later one."""
    try:
        articles = [article_from_record(record) for record in records]
    except CorpusError as error:
        raise HTTPException(422, str(error)) from error
    return list({article.doc_id: article for article in articles}.values())


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
