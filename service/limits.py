"""Admission control for the HTTP API, as one ASGI middleware: body size (413), a token
bucket per client (429 with Retry-After) and a cap on requests in flight (503 at once),
so overload is refused quickly instead of queueing without bound."""

import json
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import error_body

EXEMPT_PATHS = ("/healthz", "/metrics")
# Slack calls from a few addresses of its own and retries what is refused: Bolt acks at once,
# and repeated deliveries are deduplicated, so only the body size limit applies there.
UNTHROTTLED_PREFIX = "/slack/"


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int
    rate: float
    burst: int
    max_in_flight: int


class RateLimiter(Protocol):
    def take(self, key: str) -> float:
        """0.0 if a request of client `key` may pass now, else the seconds to wait."""
        ...


class TokenBuckets:
    """One token bucket per client key, the least recently seen forgotten past `capacity`."""

    def __init__(self, rate: float, burst: int, capacity: int = 10_000) -> None:
        self.rate, self.burst, self.capacity = rate, burst, capacity
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> float:
        """0.0 if a request may pass now, else the seconds to wait for a token."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, seen = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(self.burst, tokens + (now - seen) * self.rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
            self._buckets[key] = (tokens - 1 if wait == 0 else tokens, now)
            if len(self._buckets) > self.capacity:
                self._buckets.popitem(last=False)
            return wait


class AdmissionMiddleware:
    def __init__(self, app: ASGIApp, limits: Limits, buckets: RateLimiter | None = None) -> None:
        self.app = app
        self.limits = limits
        self.buckets = buckets or TokenBuckets(limits.rate, limits.burst)
        self.in_flight = 0
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limits.max_body_bytes:
            await _refuse(send, 413, f"the body is larger than {self.limits.max_body_bytes} bytes")
            return
        if scope["path"].startswith(UNTHROTTLED_PREFIX):
            await self.app(scope, self._bounded(receive, send), send)
            return
        client = scope.get("client") or ("unknown", 0)
        wait = self.buckets.take(str(client[0]))
        if wait:
            retry = str(math.ceil(wait))
            await _refuse(send, 429, "too many requests from this client", retry)
            return
        with self._lock:
            admitted = self.in_flight < self.limits.max_in_flight
            self.in_flight += admitted
        if not admitted:
            await _refuse(send, 503, "the service is busy; try again shortly", "1")
            return
        try:
            await self.app(scope, self._bounded(receive, send), send)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _bounded(self, receive: Receive, send: Send) -> Receive:
        """Count streamed body bytes, for requests without (or lying about) Content-Length."""
        received = 0

        async def bounded_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limits.max_body_bytes:
                raise BodyTooLarge(self.limits.max_body_bytes)
            return message

        return bounded_receive


class BodyTooLarge(HTTPException):
    """Raised while reading a body that outgrows the limit (no or a false Content-Length).
    An HTTPException, so that FastAPI passes it on as a 413: any other exception raised while
    FastAPI reads a body becomes a 400 "There was an error parsing the body"."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body is larger than {limit} bytes")


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send: Send, status: int, message: str, retry_after: str | None = None) -> None:
    body = json.dumps(error_body(message)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if retry_after:
        headers.append((b"retry-after", retry_after.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
