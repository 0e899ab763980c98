"""Rate limits of API keys: a token bucket per key (the buckets of :mod:`otklik.ratelimit`).

Each key may make ``OTKLIK_API_KEY_BURST`` requests at once and then
``OTKLIK_API_KEY_RATE_PER_MINUTE`` a minute (the bucket refills continuously). With
``OTKLIK_REDIS_URL`` set (or a ``redis://`` broker) the buckets live in Redis, shared by
every process and host, updated atomically by one Lua script; otherwise in this process
(the embedded default: one process serves everything)."""

from __future__ import annotations

import math

from otklik.config import Settings, get_settings
from otklik.errors import OtklikError
from otklik.ratelimit import Bucket, MemoryBucket, RedisBucket


class RateLimited(OtklikError):
    """Too many requests with one key: wait ``retry_after`` seconds."""

    status_code = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


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
