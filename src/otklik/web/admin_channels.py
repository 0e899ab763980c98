"""Admin page: which town each community speaks for (intake.channel_places)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from otklik.audit.actor import Actor
from otklik.deps import OptionalActor, SessionDep, check_csrf
from otklik.intake import channel_places
from otklik.intake.repository import ChannelPlaceRepository
from otklik.web.rendering import render
from otklik.web.workspace_common import attempt, common_context, flash, require_actor

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form()]
PAGE = "/admin/channels"


def _page(request: Request, actor: Actor, session: Session, errors: list[str] | None = None,
          form: dict[str, str] | None = None) -> Response:
    places = channel_places.list_places(session, actor)
    placed = {p.channel for p in places}
    regions = None if actor.scope.all_regions else sorted(actor.scope.region_codes)
    unplaced = [(name, count)
                for name, count in ChannelPlaceRepository(session).known_channels(regions, 200)
                if name not in placed]
    context: dict[str, Any] = {**common_context(request, actor, session), "places": places,
                               "unplaced": unplaced, "errors": errors or [], "form": form or {}}
    return render(request, "ws_admin_channels.html", context,
                  status_code=400 if errors else 200)


@router.get(PAGE, response_class=HTMLResponse)
def channels_page(request: Request, actor: OptionalActor, session: SessionDep) -> Response:
    """Channels with their place, the busiest channels without one, and a form."""
    actor = require_actor(actor)
    actor.require("admin")
    return _page(request, actor, session)


@router.post(PAGE, response_class=HTMLResponse)
def channels_set(request: Request, actor: OptionalActor, session: SessionDep, csrf: Csrf = "",
                 channel: Annotated[str, Form(max_length=255)] = "",
                 territory_key: Annotated[str, Form(max_length=64)] = "") -> Response:
    """Set a channel's place through intake.channel_places.set_place."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    with attempt(session) as errors:
        view = channel_places.set_place(session, actor, channel, territory_key)
    if errors:
        return _page(request, actor, session, errors,
                     {"channel": channel, "territory_key": territory_key})
    flash(request, f"«{view.channel}» → {view.territory_name}", "ok")
    return RedirectResponse(PAGE, status_code=303)


@router.post(PAGE + "/remove", response_class=HTMLResponse)
def channels_remove(request: Request, actor: OptionalActor, session: SessionDep,
                    csrf: Csrf = "", channel: Annotated[str, Form(max_length=255)] = ""
                    ) -> Response:
    """Forget a channel's place."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    with attempt(session) as errors:
        channel_places.remove_place(session, actor, channel)
    if errors:
        return _page(request, actor, session, errors)
    flash(request, f"«{channel}»: место снято", "ok")
    return RedirectResponse(PAGE, status_code=303)
