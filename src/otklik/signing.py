"""Signed outgoing HTTP bodies: ``X-Otklik-Signature: t=<unix time>,v1=<hex HMAC-SHA256>``.

The HMAC is computed with the receiver's shared secret over ``f"{t}.".encode() + body``
(the exact bytes sent). A receiver recomputes it, compares in constant time and refuses a
timestamp older than its tolerance (a replayed delivery). One scheme serves the notifier's
webhook channel and integrators' webhook subscriptions (docs/webhooks.md has a verification
example).
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "X-Otklik-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``timestamp.body`` under ``secret``."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body,
                    hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value for ``body`` sent now (or at ``timestamp``)."""
    at = int(time.time()) if timestamp is None else timestamp
    return f"t={at},v1={signature(secret, at, body)}"


def verify(secret: str, body: bytes, header: str, *, now: int | None = None,
           tolerance: int = DEFAULT_TOLERANCE_SECONDS) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` within ``tolerance`` seconds."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        at = int(fields["t"])
    except (KeyError, ValueError):
        return False
    current = int(time.time()) if now is None else now
    if abs(current - at) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, at, body), fields.get("v1", ""))
