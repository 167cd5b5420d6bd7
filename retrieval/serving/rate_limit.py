"""A rate per client: a token bucket per key (the client's address), so one client cannot flood a log.

Each key may spend `burst` at once and gets `per_minute` back over a minute. Memory stays bounded: beyond
`max_keys` clients, the buckets that have refilled (and so hold nothing worth keeping) are dropped first.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

MAX_KEYS = 10_000


class RateLimit:
    def __init__(self, per_minute: float, burst: float | None = None, max_keys: int = MAX_KEYS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute <= 0:
            raise ValueError("the rate must be positive")
        self.rate = per_minute / 60.0
        self.burst = float(burst if burst is not None else max(1.0, per_minute))
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, when)
        self._lock = threading.Lock()
        self.refused = 0

    def take(self, key: str) -> float:
        """0.0 when `key` may go ahead (one token spent), else the seconds until it may."""
        now = self._clock()
        with self._lock:
            tokens, when = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - when) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                self._trim(now)
                return 0.0
            self._buckets[key] = (tokens, now)
            self.refused += 1
            return (1.0 - tokens) / self.rate

    def retry_after(self, key: str) -> int:
        """`take`, as whole seconds for a Retry-After header (0: go ahead)."""
        wait = self.take(key)
        return math.ceil(wait) if wait > 0 else 0

    def _trim(self, now: float) -> None:
        if len(self._buckets) <= self.max_keys:
            return
        for key, (tokens, when) in list(self._buckets.items()):
            if tokens + (now - when) * self.rate >= self.burst:
                del self._buckets[key]
        while len(self._buckets) > self.max_keys:  # all busy: the least recently seen go first
            self._buckets.popitem(last=False)
