"""Admission control: body size, per-client rate and requests in flight."""

import asyncio
import json

from starlette.types import Message, Receive, Scope, Send

from service.limits import AdmissionMiddleware, Limits, TokenBuckets


def test_token_bucket_refills_at_the_rate() -> None:
    buckets = TokenBuckets(rate=2.0, burst=3)
    assert [buckets.take("a", now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a", now=0.0) == 0.5
    assert buckets.take("b", now=0.0) == 0.0, "clients have their own buckets"
    assert buckets.take("a", now=0.5) == 0.0
    assert buckets.take("a", now=0.5) > 0


async def slow_app(scope: Scope, receive: Receive, send: Send) -> None:
    while (await receive()).get("more_body"):
        pass
    await asyncio.sleep(0.2)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def call(
    app: AdmissionMiddleware, body: bytes = b"", client: str = "1.2.3.4", length: bool = True
) -> tuple[int, dict[str, str], dict[str, str]]:
    headers = [(b"content-length", str(len(body)).encode())] if length else []
    scope = {
        "type": "http",
        "path": "/search",
        "method": "POST",
        "headers": headers,
        "client": (client, 1),
    }
    chunks = [body[i : i + 1000] for i in range(0, len(body), 1000)] or [b""]
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    try:
        await app(scope, receive, send)
    except Exception as error:  # the app's exception handler turns this into 413
        return 413, {}, {"message": str(error)}
    start = sent[0]
    body_out = b"".join(m.get("body", b"") for m in sent[1:])
    headers_out = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], headers_out, json.loads(body_out) if start["status"] != 200 else {}


def middleware(**overrides: float) -> AdmissionMiddleware:
    limits = {"max_body_bytes": 5000, "rate": 1000.0, "burst": 1000, "max_in_flight": 2} | overrides
    return AdmissionMiddleware(slow_app, Limits(**limits))  # type: ignore[arg-type]


def test_large_bodies_get_413_declared_or_streamed() -> None:
    app = middleware()
    status, _, body = asyncio.run(call(app, b"x" * 6000))
    assert status == 413 and "5000 bytes" in body["message"]
    status, _, body = asyncio.run(call(app, b"x" * 6000, length=False))
    assert status == 413 and "5000 bytes" in body["message"]
    assert asyncio.run(call(app, b"x" * 4000))[0] == 200


def test_a_client_over_its_rate_gets_429_with_retry_after() -> None:
    app = middleware(rate=1.0, burst=2)

    async def burst() -> list[tuple[int, dict[str, str], dict[str, str]]]:
        return [await call(app) for _ in range(3)] + [await call(app, client="5.6.7.8")]

    results = asyncio.run(burst())
    assert [status for status, _, _ in results] == [200, 200, 429, 200]
    assert results[2][1]["retry-after"] == "1"
    assert "too many requests" in results[2][2]["message"]


def test_overload_is_refused_at_once_not_queued() -> None:
    app = middleware(max_in_flight=2)

    async def flood() -> list[int]:
        results = await asyncio.gather(*(call(app, client=f"10.0.0.{i}") for i in range(5)))
        return sorted(status for status, _, _ in results)

    assert asyncio.run(flood()) == [200, 200, 503, 503, 503]
    assert app.in_flight == 0
