"""Rate limits, one mechanism for all of them: a token bucket per key.

A key (an API key, a client's address, a chat) may make ``burst`` hits at once, then
``rate`` a second as the bucket refills. The buckets live in this process's memory
(:class:`MemoryBucket`: the embedded default, one process serves everything) or in Redis
(:class:`RedisBucket`: one atomic Lua script per hit, shared by every process and host).

Users: API keys (``accounts/ratelimit.py``: per key, 429 with the wait), the public web form
and the fakes check service (:class:`RateLimiter`: at most ``limit`` hits per ``window``
seconds per client). Imports nothing of the project.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol

#: Keys kept in memory before idle full buckets are forgotten (a scan of addresses must not
#: grow the table forever).
MAX_KEYS = 100_000


class Bucket(Protocol):
    """Take one token for a key: (allowed, seconds until the next token)."""

    def take(self, key: str, rate: float, burst: int) -> tuple[bool, float]: ...


class MemoryBucket:
    """Buckets in this process (thread-safe)."""

    def __init__(self) -> None:
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, rate: float, burst: int) -> tuple[bool, float]:
        """Refill by the time passed, then take one token if there is one."""
        now = time.monotonic()
        with self._lock:
            if len(self._state) > MAX_KEYS:
                self._state = {k: (t, at) for k, (t, at) in self._state.items()
                               if t + (now - at) * rate < burst}
            tokens, last = self._state.get(key, (float(burst), now))
            tokens = min(float(burst), tokens + (now - last) * rate)
            if tokens >= 1:
                self._state[key] = (tokens - 1, now)
                return True, 0.0
            self._state[key] = (tokens, now)
            return False, (1 - tokens) / rate


_LUA = """
local tokens = tonumber(redis.call('HGET', KEYS[1], 't') or ARGV[2])
local last = tonumber(redis.call('HGET', KEYS[1], 'at') or ARGV[3])
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
tokens = math.min(burst, tokens + math.max(0, now - last) * rate)
local allowed = 0
if tokens >= 1 then tokens = tokens - 1; allowed = 1 end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
return {allowed, tostring(tokens)}
"""


class RedisBucket:
    """Buckets in Redis: one hash per key, refilled and taken in one atomic script (the
    Redis server's clock is not used: each process sends its own wall time)."""

    def __init__(self, url: str, prefix: str = "otklik:ratelimit") -> None:
        import redis

        self.client: Any = redis.Redis.from_url(url)
        self.script: Any = self.client.register_script(_LUA)
        self.prefix = prefix

    def take(self, key: str, rate: float, burst: int) -> tuple[bool, float]:
        """One token from the key's bucket in Redis."""
        allowed, tokens = self.script(keys=[f"{self.prefix}:{key}"],
                                      args=[rate, burst, time.time()])
        if int(allowed):
            return True, 0.0
        return False, (1 - float(tokens)) / rate


class Limiter(Protocol):
    """Counts hits per key; True while the key is within the limit."""

    def allow(self, key: str) -> bool: ...


class RateLimiter:
    """At most ``limit`` hits per ``window`` seconds per key (a bucket of ``limit`` tokens
    refilled over ``window``), in this process unless a bucket store is given."""

    def __init__(self, limit: int = 5, window: float = 600.0,
                 store: Bucket | None = None) -> None:
        self.limit, self.window = limit, window
        self.store: Bucket = store or MemoryBucket()

    def allow(self, key: str) -> bool:
        """Count a hit; False when over the limit (the refused hit is not counted)."""
        allowed, _ = self.store.take(key, self.limit / self.window, self.limit)
        return allowed


class RedisRateLimiter(RateLimiter):
    """:class:`RateLimiter` counted in Redis (every process of a deployment shares it)."""

    def __init__(self, url: str, limit: int = 5, window: float = 600.0,
                 prefix: str = "otklik:rate") -> None:
        super().__init__(limit, window, RedisBucket(url, prefix))
