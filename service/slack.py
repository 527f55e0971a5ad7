"""Slack: the slash command, mentions and direct messages, answered with cited passages.

A slack-bolt `App` (the sync one: `AsyncApp` needs aiohttp) behind two FastAPI routes; see
service/SLACK.md. Threading: the route reads the body on the event loop and runs Bolt's
`dispatch` (signature check, deduplication, ack) in Starlette's thread pool, so the loop
never blocks. With `process_before_response=True`, Bolt runs the ack function inside
`dispatch` and returns its result as the HTTP response; the search and the post run after,
as a lazy listener on Bolt's executor, so an ack never waits for a search nor for a free
worker. The search runs on a pool of its own so that it can time out.
"""

import logging
import random
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import SecretStr
from slack_bolt import App, BoltResponse
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk import WebClient
from slack_sdk.http_retry import (
    BackoffRetryIntervalCalculator,
    ConnectionErrorRetryHandler,
    HttpRequest,
    HttpResponse,
    Jitter,
    RateLimitErrorRetryHandler,
    RetryHandler,
    RetryState,
)
from slack_sdk.webhook import WebhookClient

from service.answering import QueryError, QuestionAnswerer
from service.errors import documented, error_response
from service.settings import Settings
from service.slack_blocks import APOLOGY, Message, answer_message, text_message, usage_message

logger = logging.getLogger(__name__)
# Bolt logs the whole body of each request with a bad signature (anyone's, up to the body
# limit): drop those records; the dispatcher logs the refusal in one line instead.
logging.getLogger("slack_bolt.RequestVerification").addFilter(lambda record: False)

PATHS = ("/slack/events", "/slack/commands")
SEEN_EVENTS_TTL = 3600.0
SEEN_EVENTS_MAX = 10_000
HTTP_TIMEOUT = 10
SEARCH_WORKERS = 2
SLACK_WORKERS = 8
MENTION = re.compile(r"<@\w+(?:\|[^>]*)?>")

Endpoint = Callable[[Request], Awaitable[Response]]


def slack_configured(settings: Settings) -> bool:
    """Whether the Slack routes are served: both the signing secret and the bot token are set."""
    return bool(_reveal(settings.slack_signing_secret) and _reveal(settings.slack_bot_token))


def slack_router(settings: Settings, answerer: Callable[[], QuestionAnswerer]) -> APIRouter:
    """POST /slack/events and /slack/commands (only for a configured Slack app)."""
    secret, token = _reveal(settings.slack_signing_secret), _reveal(settings.slack_bot_token)
    endpoint = _dispatcher(SlackBot(settings, answerer, secret, token).app)
    router = APIRouter(tags=["slack"])
    for path in PATHS:
        router.add_api_route(
            path,
            endpoint,
            methods=["POST"],
            summary="Slack events, interactivity and commands",
            responses=documented(400, 401, 413, 500),
        )
    return router


class SlackBot:
    """Slack requests in, questions to the answerer, cited answers out."""

    def __init__(
        self,
        settings: Settings,
        answerer: Callable[[], QuestionAnswerer],
        signing_secret: str,
        token: str,
    ) -> None:
        self.settings = settings
        self._answerer = answerer
        self._retries = retry_handlers(settings.slack_retries, settings.slack_retry_backoff)
        self._searches = ThreadPoolExecutor(SEARCH_WORKERS, thread_name_prefix="slack-search")
        self._seen = RecentIds(SEEN_EVENTS_TTL, SEEN_EVENTS_MAX)
        self.app = self._bolt_app(signing_secret, token)

    def _bolt_app(self, signing_secret: str, token: str) -> App:
        client = WebClient(
            token=token,
            base_url=self.settings.slack_api_url.rstrip("/") + "/",
            timeout=HTTP_TIMEOUT,
            retry_handlers=self._retries,
        )
        app = App(
            name="depeche",
            signing_secret=signing_secret,
            client=client,
            token_verification_enabled=False,  # auth.test at the first event, not at start-up
            process_before_response=True,
            listener_executor=ThreadPoolExecutor(SLACK_WORKERS, thread_name_prefix="slack"),
        )
        app.use(self._once_per_event)
        app.command(self.settings.slack_command)(ack=self._ack_command, lazy=[self._on_command])
        for event in ("app_mention", "message"):
            app.event(event)(ack=_ack, lazy=[self._on_event])
        return app

    def _once_per_event(
        self, body: dict[str, Any], next: Callable[[], None]
    ) -> BoltResponse | None:
        """Acknowledge a redelivered event (same event_id, X-Slack-Retry-Num) and skip it."""
        event_id = body.get("event_id")
        if event_id is not None and not self._seen.first_time(event_id):
            logger.info("Slack event %s already received: skipped", event_id)
            return BoltResponse(status=200, body="")
        next()
        return None

    def _ack_command(self, ack: Callable[..., None], command: dict[str, Any]) -> None:
        """Within Slack's 3 seconds: empty, or a usage reminder when there is no question."""
        if _question(command.get("text", "")):
            ack()
        else:
            ack(**usage_message(self.settings.slack_command))

    def _on_command(self, command: dict[str, Any]) -> None:
        question = _question(command.get("text", ""))
        if question:
            message = self._answer(question) | {"response_type": self.settings.slack_response_type}
            self._deliver(lambda: self._post_to_response_url(command["response_url"], message))

    def _on_event(self, event: dict[str, Any], client: WebClient) -> None:
        """A mention in a channel or a direct message from a person: a threaded reply."""
        if not _asked_by_a_person(event):
            return
        question = _question(event.get("text", ""))
        message = self._answer(question) if question else usage_message(self.settings.slack_command)
        thread = event.get("thread_ts") or event["ts"]
        self._deliver(
            lambda: client.chat_postMessage(channel=event["channel"], thread_ts=thread, **message)
        )

    def _answer(self, question: str) -> Message:
        """The cited answer; a refusal for an unacceptable question; an apology on failure."""
        k = self.settings.slack_passages
        search = self._searches.submit(lambda: self._answerer().ask(question, k))
        try:
            return answer_message(search.result(self.settings.slack_search_timeout), k)
        except QueryError as error:
            return text_message(f"Question refusée : {error}")
        except Exception:
            logger.exception("Slack question %r: the search failed or timed out", question)
            return text_message(APOLOGY)

    def _post_to_response_url(self, url: str, message: Message) -> None:
        client = WebhookClient(url, timeout=HTTP_TIMEOUT, retry_handlers=self._retries)
        response = client.send_dict(message)
        if response.status_code != 200:
            raise RuntimeError(f"response_url answered {response.status_code}: {response.body}")

    @staticmethod
    def _deliver(post: Callable[[], object]) -> None:
        """Post (retries are the clients'); a post that still fails is logged, not raised."""
        try:
            post()
        except Exception:
            logger.exception("Could not post an answer to Slack")


class RecentIds:
    """Ids seen in the last `ttl` seconds, at most `size` of them, oldest forgotten first.

    In memory, per process: behind several server processes a redelivery that reaches
    another process is answered again.
    """

    def __init__(self, ttl: float, size: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._size = size
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, key: str) -> bool:
        """Record `key`; True unless it was recorded already."""
        now = self._clock()
        with self._lock:
            while self._seen and next(iter(self._seen.values())) <= now - self._ttl:
                self._seen.popitem(last=False)
            if key in self._seen:
                return False
            if len(self._seen) >= self._size:
                self._seen.popitem(last=False)
            self._seen[key] = now
            return True


class _ServerErrors(RetryHandler):
    """Retries any 5xx answer (slack-sdk's ServerErrorRetryHandler only 500 and 503)."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code >= 500


class _HalfJitter(Jitter):
    """Waits between half and all of the backoff (slack-sdk's default adds up to 1 s)."""

    def recalculate(self, duration: float) -> float:
        return duration * random.uniform(0.5, 1.0)


def retry_handlers(retries: int, backoff: float) -> list[RetryHandler]:
    """At most `retries` retries in all, `backoff`, 2 x `backoff`, ... seconds apart.

    Only a failure is retried (no connection, 429, 5xx): a post Slack accepted is never sent again.
    """
    interval = BackoffRetryIntervalCalculator(backoff, _HalfJitter())
    return [
        ConnectionErrorRetryHandler(retries, interval),
        RateLimitErrorRetryHandler(retries, interval),
        _ServerErrors(retries, interval),
    ]


def _ack(ack: Callable[[], None]) -> None:
    ack()


def _asked_by_a_person(event: dict[str, Any]) -> bool:
    """A person's mention, or a person's direct message; never a bot's (depeche's included)."""
    if "bot_id" in event or event.get("subtype") is not None:
        return False
    return event.get("type") == "app_mention" or event.get("channel_type") == "im"


def _question(text: str) -> str:
    """The question in a message: mentions removed, Slack's &amp; &lt; &gt; decoded."""
    text = MENTION.sub(" ", text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())


def _dispatcher(bolt: App) -> Endpoint:
    async def slack(request: Request) -> Response:
        """Slack's Events API, interactivity and slash commands, verified and acked by Bolt."""
        body = await request.body()
        if not request.headers.get("x-slack-request-timestamp", "").isdigit():
            return error_response(401, "missing or malformed X-Slack-Request-Timestamp")
        try:
            bolt_request = to_bolt_request(request, body)
        except ValueError:
            return error_response(400, "the body is not a Slack payload (JSON or form data)")
        response = await run_in_threadpool(bolt.dispatch, bolt_request)
        if response.status == 401:
            logger.warning("Slack request refused: bad or stale signature (%d bytes)", len(body))
        return to_starlette_response(response)

    return slack


def _reveal(secret: SecretStr | None) -> str:
    return secret.get_secret_value() if secret else ""
