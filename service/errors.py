"""Error responses of the HTTP API: one body shape, built in one place, and documented."""

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field
from starlette.responses import JSONResponse


class ErrorOut(BaseModel):
    """Every error answer: a readable `message`, and `detail` (the validation errors for a 422
    on the body's shape, else the message again)."""

    detail: str | list[dict[str, object]]
    message: str
    request_id: str | None = Field(None, description="Given with a 500: quote it in a report.")


def error_body(message: str, detail: Any = None, request_id: str | None = None) -> dict[str, Any]:
    body = {"detail": message if detail is None else detail, "message": message}
    return body if request_id is None else body | {"request_id": request_id}


def error_response(
    status: int,
    message: str,
    detail: Any = None,
    headers: Mapping[str, str] | None = None,
    request_id: str | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(message, detail, request_id), status, headers=headers)


WHY = {
    400: "The body is not UTF-8 or not a payload of the expected kind",
    401: "Missing or wrong credentials",
    403: "Write endpoints disabled (no DEPECHE_ADMIN_TOKEN)",
    404: "Unknown document",
    409: "Another writer holds the index; retry after Retry-After seconds",
    413: "The body is too large (DEPECHE_MAX_BODY_BYTES), or too many documents",
    422: "Invalid request; `message` says what is wrong",
    429: "Too many requests from this client; retry after Retry-After seconds",
    500: "Unexpected server error; `request_id` identifies it in the logs",
    503: "The service is busy; retry after Retry-After seconds",
    507: "The index could not be written (disk full, no permission); the previous one is served",
}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, each with the ErrorOut body."""
    return {status: {"model": ErrorOut, "description": WHY[status]} for status in statuses}
