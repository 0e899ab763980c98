"""Login sessions kept on the server.

The signed cookie carries only a random secret; the ``user_session`` row behind it says
whether the session is still open. Logging out, changing the password or being deactivated
ends it, so a copy of the old cookie is worth nothing afterwards.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy.orm import Session

from otklik.accounts.repository import AccountRepository
from otklik.accounts.security import hash_token
from otklik.db.base import utcnow
from otklik.models.account import User, UserSession

#: How often ``last_seen_at`` is written: not on every request, the idle limit is hours.
_TOUCH_EVERY = timedelta(minutes=1)


def open_session(session: Session, user: User, max_age: int, ip: str | None = None) -> str:
    """Start a session for ``user``; returns the secret the cookie carries (never stored)."""
    now = utcnow()
    repo = AccountRepository(session)
    repo.forget_sessions(user.id, seen_before=now - timedelta(seconds=max_age))
    secret = secrets.token_urlsafe(32)
    repo.add_session(UserSession(user_id=user.id, secret_hash=hash_token(secret),
                                 last_seen_at=now, ip=ip))
    return secret


def resume(session: Session, secret: str, max_age: int) -> User | None:
    """The active user of an open session; None when it ended, sat idle longer than
    ``max_age`` seconds, or its user was deactivated."""
    repo = AccountRepository(session)
    row = repo.session_by_hash(hash_token(secret))
    now = utcnow()
    if row is None or row.ended_at is not None:
        return None
    if row.last_seen_at + timedelta(seconds=max_age) < now:
        return None
    user = repo.get(row.user_id)
    if user is None or not user.is_active:
        return None
    if now - row.last_seen_at > _TOUCH_EVERY:
        row.last_seen_at = now
    return user


def end_session(session: Session, secret: str) -> None:
    """End the session with this secret (logout); nothing happens for an unknown one."""
    row = AccountRepository(session).session_by_hash(hash_token(secret))
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()


def end_user_sessions(session: Session, user_id: int) -> int:
    """End every open session of a user (password change, deactivation); how many ended."""
    return AccountRepository(session).end_sessions(user_id, utcnow())
