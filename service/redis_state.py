"""The shared state of several replicas, in Redis (`DEPECHE_REDIS_URL`; redis-py, from the
`scale` extra). Every replica connected to the same Redis sees the same Slack events, the same
rate-limit buckets and the same writer lock.

When Redis cannot be reached, reads keep working: a Slack event counts as new and a request
is admitted (both logged), while admin writes are refused (SharedStateUnavailable: 503).
"""

import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from index.directory import WriterBusyError
from service.settings import Settings
from service.shared_state import SharedState, SharedStateUnavailable
from service.slack_dedupe import SEEN_EVENTS_TTL

log = logging.getLogger("depeche.redis")

PREFIX = "depeche:"
TIMEOUT = 0.5  # seconds: an unreachable Redis must not stall requests
LOCK_SECONDS = 30  # the writer lock lapses this long after its holder stops renewing it

# A token bucket per client, refilled on Redis's clock so that replicas agree on the time.
TAKE = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1e6
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]) or burst, tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""
# Renew or release the lock only while this holder still has it.
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisSeenEvents:
    """Slack event ids, each kept `ttl` seconds: `SET NX EX` tells the first replica only."""

    def __init__(self, client: redis.Redis, ttl: float = SEEN_EVENTS_TTL) -> None:
        self._client, self._ttl = client, int(ttl)

    def first_time(self, key: str) -> bool:
        try:
            return bool(self._client.set(f"{PREFIX}slack-event:{key}", 1, nx=True, ex=self._ttl))
        except redis.RedisError as error:
            log.warning("Redis unreachable, Slack event %s treated as new: %s", key, error)
            return True


class RedisTokenBuckets:
    """One token bucket per client, shared by every replica (a Lua script, so atomic)."""

    def __init__(self, client: redis.Redis, rate: float, burst: int) -> None:
        self._take = client.register_script(TAKE)
        self.rate, self.burst = rate, burst

    def take(self, key: str) -> float:
        try:
            return float(self._take(keys=[f"{PREFIX}bucket:{key}"], args=[self.rate, self.burst]))
        except redis.RedisError as error:
            log.warning("Redis unreachable, request admitted without a rate limit: %s", error)
            return 0.0


class RedisWriterLock:
    """One writer across replicas: a key set with `NX`, renewed while held, released only by
    its holder. Another replica's write is refused at once (409)."""

    def __init__(self, client: redis.Redis, seconds: int = LOCK_SECONDS) -> None:
        self._client, self._ms = client, seconds * 1000
        self._renew = client.register_script(RENEW)
        self._release = client.register_script(RELEASE)

    @contextmanager
    def hold(self) -> Iterator[None]:
        key, token = f"{PREFIX}writer", uuid.uuid4().hex
        try:
            if not self._client.set(key, token, nx=True, px=self._ms):
                raise WriterBusyError("another replica is updating the index; try again shortly")
        except redis.RedisError as error:
            raise SharedStateUnavailable(
                f"the writer lock in Redis cannot be reached ({error}); writes are refused "
                "until it is back, reads keep working"
            ) from error
        done = threading.Event()
        renewer = threading.Thread(target=self._keep, args=(key, token, done), daemon=True)
        renewer.start()
        try:
            yield
        finally:
            done.set()
            renewer.join()
            try:
                self._release(keys=[key], args=[token])
            except redis.RedisError as error:
                log.warning("Redis unreachable, the writer lock lapses by itself: %s", error)

    def _keep(self, key: str, token: str, done: threading.Event) -> None:
        while not done.wait(self._ms / 3000):
            try:
                self._renew(keys=[key], args=[token, self._ms])
            except redis.RedisError as error:
                log.warning("Redis unreachable, writer lock not renewed: %s", error)


def redis_state(settings: Settings) -> SharedState:
    """The shared state in the Redis at `settings.redis_url`."""
    client = _client(settings)
    return SharedState(
        RedisSeenEvents(client),
        RedisTokenBuckets(client, settings.rate_limit, settings.rate_burst),
        RedisWriterLock(client),
    )


def redis_writer_lock(settings: Settings) -> RedisWriterLock:
    """The replicas' writer lock alone, for a writer that serves nothing (`depeche index`)."""
    return RedisWriterLock(_client(settings))


def _client(settings: Settings) -> redis.Redis:
    assert settings.redis_url is not None
    url = settings.redis_url.get_secret_value()
    return redis.Redis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
