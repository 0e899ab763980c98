"""The admin page of integrators' API keys: list, create (the secret shown once, on the page
that made it, never stored or flashed), revoke. Through accounts.apikeys, like the CLI."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from otklik.accounts import apikeys
from otklik.audit.actor import Actor
from otklik.bounds import RefId
from otklik.deps import OptionalActor, SessionDep, check_csrf
from otklik.web import workspace_queries as wq
from otklik.web.rendering import locale_of, render
from otklik.web.workspace_common import attempt, common_context, flash, require_actor

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form()]


def _page(request: Request, actor: Actor, session: Session, extra: dict[str, Any],
          errors: list[str] | None = None) -> Response:
    context = {**common_context(request, actor, session),
               "keys": apikeys.list_keys(session, actor),
               "scopes": sorted(apikeys.KEY_SCOPES),
               "regions": wq.regions(session, actor.scope), "errors": errors or [], **extra}
    return render(request, "ws_admin_apikeys.html", context,
                  status_code=400 if errors else 200)


@router.get("/admin/apikeys", response_class=HTMLResponse)
def apikeys_page(request: Request, actor: OptionalActor, session: SessionDep) -> Response:
    """The keys of the administrator's regions and a form to make one."""
    actor = require_actor(actor)
    actor.require("admin")
    return _page(request, actor, session, {})


@router.post("/admin/apikeys", response_class=HTMLResponse)
def apikeys_create(request: Request, actor: OptionalActor, session: SessionDep,
                   csrf: Csrf = "", name: Annotated[str, Form(max_length=255)] = "",
                   region: Annotated[str, Form(max_length=3)] = "",
                   scopes: Annotated[list[str] | None, Form()] = None) -> Response:
    """Make a key; the page that answers shows its secret once."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    created: dict[str, Any] = {}
    with attempt(session) as errors:
        row, secret = apikeys.create_key(session, actor, scopes=scopes or [], name=name,
                                         region=region or None)
        created = {"created_secret": secret, "created_name": row.name}
    response = _page(request, actor, session, created, errors)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/admin/apikeys/{key_id}/revoke", response_class=HTMLResponse)
def apikeys_revoke(request: Request, key_id: RefId, actor: OptionalActor, session: SessionDep,
                   csrf: Csrf = "") -> Response:
    """Revoke a key at once."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    with attempt(session) as errors:
        apikeys.revoke_key(session, actor, key_id)
    if errors:
        return _page(request, actor, session, {}, errors)
    flash(request, "Ключ отозван" if locale_of(request) == "ru" else "Key revoked", "ok")
    return RedirectResponse("/admin/apikeys", status_code=303)
