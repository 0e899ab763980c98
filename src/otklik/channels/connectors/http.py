"""Shared HTTP layer of the connectors: retries with back-off, a rate limiter, redaction.

Platforms report throttling differently (VK answers HTTP 200 with error 6,
Telegram HTTP 429 with ``parameters.retry_after``, OK error 8/11), so each
connector passes a ``check`` function that turns a platform's error body into
one of the :mod:`~otklik.channels.connectors.base` errors; the retry loop here is
the same for all.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

import httpx

from otklik.channels.connectors.base import (
    AuthError,
    Clock,
    Connector,
    ConnectorConfig,
    ConnectorError,
    PermanentError,
    RateLimited,
    SystemClock,
    TransientError,
    secret_value,
)

log = logging.getLogger("otklik.channels.connectors")

_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()


def register_secret(value: str) -> None:
    """Remember a secret so it is masked in every log line of httpx and ours."""
    if value and len(value) >= 4:
        with _SECRETS_LOCK:
            _SECRETS.add(value)


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``."""
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, "***")
    return text


class _RedactingFilter(logging.Filter):
    """Masks secrets in records: httpx logs full URLs, and Telegram puts the token there."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _SECRETS:
            record.msg = redact(record.getMessage())
            record.args = None
        return True


_FILTER = _RedactingFilter()
for _name in ("httpx", "httpcore", "otklik.channels.connectors"):
    logging.getLogger(_name).addFilter(_FILTER)


class TokenBucket:
    """Allows ``rate`` calls per second with bursts up to ``capacity``; thread-safe."""

    def __init__(self, rate: float, capacity: float | None = None, clock: Clock | None = None):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = capacity if capacity is not None else max(1.0, rate)
        self.clock: Clock = clock or SystemClock()
        self._tokens = self.capacity
        self._stamp = self.clock.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, sleeping until one is there; return the seconds waited."""
        with self._lock:
            now = self.clock.monotonic()
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens >= 1:
                self._tokens -= 1
                return 0.0
            wait = (1 - self._tokens) / self.rate
            self.clock.sleep(wait)
            self._stamp = self.clock.monotonic()
            self._tokens = 0.0
            return wait


def retry_after_seconds(value: str | None) -> float | None:
    """Parse a Retry-After header: delta seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        from datetime import UTC, datetime

        when = parsedate_to_datetime(value)
        return max(0.0, (when - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


Check = Callable[[httpx.Response, Any], None]


class HttpClient:
    """A sync httpx client with rate limiting and retries.

    Retries network errors, 5xx, 429 and :class:`TransientError` raised by the
    platform ``check`` with exponential back-off plus jitter; honours
    ``retry_after`` (Retry-After header or the platform's own field) unless it
    exceeds ``backoff_max``, in which case the :class:`RateLimited` surfaces.
    """

    def __init__(
        self,
        base_url: str,
        *,
        clock: Clock | None = None,
        rate_per_second: float | None = None,
        timeout: float = 30.0,
        max_attempts: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 60.0,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.limiter = TokenBucket(rate_per_second, clock=self.clock) if rate_per_second else None
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.rng = rng or random.Random()
        self.attempts = 0  # total HTTP attempts, for tests and metrics
        self.waits: list[float] = []  # back-off waits taken
        self._client = httpx.Client(
            base_url=base_url,
            timeout=timeout,
            headers=dict(headers or {}),
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def backoff(self, attempt: int) -> float:
        """Delay before retry number ``attempt`` (1-based): exponential with jitter."""
        delay = self.backoff_base * (2 ** (attempt - 1))
        delay *= 1 + self.rng.uniform(0, 0.25)
        return min(delay, self.backoff_max)

    def request_json(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        json_body: Any = None,
        check: Check | None = None,
        what: str = "",
    ) -> Any:
        """Send a request and return the decoded JSON body, retrying what is transient."""
        label = what or url
        last: ConnectorError | None = None
        for attempt in range(1, self.max_attempts + 1):
            if self.limiter is not None:
                self.limiter.acquire()
            try:
                self.attempts += 1
                return self._once(method, url, params, data, json_body, check, label)
            except RateLimited as exc:
                last = exc
                if exc.retry_after is not None and exc.retry_after > self.backoff_max:
                    raise
                delay = exc.retry_after if exc.retry_after is not None else self.backoff(attempt)
            except TransientError as exc:
                last = exc
                delay = self.backoff(attempt)
            if attempt < self.max_attempts:
                log.warning("%s: %s; retry %d in %.2fs", label, last.message, attempt, delay)
                self.waits.append(delay)
                self.clock.sleep(delay)
        assert last is not None
        raise type(last)(f"{last.message} (after {self.max_attempts} attempts)")

    def _once(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        data: Mapping[str, Any] | None,
        json_body: Any,
        check: Check | None,
        label: str,
    ) -> Any:
        try:
            response = self._client.request(method, url, params=params, data=data, json=json_body)
        except httpx.TimeoutException as exc:
            raise TransientError(f"{label}: timeout ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise TransientError(f"{label}: network error: {redact(str(exc))}") from None
        body: Any = None
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
            body = None
        # The platform's own error body says more than the status code.
        if check is not None and body is not None:
            check(response, body)
        status = response.status_code
        if status == 429:
            raise RateLimited(
                f"{label}: HTTP 429", retry_after_seconds(response.headers.get("Retry-After"))
            )
        if status >= 500:
            raise TransientError(f"{label}: HTTP {status}")
        if status in (401, 403):
            raise AuthError(f"{label}: HTTP {status}, credentials refused")
        if status >= 400:
            raise PermanentError(f"{label}: HTTP {status}")
        if body is None:
            raise TransientError(f"{label}: response is not JSON")
        return body


class HttpConnector(Connector):
    """A connector that talks to a platform's HTTP API through one :class:`HttpClient`.

    Subclasses name their secret settings in ``secret_fields`` (so they are masked in every
    log line) and may override :meth:`base_url` and :meth:`request_timeout`.
    """

    secret_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        config: Mapping[str, Any] | ConnectorConfig,
        *,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(config, clock=clock)
        cfg: Any = self.config
        for name in self.secret_fields:
            register_secret(secret_value(getattr(cfg, name)))
        self.http = HttpClient(
            self.base_url(),
            clock=self.clock,
            rate_per_second=cfg.requests_per_second,
            timeout=self.request_timeout(),
            max_attempts=cfg.max_attempts,
            backoff_base=cfg.backoff_base,
            backoff_max=cfg.backoff_max,
            transport=transport,
        )

    def base_url(self) -> str:
        """Where the platform's API is (a setting, so tests point it at a local stub)."""
        return str(getattr(self.config, "base_url"))  # noqa: B009 - every HTTP config has it

    def request_timeout(self) -> float:
        """Seconds one request may take."""
        return float(self.config.timeout)

    def close(self) -> None:
        """Close the HTTP client."""
        self.http.close()
