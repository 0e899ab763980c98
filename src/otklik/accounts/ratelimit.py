"""Rate limits of API keys: a token bucket per key.

Each key may make ``OTKLIK_API_KEY_BURST`` requests at once and then
``OTKLIK_API_KEY_RATE_PER_MINUTE`` a minute (the bucket refills continuously). With
``OTKLIK_REDIS_URL`` set (or a ``redis://`` broker) the buckets live in Redis, shared by
every process and host, updated atomically by one Lua script; otherwise in this process
(the embedded default: one process serves everything)."""

from __future__ import annotations

import math
import threading
import time
from typing import Any, Protocol

from otklik.config import Settings, get_settings
from otklik.errors import OtklikError


class RateLimited(OtklikError):
    """Too many requests with one key: wait ``retry_after`` seconds."""

    status_code = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


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

    def __init__(self, url: str) -> None:
        import redis

        self.client: Any = redis.Redis.from_url(url)
        self.script: Any = self.client.register_script(_LUA)

    def take(self, key: str, rate: float, burst: int) -> tuple[bool, float]:
        """One token from the key's bucket in Redis."""
        allowed, tokens = self.script(keys=[f"otklik:ratelimit:{key}"],
                                      args=[rate, burst, time.time()])
        if int(allowed):
            return True, 0.0
        return False, (1 - float(tokens)) / rate


_buckets: dict[str, Bucket] = {}


def redis_url(settings: Settings) -> str:
    """The Redis the buckets live in ('' = this process)."""
    if settings.redis_url:
        return settings.redis_url
    return settings.broker_url if settings.broker_url.startswith("redis://") else ""


def bucket(settings: Settings | None = None) -> Bucket:
    """The configured bucket store (one per process and URL)."""
    url = redis_url(settings or get_settings())
    if url not in _buckets:
        _buckets[url] = RedisBucket(url) if url else MemoryBucket()
    return _buckets[url]


def check(key: str, settings: Settings | None = None) -> None:
    """Count one request of an API key (named by its id and prefix: an id alone may come
    back after a rollback); RateLimited (429) when its bucket is empty."""
    settings = settings or get_settings()
    rate = settings.api_key_rate_per_minute / 60.0
    allowed, wait = bucket(settings).take(key, rate, settings.api_key_burst)
    if not allowed:
        seconds = max(1, math.ceil(wait))
        raise RateLimited(f"too many requests with this API key: at most "
                          f"{settings.api_key_rate_per_minute} a minute; retry in {seconds} s",
                          seconds)
