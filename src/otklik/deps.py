"""FastAPI dependencies: the unit of work per request and who is calling.

Aliases follow STYLE.md: ``SessionDep``, ``CurrentActor``, ``OptionalActor``.

The unit of work commits when the endpoint returns and before the response is sent
(``scope="function"``): a failed commit is the client's 500, never a 200 for a change that
was lost, and the next request sees the change (a revoked token is refused at once); jobs
queued "after commit" go out only after that commit (otklik.queue).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from otklik.accounts import service as accounts
from otklik.accounts import sessions
from otklik.audit.actor import Actor
from otklik.config import get_settings
from otklik.db.session import session_scope
from otklik.errors import Forbidden, NotAuthenticated
from otklik.models.account import User

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_SESSION_KEY = "csrf"
CSRF_HEADER = "x-csrf-token"
#: The cookie's key for the login session's secret (accounts/sessions.py).
LOGIN_SESSION_KEY = "sid"


def get_session() -> Iterator[Session]:
    """One session per request; committed when the endpoint succeeds, before the response is
    sent (services never commit)."""
    with session_scope() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def client_ip(request: Request) -> str | None:
    """The caller's address as the server saw it."""
    return request.client.host if request.client else None


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get(CSRF_SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_SESSION_KEY] = token
    return str(token)


def check_csrf(request: Request, submitted: str | None) -> None:
    """Refuse an unsafe cookie-authenticated request without the session's token."""
    expected = request.session.get(CSRF_SESSION_KEY)
    if not expected or not submitted or not secrets.compare_digest(str(expected), submitted):
        raise Forbidden("the form has expired or did not come from Otklik: reload the page")


def start_login_session(request: Request, session: Session, user: User) -> None:
    """Log ``user`` in on this client: a new session and a fresh cookie (with a new CSRF
    token); the session the cookie held before, if any, ends."""
    end_login_session(request, session)
    request.session[LOGIN_SESSION_KEY] = sessions.open_session(
        session, user, get_settings().session_max_age, client_ip(request))
    csrf_token(request)


def end_login_session(request: Request, session: Session) -> None:
    """Log this client out: its session ends on the server, so copies of the cookie die too."""
    secret = request.session.get(LOGIN_SESSION_KEY)
    if secret:
        sessions.end_session(session, str(secret))
    request.session.clear()


def _actor(request: Request, session: Session) -> Actor | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return accounts.authenticate_token(session, header[7:].strip(), client_ip(request))
    secret = request.session.get(LOGIN_SESSION_KEY)
    if not secret:
        return None
    user = sessions.resume(session, str(secret), get_settings().session_max_age)
    if user is None:
        request.session.clear()
        return None
    if request.method not in SAFE_METHODS and request.url.path.startswith("/api/"):
        check_csrf(request, request.headers.get(CSRF_HEADER))
    return accounts.actor_for(session, user, client_ip(request))


def optional_actor(request: Request, session: SessionDep) -> Actor | None:
    """The caller if logged in (session cookie) or holding a bearer token."""
    return _actor(request, session)


def current_actor(request: Request, session: SessionDep) -> Actor:
    """The caller; 401 when nobody is logged in."""
    actor = _actor(request, session)
    if actor is None:
        raise NotAuthenticated("log in or send an API token (Authorization: Bearer …)")
    return actor


OptionalActor = Annotated[Actor | None, Depends(optional_actor)]
CurrentActor = Annotated[Actor, Depends(current_actor)]
