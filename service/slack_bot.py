"""The Slack bot: a slack-bolt `App` (the sync one: `AsyncApp` needs aiohttp) whose listeners
turn a slash command, a mention or a direct message into a question, and the answer into a
cited Block Kit reply.

With `process_before_response=True`, Bolt runs the ack function inside `dispatch` and returns
its result as the HTTP response; the search and the post run after, as a lazy listener on
Bolt's executor, so an ack never waits for a search nor for a free worker. The search runs on
a pool of its own so that it can time out.
"""

import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from index.query import Filters
from service.answering import QueryError, QuestionAnswerer
from service.settings import Settings
from service.slack_blocks import APOLOGY, Message, answer_message, text_message, usage_message
from service.slack_dedupe import SEEN_EVENTS_MAX, SEEN_EVENTS_TTL, RecentIds, SeenEvents
from service.slack_news import SlackRequestError, parse_request, timeline_message, with_as_of
from service.slack_retry import retry_handlers
from service.timeline import build_timeline

logger = logging.getLogger("depeche.slack")

HTTP_TIMEOUT = 10
SEARCH_WORKERS = 2
SLACK_WORKERS = 8
MENTION = re.compile(r"<@\w+(?:\|[^>]*)?>")


class SlackBot:
    """Slack requests in, questions to the answerer, cited answers out."""

    def __init__(
        self,
        settings: Settings,
        answerer: Callable[[], QuestionAnswerer],
        signing_secret: str,
        token: str,
        seen: SeenEvents | None = None,
    ) -> None:
        self.settings = settings
        self._answerer = answerer
        self._retries = retry_handlers(settings.slack_retries, settings.slack_retry_backoff)
        self._searches = ThreadPoolExecutor(SEARCH_WORKERS, thread_name_prefix="slack-search")
        self._seen = seen or RecentIds(SEEN_EVENTS_TTL, SEEN_EVENTS_MAX)
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
        try:
            request = parse_request(question, date.today())
        except SlackRequestError as error:
            return text_message(str(error))
        filters = Filters().as_of(request.as_of)

        def search() -> Message:
            answerer = self._answerer()
            if request.timeline:
                return timeline_message(
                    build_timeline(answerer.searcher, request.question, ranking=answerer.tuning)
                )
            answer = answerer.ask(request.question, k, filters=filters)
            return with_as_of(answer_message(answer, k), request.as_of)

        try:
            message: Message = self._searches.submit(search).result(
                self.settings.slack_search_timeout
            )
            return message
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
