"""UI pages. Thin: each calls one service and renders a template."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from otklik.accounts import service as accounts
from otklik.accounts.repository import AccountRepository
from otklik.accounts.throttle import LoginLocked
from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.bounds import RefId
from otklik.deps import (
    OptionalActor,
    SessionDep,
    check_csrf,
    client_ip,
    end_login_session,
    start_login_session,
)
from otklik.errors import NotAuthenticated
from otklik.models.territory import TerritoryLevel
from otklik.ops import stats
from otklik.organizations import service as organizations
from otklik.territories import service as territories
from otklik.web.i18n import LOCALES
from otklik.web.rendering import render

router = APIRouter(include_in_schema=False)
PAGE = 50


def _require(actor: Actor | None) -> Actor:
    if actor is None:
        raise NotAuthenticated("log in to continue")
    return actor


def _user_context(actor: Actor, session: SessionDep) -> dict[str, object]:
    user = AccountRepository(session).get(actor.user_id or -1)
    return {"user": user, "actor": actor}


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, actor: OptionalActor, next: str = "/") -> Response:
    """The login form."""
    if actor is not None:
        return RedirectResponse("/", status_code=303)
    return render(request, "login.html", {"next": _safe_next(next)})


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the login and open a session."""
    check_csrf(request, csrf)
    try:
        user = accounts.authenticate(session, username, password, client_ip(request))
    except NotAuthenticated:
        return render(request, "login.html", {"error": True, "username": username,
                                              "next": _safe_next(next)}, status_code=401)
    except LoginLocked as exc:
        return render(request, "login.html", {"error": True, "locked": exc.message,
                                              "username": username, "next": _safe_next(next)},
                      status_code=429)
    start_login_session(request, session, user)
    response = RedirectResponse(_safe_next(next), status_code=303)
    if user.locale in LOCALES and "lang" not in request.cookies:
        response.set_cookie("lang", user.locale, samesite="lax", max_age=365 * 86400)
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, csrf: Annotated[str, Form()] = "") -> Response:
    """Close the session: every copy of its cookie stops working."""
    check_csrf(request, csrf)
    end_login_session(request, session)
    return RedirectResponse("/login", status_code=303)


@router.get("/lang/{code}")
def switch_language(code: str, request: Request, next: str = "/") -> Response:
    """Switch the UI language (ru/en)."""
    response = RedirectResponse(_safe_next(next), status_code=303)
    if code in LOCALES:
        response.set_cookie("lang", code, samesite="lax", max_age=365 * 86400)
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request, actor: OptionalActor, session: SessionDep) -> Response:
    """The overview: the user's regions and what the system holds there."""
    if actor is None:
        return RedirectResponse("/login", status_code=303)
    if not actor.scope.can("read") and actor.scope.can("contests.score"):
        return RedirectResponse("/contests", status_code=303)  # an expert: their panels
    if not actor.scope.can("read") and actor.scope.can("pages"):
        return RedirectResponse("/publics/mine", status_code=303)  # a page owner's home
    regions = territories.list_territories(
        session, actor, level=TerritoryLevel.region, limit=200
    )[0]
    counts = stats.collect(session) if actor.scope.all_regions else None
    return render(request, "home.html", {**_user_context(actor, session), "regions": regions,
                                         "counts": counts})


@router.get("/territories", response_class=HTMLResponse)
def territories_page(
    request: Request,
    actor: OptionalActor,
    session: SessionDep,
    parent_id: RefId | None = None,
    q: str | None = Query(default=None, max_length=100),
    page: int = Query(default=1, ge=1, le=100_000),
) -> Response:
    """Browse the territory tree within the scope."""
    actor = _require(actor)
    parent = territories.get_territory(session, actor, parent_id) if parent_id else None
    level = None if (parent or q) else TerritoryLevel.region
    rows, total = territories.list_territories(
        session, actor, level=level, parent_id=parent_id, q=q, limit=PAGE,
        offset=(page - 1) * PAGE,
    )
    return render(request, "territories.html", {
        **_user_context(actor, session), "parent": parent, "rows": rows, "total": total,
        "q": q or "", "page": page, "pages": max(1, -(-total // PAGE)),
    })


@router.get("/organizations", response_class=HTMLResponse)
def organizations_page(
    request: Request,
    actor: OptionalActor,
    session: SessionDep,
    q: str | None = Query(default=None, max_length=100),
    page: int = Query(default=1, ge=1, le=100_000),
) -> Response:
    """Organizations within the scope."""
    actor = _require(actor)
    rows, total = organizations.list_organizations(
        session, actor, q=q, limit=PAGE, offset=(page - 1) * PAGE
    )
    return render(request, "organizations.html", {
        **_user_context(actor, session), "rows": rows, "total": total, "q": q or "",
        "page": page, "pages": max(1, -(-total // PAGE)),
    })


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, actor: OptionalActor, session: SessionDep) -> Response:
    """Users the admin manages."""
    actor = _require(actor)
    rows = accounts.list_users(session, actor)
    return render(request, "users.html", {**_user_context(actor, session), "rows": rows})


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(
    request: Request, actor: OptionalActor, session: SessionDep,
    page: int = Query(default=1, ge=1, le=100_000),
) -> Response:
    """The audit log, newest first."""
    actor = _require(actor)
    rows = audit.list_entries(session, actor, limit=PAGE, offset=(page - 1) * PAGE)
    return render(request, "audit.html", {**_user_context(actor, session), "rows": rows,
                                          "page": page})


@router.get("/api/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> Response:
    """OpenAPI documentation (Swagger UI, vendored, no CDN)."""
    return render(request, "api_docs.html")


def _safe_next(target: str) -> str:
    """Only local redirects: never to another site."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
