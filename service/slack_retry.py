"""How posts to Slack are retried: only failures (no connection, 429, 5xx), with backoff."""

import random

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
