"""Admin pages of the notifier and the webhooks (/admin/notify, /admin/webhooks) and the
acknowledgement link of an alert e-mail (/notify/ack/<token>, no login: GET asks, POST
acknowledges)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from otklik.audit.actor import Actor
from otklik.deps import OptionalActor, SessionDep, check_csrf
from otklik.notify import alerts
from otklik.notify import service as notify
from otklik.notify.repository import NotifyRepository
from otklik.web.rendering import render
from otklik.web.workspace_common import attempt, common_context, flash, require_actor
from otklik.webhooks import service as webhooks
from otklik.webhooks.schemas import SubscriptionUpdate

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form()]
PAGE = "/admin/notify"
HOOKS = "/admin/webhooks"


def _page(request: Request, actor: Actor, session: Session, errors: list[str] | None = None
          ) -> Response:
    context: dict[str, Any] = {**common_context(request, actor, session),
                               **notify.overview(session, actor), "errors": errors or []}
    return render(request, "ws_admin_notify.html", context, status_code=400 if errors else 200)


@router.get(PAGE, response_class=HTMLResponse)
def notify_page(request: Request, actor: OptionalActor, session: SessionDep) -> Response:
    """Channel health, recent alerts and deliveries, the duty rosters, a test send."""
    actor = require_actor(actor)
    return _page(request, actor, session)


def _done(request: Request, session: Session, actor: Actor, errors: list[str], text: str
          ) -> Response:
    if errors:
        return _page(request, actor, session, errors)
    flash(request, text, "ok")
    return RedirectResponse(PAGE, status_code=303)


@router.post(PAGE + "/rosters", response_class=HTMLResponse)
def roster_create(request: Request, actor: OptionalActor, session: SessionDep, csrf: Csrf = "",
                  name: Annotated[str, Form(max_length=255)] = "",
                  region_id: Annotated[int, Form()] = 0,
                  escalate_after_minutes: Annotated[int, Form(ge=1, le=1440)] = 15,
                  webhook_url: Annotated[str, Form(max_length=1000)] = "",
                  webhook_secret: Annotated[str, Form(max_length=128)] = "") -> Response:
    """A new duty roster."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    with attempt(session) as errors:
        notify.create_roster(session, actor, name=name, region_id=region_id,
                             escalate_after_minutes=escalate_after_minutes,
                             webhook_url=webhook_url or None,
                             webhook_secret=webhook_secret or None)
    return _done(request, session, actor, errors, f"График «{name}» создан")


@router.post(PAGE + "/rosters/{roster_id}/members", response_class=HTMLResponse)
def member_add(request: Request, roster_id: int, actor: OptionalActor, session: SessionDep,
               csrf: Csrf = "", name: Annotated[str, Form(max_length=255)] = "",
               telegram_chat_id: Annotated[str, Form(max_length=32)] = "",
               email: Annotated[str, Form(max_length=320)] = "",
               start_hour: Annotated[int, Form(ge=0, le=24)] = 0,
               end_hour: Annotated[int, Form(ge=0, le=24)] = 24) -> Response:
    """A person at the end of a roster."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    with attempt(session) as errors:
        notify.add_member(session, actor, roster_id, name=name,
                          telegram_chat_id=telegram_chat_id, email=email,
                          start_hour=start_hour, end_hour=end_hour)
    return _done(request, session, actor, errors, f"{name}: добавлен(а) в график")


@router.post(PAGE + "/members/{member_id}/{action}", response_class=HTMLResponse)
def member_change(request: Request, member_id: int, action: str, actor: OptionalActor,
                  session: SessionDep, csrf: Csrf = "") -> Response:
    """Move a person up or down the roster, or take them off it."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    with attempt(session) as errors:
        if action == "remove":
            notify.remove_member(session, actor, member_id)
        else:
            notify.move_member(session, actor, member_id, up=action == "up")
    return _done(request, session, actor, errors, "График изменён")


@router.post(PAGE + "/test", response_class=HTMLResponse)
def test_send(request: Request, actor: OptionalActor, session: SessionDep, csrf: Csrf = "",
              channel: Annotated[str, Form(max_length=16)] = "",
              target: Annotated[str, Form(max_length=1000)] = "") -> Response:
    """Queue a test message through a channel."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    with attempt(session) as errors:
        row = notify.test_send(session, actor, channel, target)
    return _done(request, session, actor, errors,
                 "" if errors else f"Проверка отправляется (доставка №{row.id})")


@router.get(HOOKS, response_class=HTMLResponse)
def webhooks_page(request: Request, actor: OptionalActor, session: SessionDep) -> Response:
    """Webhook subscriptions, their state and recent deliveries."""
    actor = require_actor(actor)
    actor.require("admin")
    subs, _ = webhooks.list_subscriptions(session, actor, limit=500)
    repo = NotifyRepository(session)
    deliveries, _ = repo.deliveries(source=webhooks.SOURCE, source_ids=[s.id for s in subs],
                                    limit=50)
    context = {**common_context(request, actor, session), "subs": subs,
               "deliveries": deliveries,
               "attempts": repo.attempts_of([d.id for d in deliveries])}
    return render(request, "ws_admin_webhooks.html", context)


@router.post(HOOKS + "/{subscription_id}/enable", response_class=HTMLResponse)
def webhook_enable(request: Request, subscription_id: int, actor: OptionalActor,
                   session: SessionDep, csrf: Csrf = "") -> Response:
    """Switch a disabled subscription back on."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    actor.require("admin")
    row = webhooks.update_subscription(session, actor, subscription_id,
                                       SubscriptionUpdate(is_active=True))
    flash(request, f"«{row.name}»: снова включена", "ok")
    return RedirectResponse(HOOKS, status_code=303)


@router.get("/notify/ack/{token}", response_class=HTMLResponse)
def acknowledge_page(request: Request, token: str, session: SessionDep) -> Response:
    """The e-mail's link: a confirmation page with one button. It changes nothing, because
    mail scanners and link previews open links (no login: the token is the key)."""
    found = alerts.find_by_token(session, token[:128])
    alert = found[0] if found else None
    context = {"alert": alert, "token": token[:128], "confirm": alert is not None
               and alert.status == "open", "newly": False}
    return render(request, "notify_ack.html", context, status_code=200 if found else 404)


@router.post("/notify/ack/{token}", response_class=HTMLResponse)
def acknowledge(request: Request, token: str, session: SessionDep) -> Response:
    """The confirmation page's button: acknowledges the alert (no login, no form token: the
    link's token is the key, and only the person it was sent to has it)."""
    outcome = alerts.acknowledge(session, token[:128], "email")
    context = {"alert": outcome[0] if outcome else None, "token": token[:128],
               "confirm": False, "newly": bool(outcome and outcome[2])}
    return render(request, "notify_ack.html", context, status_code=200 if outcome else 404)
