"""Slack over HTTP: two FastAPI routes that hand Slack's requests to the bot's Bolt app (see
service/slack_bot.py). The route reads the body on the event loop and runs Bolt's `dispatch`
(signature check, deduplication, ack) in Starlette's thread pool, so the loop never blocks.
"""

import logging
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import SecretStr
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response

from service.answering import QuestionAnswerer
from service.errors import documented, error_response
from service.settings import Settings
from service.slack_bot import SlackBot
from service.slack_dedupe import SeenEvents

logger = logging.getLogger("depeche.slack")

PATHS = ("/slack/events", "/slack/commands")

Endpoint = Callable[[Request], Awaitable[Response]]


def slack_configured(settings: Settings) -> bool:
    """Whether the Slack routes are served: both the signing secret and the bot token are set."""
    return bool(_reveal(settings.slack_signing_secret) and _reveal(settings.slack_bot_token))


def slack_router(
    settings: Settings, answerer: Callable[[], QuestionAnswerer], seen: SeenEvents | None = None
) -> APIRouter:
    """POST /slack/events and /slack/commands (only for a configured Slack app); `seen` holds
    the events already received (by this process alone if None)."""
    logging.getLogger("slack_bolt.RequestVerification").addFilter(_unsigned_bodies)
    secret, token = _reveal(settings.slack_signing_secret), _reveal(settings.slack_bot_token)
    endpoint = _dispatcher(SlackBot(settings, answerer, secret, token, seen).app)
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


def _unsigned_bodies(record: logging.LogRecord) -> bool:
    """Drop Bolt's log of the whole body of each request with a bad signature (anyone's, up to
    the body limit); the dispatcher logs the refusal in one line instead."""
    return False


def _reveal(secret: SecretStr | None) -> str:
    return secret.get_secret_value() if secret else ""
