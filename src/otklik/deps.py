"""FastAPI dependencies: the unit of work per request and who is calling.

Aliases follow STYLE.md: ``SessionDep``, ``CurrentActor``, ``OptionalActor``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from otklik.accounts import service as accounts
from otklik.audit.actor import Actor
from otklik.db.session import session_scope
from otklik.errors import Forbidden, NotAuthenticated

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_SESSION_KEY = "csrf"
CSRF_HEADER = "x-csrf-token"


def get_session() -> Iterator[Session]:
    """One session per request; committed when the endpoint succeeds (services never commit)."""
    with session_scope() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


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


def _actor(request: Request, session: Session) -> Actor | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return accounts.authenticate_token(session, header[7:].strip(), client_ip(request))
    user_id = request.session.get("uid")
    if user_id is None:
        return None
    user = accounts.get_active_user(session, int(user_id))
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
