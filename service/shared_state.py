"""State that several server replicas must share: which Slack events were received, each
client's rate-limit bucket, and who is writing the index.

`SharedState` holds the three parts. `shared_state` gives the in-process parts (the default:
one server process) or, when `DEPECHE_REDIS_URL` is set, parts kept in Redis
(service/redis_state.py; redis-py is imported only then).
"""

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Protocol

from service.limits import RateLimiter, TokenBuckets
from service.settings import Settings
from service.slack_dedupe import SEEN_EVENTS_MAX, SEEN_EVENTS_TTL, RecentIds, SeenEvents


class SharedStateUnavailable(RuntimeError):
    """The shared store cannot be reached; the message says which and why."""


class WriterLock(Protocol):
    def hold(self) -> AbstractContextManager[None]:
        """Be the only replica writing the index while inside; raise WriterBusyError if
        another one is, SharedStateUnavailable if that cannot be known."""
        ...


class LocalWriterLock:
    """One machine: the index directory's own lock, which every write takes, is enough."""

    @contextmanager
    def hold(self) -> Iterator[None]:
        yield


@dataclass(frozen=True)
class SharedState:
    seen: SeenEvents
    buckets: RateLimiter
    writers: WriterLock


def shared_state(settings: Settings) -> SharedState:
    """In-process state, or state in Redis when `settings.redis_url` is set."""
    if settings.redis_url:
        from service.redis_state import redis_state

        return redis_state(settings)
    return SharedState(
        RecentIds(SEEN_EVENTS_TTL, SEEN_EVENTS_MAX),
        TokenBuckets(settings.rate_limit, settings.rate_burst),
        LocalWriterLock(),
    )


def writer_lock(settings: Settings) -> WriterLock:
    """The replicas' writer lock: in Redis when `settings.redis_url` is set, else none beyond
    the index directory's own (one machine)."""
    if settings.redis_url:
        from service.redis_state import redis_writer_lock

        return redis_writer_lock(settings)
    return LocalWriterLock()
