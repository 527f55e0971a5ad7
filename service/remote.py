"""Asking a running depeche server over HTTP, so that `depeche ask` need not load the model
and the index itself (about 10 s) for a question the server answers in tens of milliseconds."""

import json
import urllib.error
import urllib.request

from pydantic import TypeAdapter, ValidationError

from index.query import Filters, Mode
from service.answers import Answer

TIMEOUT_SECONDS = 60


class RemoteError(RuntimeError):
    """The server could not be reached or refused the question; the message says why."""


def ask_remote(
    url: str,
    question: str,
    k: int,
    mode: Mode,
    filters: Filters,
    api_key: str | None = None,
) -> Answer:
    """The server's answer to `question`, as the in-process answerer would give it."""
    body = {
        "query": question,
        "k": k,
        "mode": mode.value,
        "sources": sorted(filters.sources) if filters.sources else None,
        "published_from": filters.published_from and filters.published_from.isoformat(),
        "published_to": filters.published_to and filters.published_to.isoformat(),
    }
    headers = {"content-type": "application/json"} | ({"x-api-key": api_key} if api_key else {})
    endpoint = f"{url.rstrip('/')}/search"
    request = urllib.request.Request(endpoint, json.dumps(body).encode(), headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return TypeAdapter(Answer).validate_json(response.read())
    except urllib.error.HTTPError as error:
        raise RemoteError(f"{endpoint} answered {error.code}: {_detail(error)}") from error
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise RemoteError(
            f"cannot reach {endpoint} ({reason}): start `depeche serve` there, or ask without "
            "--url (and without DEPECHE_URL) to answer from the local index"
        ) from error
    except ValidationError as error:
        raise RemoteError(f"{endpoint} did not answer like a depeche server: {error}") from error


def _detail(error: urllib.error.HTTPError) -> str:
    """The server's own explanation of a refusal (FastAPI's `detail`), else the raw body."""
    text = error.read().decode(errors="replace")
    try:
        detail = json.loads(text).get("detail", text)
    except (ValueError, AttributeError):
        detail = text
    return detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False)
