"""Rate limits for what anyone may call without logging in (the public form, the fakes check
service): at most ``limit`` hits per ``window`` seconds per key (a client's address, a chat).

:class:`RateLimiter` counts in this process's memory (a sliding window); :class:`RedisRateLimiter`
counts in Redis (a fixed window), shared by every process of a deployment. Imports nothing of
the project.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Protocol

#: Keys kept in memory before idle ones are forgotten (an address scan must not grow forever).
MAX_KEYS = 100_000


class Limiter(Protocol):
    """Counts hits per key; True while the key is within the limit."""

    def allow(self, key: str) -> bool: ...


class RateLimiter:
    """At most ``limit`` hits per ``window`` seconds per key (per process)."""

    def __init__(self, limit: int = 5, window: float = 600.0) -> None:
        self.limit, self.window = limit, window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count a hit; False when over the limit (the refused hit is not counted)."""
        now = time.monotonic()
        with self._lock:
            if len(self._hits) > MAX_KEYS:
                self._hits = {k: v for k, v in self._hits.items()
                              if v and v[-1] > now - self.window}
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True


class RedisRateLimiter:
    """At most ``limit`` hits per ``window`` seconds per key, counted in Redis (every process
    of a deployment shares the count)."""

    def __init__(self, url: str, limit: int = 5, window: int = 600,
                 prefix: str = "otklik:rate") -> None:
        import redis

        self.client = redis.Redis.from_url(url)
        self.limit, self.window, self.prefix = limit, window, prefix

    def allow(self, key: str) -> bool:
        """Count a hit; False when over the limit."""
        name = f"{self.prefix}:{key}:{int(time.time()) // self.window}"
        pipe = self.client.pipeline()
        pipe.incr(name)
        pipe.expire(name, self.window + 1)
        count, _ = pipe.execute()
        return int(count) <= self.limit
