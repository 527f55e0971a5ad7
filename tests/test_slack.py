"""The Slack integration end to end: the app served by uvicorn on 127.0.0.1 gets requests
signed as Slack signs them; a local server stands in for Slack's Web API and response_url."""

import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from slack_sdk.signature import SignatureVerifier

from index.embedding import Embedder
from index.query import Filters, Mode
from index.snapshot import Snapshot
from service.answering import QuestionAnswerer
from service.answers import Answer
from service.api import create_app
from service.settings import Settings
from service.slack_blocks import APOLOGY, MAX_BLOCKS, MAX_TEXT_CHARS, NO_ANSWER
from service.slack_dedupe import RecentIds
from tests.fakes import HashingEmbedder
from tests.harness import serve_published

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_USER, BOT_ID = "UDEPECHE", "BDEPECHE"
QUIET = 0.3  # seconds to watch for a post that must not come
SEARCH_TIMEOUT = 1.5
RETRIES = 3
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY")


@dataclass(frozen=True)
class Post:
    path: str
    body: dict[str, Any]
    status: int


class FakeSlack:
    """Slack's Web API under /api/ and response_url under /hook/, on 127.0.0.1."""

    def __init__(self) -> None:
        self.posts: list[Post] = []
        self.failures: dict[str, int] = {}  # path -> how many 503s to answer before succeeding
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def hook(self) -> str:
        return f"/hook/{uuid.uuid4().hex}"

    def delivered(self, path: str) -> list[dict[str, Any]]:
        """Bodies of the posts to `path` that succeeded."""
        with self._lock:
            return [p.body for p in self.posts if p.path == path and p.status == 200]

    def attempts(self, path: str) -> int:
        with self._lock:
            return sum(p.path == path for p in self.posts)

    def replies(self, channel: str) -> list[dict[str, Any]]:
        return [b for b in self.delivered("/api/chat.postMessage") if b["channel"] == channel]

    def _answer(self, path: str, raw: bytes, content_type: str) -> tuple[int, dict[str, Any]]:
        body = json.loads(raw) if "json" in content_type else dict(parse_qsl(raw.decode()))
        with self._lock:
            failing = self.failures.get(path, 0) > 0
            if failing:
                self.failures[path] -= 1
            self.posts.append(Post(path, body, 503 if failing else 200))
        if failing:
            return 503, {"ok": False, "error": "service_unavailable"}
        if path == "/api/auth.test":
            return 200, {"ok": True, "user_id": BOT_USER, "bot_id": BOT_ID, "team_id": "T1"}
        return 200, {"ok": True, "channel": body.get("channel"), "ts": f"{time.time():.6f}"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, body = fake._answer(self.path, raw, self.headers.get("Content-Type", ""))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


class ControlledAnswerer(QuestionAnswerer):
    """The real answerer (over the fake embedder) that a test can slow down or break."""

    def __init__(self, snapshot: Snapshot, embedder: Embedder) -> None:
        super().__init__(snapshot, embedder)
        self.delay = 0.0
        self.failing = False
        self.questions: list[str] = []

    def ask(
        self, query: str, k: int = 5, mode: Mode = Mode.HYBRID, filters: Filters = Filters()
    ) -> Answer:
        self.questions.append(query)
        time.sleep(self.delay)
        if self.failing:
            raise RuntimeError("the index is unavailable")
        return super().ask(query, k, mode, filters)


@dataclass
class Depeche:
    """The served app, its answerer, the fake Slack it talks to, and a client to send with."""

    url: str
    answerer: ControlledAnswerer
    slack: FakeSlack
    http: httpx.Client

    def send(self, path: str, body: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.http.post(
            self.url + path, content=body.encode(), headers=headers or signed(body)
        )

    def command(self, text: str, hook: str) -> httpx.Response:
        return self.send("/slack/commands", command_body(text, self.slack.url + hook))

    def event(self, event: dict[str, Any], event_id: str | None = None) -> httpx.Response:
        return self.send("/slack/events", event_body(event, event_id))


def wait_for(condition: Callable[[], bool], timeout: float = 120.0) -> None:
    """Poll until `condition` holds; the timeout only guards against a hang."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def signed(body: str, timestamp: float | None = None, secret: str = SECRET) -> dict[str, str]:
    """Headers as Slack sends them: X-Slack-Signature is v0=HMAC-SHA256(v0:{ts}:{body})."""
    stamp = str(int(time.time() if timestamp is None else timestamp))
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    kind = "application/json" if body.startswith("{") else "application/x-www-form-urlencoded"
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
        "Content-Type": kind,
    }


def command_body(text: str, response_url: str) -> str:
    return urlencode(
        {
            "token": "legacy",
            "team_id": "T1",
            "channel_id": "C1",
            "user_id": "U1",
            "command": "/depeche",
            "text": text,
            "response_url": response_url,
            "trigger_id": "1.2.3",
        }
    )


def event_body(event: dict[str, Any], event_id: str | None = None) -> str:
    return json.dumps(
        {
            "token": "legacy",
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:12]}",
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": "T1", "user_id": BOT_USER, "is_bot": True}],
        }
    )


def mention(text: str, channel: str, **extra: str) -> dict[str, Any]:
    ts = f"{time.time():.6f}"
    return {"type": "app_mention", "user": "U1", "text": text, "ts": ts, "channel": channel} | extra


def direct_message(text: str, channel: str, **extra: str) -> dict[str, Any]:
    ts = f"{time.time():.6f}"
    message = {"type": "message", "channel_type": "im", "user": "U1", "text": text, "ts": ts}
    return message | {"channel": channel} | extra


def channel() -> str:
    return f"C{uuid.uuid4().hex[:8].upper()}"


def text_of(message: dict[str, Any]) -> str:
    """Everything a person would read: the fallback text and every block's text."""
    blocks = message.get("blocks", [])
    return "\n".join([message.get("text", ""), *(b["text"]["text"] for b in blocks if "text" in b)])


def assert_block_kit_limits(message: dict[str, Any]) -> None:
    assert message["text"] and len(message["blocks"]) <= MAX_BLOCKS
    assert all(len(b["text"]["text"]) <= MAX_TEXT_CHARS for b in message["blocks"] if "text" in b)


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run `app` with uvicorn on a free port of 127.0.0.1 until it answers /healthz."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with httpx.Client(trust_env=False, timeout=5) as http:
        wait_for(lambda: _healthy(http, url))
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _healthy(http: httpx.Client, url: str) -> bool:
    try:
        return http.get(url + "/healthz").status_code == 200
    except httpx.TransportError:
        return False


def slack_settings(tmp: Path, slack: FakeSlack, **overrides: Any) -> Settings:
    values = {
        "data_dir": tmp / "data",
        "slack_signing_secret": SECRET,
        "slack_bot_token": "xoxb-test",
        "slack_api_url": slack.url + "/api/",
        "slack_search_timeout": SEARCH_TIMEOUT,
        "slack_retries": RETRIES,
        "slack_retry_backoff": 0.01,
    }
    return Settings(**(values | overrides))


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    """The fake Slack, with proxies unset so that slack-sdk's clients stay on 127.0.0.1."""
    with pytest.MonkeyPatch.context() as patch:
        for variable in PROXY_VARIABLES:
            patch.delenv(variable, raising=False)
        fake = FakeSlack()
        yield fake
        fake.close()


@pytest.fixture(scope="module")
def depeche(
    slack: FakeSlack,
    fake_snapshot: Snapshot,
    fake_embedder: HashingEmbedder,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Depeche]:
    answerer = ControlledAnswerer(fake_snapshot, fake_embedder)
    settings = slack_settings(tmp_path_factory.mktemp("slack"), slack)
    service = serve_published(settings, fake_snapshot, fake_embedder, lambda s: answerer)
    with (
        serve(create_app(settings, lambda s: service)) as url,
        httpx.Client(trust_env=False, timeout=10) as http,
    ):
        yield Depeche(url, answerer, slack, http)


@pytest.fixture
def app(depeche: Depeche) -> Depeche:
    depeche.answerer.delay, depeche.answerer.failing = 0.0, False
    return depeche


@pytest.mark.integration
def test_murati_answer_reaches_response_url_with_its_citation(
    slack: FakeSlack, real_snapshot: Snapshot, real_embedder: Embedder, tmp_path: Path
) -> None:
    settings = slack_settings(tmp_path, slack)
    service = serve_published(settings, real_snapshot, real_embedder)
    hook = slack.hook()
    with (
        serve(create_app(settings, lambda s: service)) as url,
        httpx.Client(trust_env=False) as http,
    ):
        body = command_body("qui a remplacé Mira Murati ?", slack.url + hook)
        assert http.post(url + "/slack/commands", content=body, headers=signed(body)).is_success
        wait_for(lambda: bool(slack.delivered(hook)), timeout=30)
    [message] = slack.delivered(hook)
    headline = message["blocks"][0]["text"]["text"]
    assert "Emmett Shear" in headline and NO_ANSWER not in headline
    assert "Suite au renvoi de Sam Altman" in headline and "20 novembre 2023" in headline
    assert "Emmett Shear" in message["text"]
    assert len(message["blocks"]) == 2 + settings.slack_passages
    assert message["response_type"] == "ephemeral"
    assert_block_kit_limits(message)


def test_command_is_acknowledged_before_the_search_ends(app: Depeche) -> None:
    app.answerer.delay = 0.75
    hook = app.slack.hook()
    started = time.monotonic()
    response = app.command("Emmett Shear nommé PDG", hook)
    acked = time.monotonic() - started
    assert response.status_code == 200 and response.text == ""
    assert acked < app.answerer.delay and not app.slack.delivered(hook)
    wait_for(lambda: bool(app.slack.delivered(hook)))
    assert time.monotonic() - started >= app.answerer.delay
    [message] = app.slack.delivered(hook)
    assert_block_kit_limits(message)
    assert "Emmett Shear" in text_of(message)  # in the passages (the fake model rarely answers)
    assert len(message["blocks"]) == 2 + 3 and message["response_type"] == "ephemeral"


def test_empty_command_gets_usage(app: Depeche) -> None:
    asked, hook = len(app.answerer.questions), app.slack.hook()
    response = app.command("   ", hook)
    assert response.status_code == 200
    assert "/depeche" in response.json()["text"] and "Mira Murati" in response.json()["text"]
    time.sleep(QUIET)
    assert app.slack.attempts(hook) == 0 and len(app.answerer.questions) == asked


def test_mention_gets_threaded_reply(app: Depeche) -> None:
    room = channel()
    event = mention(f"<@{BOT_USER}> Emmett Shear nommé PDG", room)
    assert app.event(event).status_code == 200
    wait_for(lambda: bool(app.slack.replies(room)))
    [reply] = app.slack.replies(room)
    assert reply["thread_ts"] == event["ts"]
    assert app.answerer.questions[-1] == "Emmett Shear nommé PDG"
    assert "Emmett Shear" in text_of(reply)
    assert_block_kit_limits(reply)


def test_mention_inside_a_thread_replies_in_that_thread(app: Depeche) -> None:
    room = channel()
    event = mention(f"<@{BOT_USER}> qui dirige OpenAI ?", room, thread_ts="1700000000.000001")
    app.event(event)
    wait_for(lambda: bool(app.slack.replies(room)))
    assert app.slack.replies(room)[0]["thread_ts"] == "1700000000.000001"


def test_direct_message_gets_threaded_reply(app: Depeche) -> None:
    room = "D" + channel()[1:]
    event = direct_message("Emmett Shear nommé PDG", room)
    app.event(event)
    wait_for(lambda: bool(app.slack.replies(room)))
    assert app.slack.replies(room)[0]["thread_ts"] == event["ts"]


def test_url_verification_challenge_is_answered(app: Depeche) -> None:
    body = json.dumps(
        {"token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV", "type": "url_verification"}
    )
    response = app.send("/slack/events", body)
    assert response.status_code == 200 and response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV"}


@pytest.mark.parametrize(
    "forgery",
    ["wrong secret", "tampered body", "six minutes old", "malformed timestamp", "unsigned"],
)
def test_forged_or_stale_requests_get_401_and_no_work(
    app: Depeche, forgery: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="slack_bolt.RequestVerification")
    asked, hook = len(app.answerer.questions), app.slack.hook()
    body = command_body("qui a remplacé Mira Murati ?", app.slack.url + hook)
    sent, headers = {
        "wrong secret": (body, signed(body, secret="not-the-secret")),
        "tampered body": (body.replace("Murati", "Altman"), signed(body)),
        "six minutes old": (body, signed(body, timestamp=time.time() - 6 * 60)),
        "malformed timestamp": (body, signed(body) | {"X-Slack-Request-Timestamp": "soon"}),
        "unsigned": (body, {"Content-Type": "application/x-www-form-urlencoded"}),
    }[forgery]
    assert app.send("/slack/commands", sent, headers).status_code == 401
    time.sleep(QUIET)
    assert app.slack.attempts(hook) == 0 and len(app.answerer.questions) == asked
    assert not [r for r in caplog.records if "Mira" in r.getMessage()], "a body was logged"


def test_redelivered_event_gets_one_reply(app: Depeche) -> None:
    room, event_id = channel(), f"Ev{uuid.uuid4().hex[:12]}"
    body = event_body(mention(f"<@{BOT_USER}> Emmett Shear", room), event_id)
    asked = len(app.answerer.questions)
    for retry in range(4):
        retries = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        headers = signed(body) | (retries if retry else {})
        assert app.send("/slack/events", body, headers).status_code == 200
    wait_for(lambda: bool(app.slack.replies(room)))
    time.sleep(QUIET)
    assert len(app.slack.replies(room)) == 1 and len(app.answerer.questions) == asked + 1


@pytest.mark.parametrize(
    "extra",
    [
        {"bot_id": "BOTHER", "user": "UOTHER"},
        {"subtype": "bot_message", "bot_id": "BOTHER", "username": "robot"},
        {"user": BOT_USER},
        {"bot_id": BOT_ID, "user": BOT_USER},
    ],
    ids=["another bot", "bot_message", "depeche's own user", "depeche's own bot"],
)
@pytest.mark.parametrize("kind", [direct_message, mention])
def test_bot_messages_get_no_reply(
    app: Depeche, kind: Callable[..., dict[str, Any]], extra: dict[str, str]
) -> None:
    room, asked = channel(), len(app.answerer.questions)
    assert app.event(kind("Emmett Shear nommé PDG", room, **extra)).status_code == 200
    time.sleep(QUIET)
    assert not app.slack.replies(room) and len(app.answerer.questions) == asked


def test_search_failure_gets_an_apology_and_the_service_keeps_going(app: Depeche) -> None:
    app.answerer.failing = True
    hook = app.slack.hook()
    assert app.command("qui a remplacé Mira Murati ?", hook).status_code == 200
    wait_for(lambda: bool(app.slack.delivered(hook)))
    assert APOLOGY in text_of(app.slack.delivered(hook)[0])
    app.answerer.failing = False
    again = app.slack.hook()
    app.command("Emmett Shear nommé PDG", again)
    wait_for(lambda: bool(app.slack.delivered(again)))
    assert "Emmett Shear" in text_of(app.slack.delivered(again)[0])


def test_unacceptable_question_is_refused_with_the_reason(app: Depeche) -> None:
    hook = app.slack.hook()
    app.command("pourquoi " * 200, hook)
    wait_for(lambda: bool(app.slack.delivered(hook)))
    assert "Question refusée : the query is longer than" in text_of(app.slack.delivered(hook)[0])


def test_search_timeout_gets_an_apology(app: Depeche) -> None:
    app.answerer.delay = SEARCH_TIMEOUT + 1
    room = channel()
    app.event(direct_message("Emmett Shear nommé PDG", room))
    wait_for(lambda: bool(app.slack.replies(room)))
    assert APOLOGY in text_of(app.slack.replies(room)[0])


def test_failing_response_url_is_retried_and_delivered_once(app: Depeche) -> None:
    hook = app.slack.hook()
    app.slack.failures[hook] = 2
    app.command("Emmett Shear nommé PDG", hook)
    wait_for(lambda: bool(app.slack.delivered(hook)))
    time.sleep(QUIET)
    assert app.slack.attempts(hook) == 3 and len(app.slack.delivered(hook)) == 1


def test_dead_response_url_is_retried_a_bounded_number_of_times(app: Depeche) -> None:
    hook = app.slack.hook()
    app.slack.failures[hook] = 1000
    app.command("Emmett Shear nommé PDG", hook)
    wait_for(lambda: app.slack.attempts(hook) == 1 + RETRIES)
    time.sleep(QUIET)
    assert app.slack.attempts(hook) == 1 + RETRIES and not app.slack.delivered(hook)


def test_failing_web_api_is_retried_and_posts_once(app: Depeche) -> None:
    room = channel()
    app.slack.failures["/api/chat.postMessage"] = 1
    app.event(mention(f"<@{BOT_USER}> Emmett Shear", room))
    wait_for(lambda: bool(app.slack.replies(room)))
    time.sleep(QUIET)
    assert len(app.slack.replies(room)) == 1


def test_malformed_body_gets_400(app: Depeche) -> None:
    response = app.send("/slack/events", "{not json", signed("{not json"))
    assert response.status_code == 400 and "Slack payload" in response.json()["message"]


def test_no_slack_routes_without_a_secret(
    slack: FakeSlack,
    fake_snapshot: Snapshot,
    fake_embedder: HashingEmbedder,
    tmp_path: Path,
) -> None:
    settings = slack_settings(tmp_path, slack, slack_signing_secret=None)
    service = serve_published(settings, fake_snapshot, fake_embedder)
    with (
        serve(create_app(settings, lambda s: service)) as url,
        httpx.Client(trust_env=False) as http,
    ):
        for path in ("/slack/events", "/slack/commands"):
            assert http.post(url + path, content=b"{}").status_code == 404
        assert not any(
            p.startswith("/slack") for p in http.get(url + "/openapi.json").json()["paths"]
        )
        assert http.post(url + "/search", json={"query": "Emmett Shear"}).status_code == 200


def test_recent_ids_forget_after_ttl_and_stay_bounded() -> None:
    now = [0.0]
    seen = RecentIds(ttl=10, size=2, clock=lambda: now[0])
    assert seen.first_time("a") and not seen.first_time("a")
    now[0] = 11
    assert seen.first_time("a")
    assert seen.first_time("b") and seen.first_time("c")  # "a" is dropped to keep two
    assert seen.first_time("a") and not seen.first_time("c")


def test_command_as_of_a_day_answers_from_the_articles_published_by_then(app: Depeche) -> None:
    hook = app.slack.hook()
    app.command("au 20 novembre 2023 : Emmett Shear nommé PDG", hook)
    wait_for(lambda: bool(app.slack.delivered(hook)))
    [message] = app.slack.delivered(hook)
    assert app.answerer.questions[-1] == "Emmett Shear nommé PDG"
    assert "Selon les articles publiés jusqu'au 20 novembre 2023" in text_of(message)
    assert "22 novembre 2023" not in text_of(message) and "20 novembre 2023" in text_of(message)
    assert_block_kit_limits(message)


def test_command_with_an_unreadable_day_says_how_to_write_it(app: Depeche) -> None:
    hook = app.slack.hook()
    app.command("au 32 novembre 2023 : qui dirige OpenAI ?", hook)
    wait_for(lambda: bool(app.slack.delivered(hook)))
    assert "Date non comprise" in text_of(app.slack.delivered(hook)[0])


def test_command_chronologie_posts_a_timeline(app: Depeche) -> None:
    hook = app.slack.hook()
    app.command("chronologie Sam Altman", hook)
    wait_for(lambda: bool(app.slack.delivered(hook)))
    [message] = app.slack.delivered(hook)
    assert "Chronologie : Sam Altman" in text_of(message)
    assert "17 novembre 2023" in text_of(message) and "22 novembre 2023" in text_of(message)
    assert_block_kit_limits(message)
