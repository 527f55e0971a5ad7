"""Which Slack events were already received, so that a redelivery is not answered twice.

`SeenEvents` is the interface; `RecentIds` keeps them in this process's memory, and
service/redis_state.py in Redis for several server processes.
"""

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

SEEN_EVENTS_TTL = 3600.0
SEEN_EVENTS_MAX = 10_000


class SeenEvents(Protocol):
    def first_time(self, key: str) -> bool:
        """Record `key`; True unless it was recorded already (and not yet forgotten)."""
        ...


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
