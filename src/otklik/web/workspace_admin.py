"""Admin pages: routing rules, deadline policies, calendar, connectors, models, users.

The taxonomy editor is web/admin_taxonomy.py; channel places are web/admin_channels.py.

Each form goes through the service the API uses (cases.admin, channels.service,
language.registry, accounts.service); errors show next to the form.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from otklik.accounts import service as accounts
from otklik.accounts.schemas import UserCreate
from otklik.audit.actor import Actor
from otklik.bounds import RefId
from otklik.cases import admin
from otklik.cases.schemas import CalendarExceptionCreate, PolicyCreate, RuleCreate
from otklik.channels import service as connectors_service
from otklik.channels.connectors.registry import CONNECTORS
from otklik.deps import OptionalActor, SessionDep, check_csrf
from otklik.errors import InvalidInput
from otklik.language import registry
from otklik.language.taxonomy_service import active_taxonomy
from otklik.models.account import Role
from otklik.sla.policy import DEFAULT_POLICIES
from otklik.web import workspace_queries as wq
from otklik.web.admin_taxonomy import reenrich_context
from otklik.web.rendering import render
from otklik.web.workspace_common import attempt, common_context, flash, require_actor

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form()]


def _valid(model: type[BaseModel], **data: Any) -> Any:
    """Build a request model; shape errors become a message a person can act on."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InvalidInput(problems) from None


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{what}: not valid JSON ({exc.msg}, line {exc.lineno})") from None


def _page(request: Request, actor: Actor, session: Session, template: str,
          context: dict[str, Any], errors: list[str] | None = None) -> Response:
    return render(request, template, {**common_context(request, actor, session), **context,
                                      "errors": errors or []},
                  status_code=400 if errors else 200)


def _done(request: Request, target: str, text: str) -> Response:
    flash(request, text, "ok")
    return RedirectResponse(target, status_code=303)


@router.get("/admin", response_class=HTMLResponse)
def admin_index(request: Request, actor: OptionalActor, session: SessionDep) -> Response:
    """The list of settings pages."""
    actor = require_actor(actor)
    actor.require("read")
    return _page(request, actor, session, "ws_admin.html", {})


# -- routing rules ------------------------------------------------------------------------------


def _rules_context(session: Session, actor: Actor, region: str | None) -> dict[str, Any]:
    return {"rules": wq.rules(session, actor.scope, region), "region": region or "",
            "regions": wq.regions(session, actor.scope),
            "organizations": wq.organizations(session, actor.scope, region),
            "municipalities": [m for m in wq.municipalities(session, actor.scope)
                               if not region or m.region_code == region],
            "taxonomy": active_taxonomy(session),
            "org_names": wq.organization_names(session, [r.executor_id for r in
                                                         wq.rules(session, actor.scope,
                                                                  region)]),
            "place_names": wq.territory_names(session, [r.territory_id for r in
                                                        wq.rules(session, actor.scope,
                                                                 region)])}


@router.get("/admin/rules", response_class=HTMLResponse)
def rules_page(request: Request, actor: OptionalActor, session: SessionDep,
               region: str | None = None) -> Response:
    """Routing rules topic × territory → executor, in order, and a form to add one."""
    actor = require_actor(actor)
    actor.require("reference.write")
    return _page(request, actor, session, "ws_admin_rules.html",
                 _rules_context(session, actor, region))


@router.post("/admin/rules", response_class=HTMLResponse)
def rules_add(request: Request, actor: OptionalActor, session: SessionDep, csrf: Csrf = "",
              region_code: Annotated[str, Form()] = "", executor_id: Annotated[str, Form()] = "",
              topic: Annotated[str, Form()] = "", territory_id: Annotated[str, Form()] = "",
              position: Annotated[str, Form()] = "100",
              note: Annotated[str, Form(max_length=255)] = "") -> Response:
    """Add a routing rule through cases.admin.add_rule."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    with attempt(session) as errors:
        data = _valid(RuleCreate, region_code=region_code, executor_id=executor_id or None,
                      topic=topic.split(".", 1)[0] if topic else None,
                      subtopic=topic if "." in topic else None,
                      territory_id=territory_id or None, position=position or 100,
                      note=note or None)
        admin.add_rule(session, actor, data)
    if errors:
        return _page(request, actor, session, "ws_admin_rules.html",
                     _rules_context(session, actor, region_code), errors)
    return _done(request, f"/admin/rules?region={region_code}", "Правило добавлено")


# -- deadline policies and the calendar ---------------------------------------------------------


def _policies_context(session: Session, actor: Actor) -> dict[str, Any]:
    return {"policies": wq.policies(session, actor.scope),
            "defaults": [p.to_json() for p in DEFAULT_POLICIES],
            "regions": wq.regions(session, actor.scope),
            "example": json.dumps(DEFAULT_POLICIES[0].to_json(), ensure_ascii=False, indent=1)}


@router.get("/admin/policies", response_class=HTMLResponse)
def policies_page(request: Request, actor: OptionalActor, session: SessionDep) -> Response:
    """Deadline policies (the built-in defaults when none are stored) and an add form."""
    actor = require_actor(actor)
    actor.require("reference.write")
    return _page(request, actor, session, "ws_admin_policies.html",
                 _policies_context(session, actor))


@router.post("/admin/policies", response_class=HTMLResponse)
def policies_add(request: Request, actor: OptionalActor, session: SessionDep, csrf: Csrf = "",
                 region_code: Annotated[str, Form()] = "",
                 position: Annotated[str, Form()] = "100",
                 policy: Annotated[str, Form(max_length=20000)] = "") -> Response:
    """Add a deadline policy through cases.admin.add_policy."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    with attempt(session) as errors:
        data = _valid(PolicyCreate, region_code=region_code or None, position=position or 100,
                      policy=_json(policy, "policy"))
        admin.add_policy(session, actor, data)
    if errors:
        return _page(request, actor, session, "ws_admin_policies.html",
                     _policies_context(session, actor), errors)
    return _done(request, "/admin/policies", "Политика сроков добавлена")


def _calendar_context(session: Session, actor: Actor) -> dict[str, Any]:
    return {"rows": wq.calendar_exceptions(session, actor.scope),
            "regions": wq.regions(session, actor.scope)}


@router.get("/admin/calendar", response_class=HTMLResponse)
def calendar_page(request: Request, actor: OptionalActor, session: SessionDep) -> Response:
    """Corrections of the production calendar and a form to add one."""
    actor = require_actor(actor)
    actor.require("reference.write")
    return _page(request, actor, session, "ws_admin_calendar.html",
                 _calendar_context(session, actor))


@router.post("/admin/calendar", response_class=HTMLResponse)
def calendar_add(request: Request, actor: OptionalActor, session: SessionDep, csrf: Csrf = "",
                 region_code: Annotated[str, Form()] = "", day: Annotated[str, Form()] = "",
                 kind: Annotated[str, Form()] = "",
                 note: Annotated[str, Form(max_length=255)] = "") -> Response:
    """Add a calendar exception through cases.admin.add_calendar_exception."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    with attempt(session) as errors:
        data = _valid(CalendarExceptionCreate, region_code=region_code or None, day=day,
                      kind=kind, note=note)
        admin.add_calendar_exception(session, actor, data)
    if errors:
        return _page(request, actor, session, "ws_admin_calendar.html",
                     _calendar_context(session, actor), errors)
    return _done(request, "/admin/calendar", "Исключение календаря добавлено")


@router.post("/admin/calendar/{exception_id}/delete", response_class=HTMLResponse)
def calendar_remove(request: Request, exception_id: RefId, actor: OptionalActor,
                    session: SessionDep, csrf: Csrf = "") -> Response:
    """Remove a calendar exception through cases.admin.remove_calendar_exception."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    with attempt(session) as errors:
        admin.remove_calendar_exception(session, actor, exception_id)
    if errors:
        return _page(request, actor, session, "ws_admin_calendar.html",
                     _calendar_context(session, actor), errors)
    return _done(request, "/admin/calendar", "Исключение календаря удалено")


# -- connectors and models -----------------------------------------------------------------------


def _connectors_context(session: Session, actor: Actor) -> dict[str, Any]:
    rows = connectors_service.list_connectors(session, actor)
    return {"rows": rows, "kinds": sorted(CONNECTORS), "regions": wq.regions(session,
                                                                              actor.scope)}


@router.get("/admin/connectors", response_class=HTMLResponse)
def connectors_page(request: Request, actor: OptionalActor, session: SessionDep) -> Response:
    """Channels with their state and last error, and a form to add one."""
    actor = require_actor(actor)
    actor.require("admin")
    return _page(request, actor, session, "ws_admin_connectors.html",
                 _connectors_context(session, actor))


@router.post("/admin/connectors", response_class=HTMLResponse)
def connectors_add(request: Request, actor: OptionalActor, session: SessionDep,
                   csrf: Csrf = "", kind: Annotated[str, Form(max_length=32)] = "",
                   name: Annotated[str, Form(max_length=255)] = "",
                   region_code: Annotated[str, Form()] = "",
                   config: Annotated[str, Form(max_length=20000)] = "") -> Response:
    """Add a connector through channels.service.add_connector."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    with attempt(session) as errors:
        if not name.strip():
            raise InvalidInput("give the connector a name")
        connectors_service.add_connector(session, actor, kind=kind, name=name.strip(),
                                         config=_json(config, "settings"),
                                         region_code=region_code or None)
    if errors:
        return _page(request, actor, session, "ws_admin_connectors.html",
                     _connectors_context(session, actor), errors)
    return _done(request, "/admin/connectors", "Канал добавлен")


def _models_context(session: Session, actor: Actor) -> dict[str, Any]:
    rows = registry.versions(session)
    return {"rows": rows, "fields": sorted({r.label_field for r in rows}),
            **reenrich_context(session, actor, "/admin/models")}


@router.get("/admin/models", response_class=HTMLResponse)
def models_page(request: Request, actor: OptionalActor, session: SessionDep) -> Response:
    """Registered models with their metrics; activate one or roll back."""
    actor = require_actor(actor)
    actor.require("admin")
    return _page(request, actor, session, "ws_admin_models.html", _models_context(session, actor))


@router.post("/admin/models/activate", response_class=HTMLResponse)
def models_activate(request: Request, actor: OptionalActor, session: SessionDep,
                    csrf: Csrf = "", version: Annotated[str, Form(max_length=64)] = ""
                    ) -> Response:
    """Make a registered model the active one of its field."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    with attempt(session) as errors:
        registry.activate_version(session, actor, version)
    if errors:
        return _page(request, actor, session, "ws_admin_models.html",
                     _models_context(session, actor), errors)
    return _done(request, "/admin/models", f"Активна модель {version}")


@router.post("/admin/models/rollback", response_class=HTMLResponse)
def models_rollback(request: Request, actor: OptionalActor, session: SessionDep,
                    csrf: Csrf = "", label_field: Annotated[str, Form(max_length=32)] = ""
                    ) -> Response:
    """Go back to the model that was active before the current one."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    with attempt(session) as errors:
        row = registry.rollback(session, actor, label_field)
    if errors:
        return _page(request, actor, session, "ws_admin_models.html",
                     _models_context(session, actor), errors)
    return _done(request, "/admin/models", f"Активна модель {row.version}")


# -- users ---------------------------------------------------------------------------------------


def _user_form_context(session: Session, actor: Actor) -> dict[str, Any]:
    return {"roles": list(Role), "regions": wq.regions(session, actor.scope),
            "organizations": wq.organizations(session, actor.scope)}


@router.get("/admin/users/new", response_class=HTMLResponse)
def user_new(request: Request, actor: OptionalActor, session: SessionDep) -> Response:
    """The form for a new user."""
    actor = require_actor(actor)
    actor.require("users")
    return _page(request, actor, session, "ws_admin_user.html",
                 _user_form_context(session, actor))


@router.post("/admin/users/new", response_class=HTMLResponse)
def user_create(request: Request, actor: OptionalActor, session: SessionDep, csrf: Csrf = "",
                username: Annotated[str, Form(max_length=64)] = "",
                full_name: Annotated[str, Form(max_length=255)] = "",
                email: Annotated[str, Form(max_length=255)] = "",
                password: Annotated[str, Form(max_length=256)] = "",
                role: Annotated[str, Form(max_length=16)] = "",
                region_codes: Annotated[list[str], Form()] = [],  # noqa: B006
                organization_id: Annotated[str, Form()] = "") -> Response:
    """Create a user through accounts.service.create_user."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    with attempt(session) as errors:
        data = _valid(UserCreate, username=username.strip(), full_name=full_name.strip(),
                      email=email.strip() or None, password=password, role=role,
                      region_codes=[c for c in region_codes if c],
                      organization_id=organization_id or None)
        accounts.create_user(session, actor, data)
    if errors:
        return _page(request, actor, session, "ws_admin_user.html",
                     {**_user_form_context(session, actor),
                      "form": {"username": username, "full_name": full_name, "email": email,
                               "role": role, "region_codes": region_codes,
                               "organization_id": organization_id}}, errors)
    return _done(request, "/admin/users", f"Пользователь {username} создан")

