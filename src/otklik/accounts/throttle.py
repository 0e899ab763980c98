"""Login throttling: too many failed logins for one account or from one address lock the
login for a while (``OTKLIK_LOGIN_MAX_FAILURES`` inside ``OTKLIK_LOGIN_LOCK_MINUTES`` lock
it for ``OTKLIK_LOGIN_LOCK_MINUTES``).

Counted in the database (``login_throttle``), so every process and host sees the same
counts. An unknown login is counted like a known one (nobody learns which logins exist);
a success clears the account's count, never the address's (one good account of an attacker
must not wash their guesses at the others). The lock holds even for the right password."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from otklik.config import get_settings
from otklik.errors import OtklikError
from otklik.models.account import LoginThrottle


class LoginLocked(OtklikError):
    """Too many failed logins: wait ``retry_after`` seconds."""

    status_code = 429

    def __init__(self, minutes: int) -> None:
        super().__init__(
            f"Слишком много неудачных попыток входа: вход временно заблокирован, повторите "
            f"через {minutes} мин. / Too many failed logins: login is locked for a while, "
            f"try again in {minutes} min.")
        self.retry_after = minutes * 60


def _keys(username: str, ip: str | None) -> Iterator[tuple[str, str]]:
    yield "user", username.strip().casefold()[:255]
    if ip:
        yield "ip", ip[:255]


def _row(session: Session, kind: str, key: str) -> LoginThrottle | None:
    return session.scalar(select(LoginThrottle).where(LoginThrottle.kind == kind,
                                                      LoginThrottle.key == key))


def check(session: Session, username: str, ip: str | None, now: datetime) -> None:
    """Raise :class:`LoginLocked` while the account or the address is locked."""
    for kind, key in _keys(username, ip):
        row = _row(session, kind, key)
        if row is not None and row.locked_until is not None and row.locked_until > now:
            raise LoginLocked(max(1, math.ceil((row.locked_until - now).total_seconds() / 60)))


def failed(session: Session, username: str, ip: str | None, now: datetime) -> list[str]:
    """Count a failed login; the kinds ("user", "ip") that it locked just now."""
    settings = get_settings()
    window = timedelta(minutes=settings.login_lock_minutes)
    locked: list[str] = []
    for kind, key in _keys(username, ip):
        row = _row(session, kind, key)
        if row is None:
            try:
                with session.begin_nested():
                    row = LoginThrottle(kind=kind, key=key, failures=0, window_started_at=now)
                    session.add(row)
            except IntegrityError:  # a concurrent failure created it first
                row = _row(session, kind, key)
                if row is None:
                    continue
        if now - row.window_started_at > window:
            row.failures, row.window_started_at = 0, now
        row.failures += 1
        if row.failures >= settings.login_max_failures:
            row.locked_until = now + window
            row.failures, row.window_started_at = 0, now
            locked.append(kind)
    return locked


def succeeded(session: Session, username: str) -> None:
    """A good login clears the account's failures (the address's stay)."""
    row = _row(session, "user", username.strip().casefold()[:255])
    if row is not None:
        row.failures, row.locked_until = 0, None
