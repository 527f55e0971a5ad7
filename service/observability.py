"""Request ids, access logs and Prometheus metrics for the HTTP API."""

import logging
import time
import uuid
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from index.snapshot import Snapshot

log = logging.getLogger("depeche.http")


class Metrics:
    """The service's Prometheus metrics, in a registry of its own."""

    def __init__(self, snapshot: Callable[[], Snapshot], updated_at: Callable[[], float]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "depeche_requests",
            "HTTP requests",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "depeche_request_seconds",
            "HTTP request latency",
            ["route", "method"],
            registry=self.registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        articles = Gauge("depeche_index_articles", "Articles served", registry=self.registry)
        passages = Gauge("depeche_index_passages", "Passages served", registry=self.registry)
        updated = Gauge(
            "depeche_index_updated_timestamp_seconds", "Last index update", registry=self.registry
        )
        articles.set_function(lambda: len(snapshot().articles))
        passages.set_function(lambda: len(snapshot().passages))
        updated.set_function(updated_at)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class RequestObserver:
    """ASGI middleware: gives every request an id (X-Request-ID, taken from the client if
    sane), logs it as JSON when it ends, and counts it in the metrics by route template."""

    def __init__(self, app: ASGIApp, metrics: Callable[[], Metrics | None]) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        plain = _plain_route(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            template = getattr(scope.get("route"), "path", None) or plain or "unmatched"
            self._record(scope, template, request_id, status, time.perf_counter() - started)

    def _record(
        self, scope: Scope, template: str, request_id: str, status: int, seconds: float
    ) -> None:
        method = scope["method"]
        metrics = self.metrics()
        if metrics is not None:
            metrics.requests.labels(template, method, str(status)).inc()
            metrics.latency.labels(template, method).observe(seconds)
        log.info(
            "%s %s %s",
            method,
            scope["path"],
            status,
            extra={
                "request_id": request_id,
                "method": method,
                "path": scope["path"],
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
                "client": (scope.get("client") or ("?",))[0],
            },
        )


def _plain_route(scope: Scope) -> str | None:
    """The path of the app's own Starlette route or mount for the request (/docs,
    /openapi.json, the docs assets), matched before routing changes the scope. API routes
    name themselves in the scope as they run (`scope["route"]`)."""
    for route in getattr(scope.get("app"), "routes", ()):
        path = getattr(route, "path", None)
        if path is not None and route.matches(scope)[0] is Match.FULL:
            return str(path)
    return None


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            given = value.decode("latin-1")
            if 0 < len(given) <= 128 and given.isascii() and given.isprintable():
                return given
    return uuid.uuid4().hex
