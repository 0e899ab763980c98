"""Scheduled briefs: the schedules (analysts and administrators manage them) and the
generated files, downloadable by whoever sees their region, with their e-mail deliveries."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from otklik.analytics.repository import AnalyticsRepository
from otklik.bounds import RefId
from otklik.config import get_settings
from otklik.deps import OptionalActor, SessionDep, check_csrf
from otklik.reports import schedule as schedules
from otklik.reports.delivery import deliveries_of
from otklik.reports.writers import FORMATS
from otklik.web.rendering import render
from otklik.web.workspace_common import flash, require_actor, take_flashes, user_context

router = APIRouter(include_in_schema=False)


@router.get("/analytics/reports", response_class=HTMLResponse)
def reports_page(request: Request, actor: OptionalActor, session: SessionDep) -> Response:
    """Schedules of briefs and the briefs generated so far."""
    actor = require_actor(actor)
    regions = AnalyticsRepository(session).regions(actor.scope)
    names = {r.region_code: r.name for r in regions}
    files = schedules.list_files(session, actor)
    return render(request, "an_reports.html", {
        **user_context(actor, session), "schedules": schedules.list_schedules(session, actor),
        "files": files, "regions": regions, "names": names,
        "deliveries": deliveries_of(session, [f.id for f in files]),
        "smtp_enabled": get_settings().smtp_enabled,
        "okrugs": sorted({r.federal_district for r in regions if r.federal_district}),
        "formats": FORMATS, "kinds": schedules.PERIOD_KINDS,
        "can_manage": actor.scope.can("admin") or (actor.role is not None and
                                                   actor.role.value == "analyst"),
        "flashes": take_flashes(request),
    })


@router.post("/analytics/reports/schedules")
def add_schedule(
    request: Request, actor: OptionalActor, session: SessionDep,
    csrf: Annotated[str, Form()] = "", region_code: Annotated[str, Form()] = "",
    okrug: Annotated[str, Form()] = "", period_kind: Annotated[str, Form()] = "monthly",
    formats: Annotated[list[str], Form()] = [],  # noqa: B006
    recipients: Annotated[str, Form()] = "",
) -> Response:
    """Add a schedule."""
    actor = require_actor(actor)
    check_csrf(request, csrf)
    schedules.create_schedule(session, actor, region_code=region_code or None,
                              okrug=okrug or None, period_kind=period_kind, formats=formats,
                              recipients=recipients)
    flash(request, "Расписание добавлено")
    return RedirectResponse("/analytics/reports", status_code=303)


@router.post("/analytics/reports/schedules/{schedule_id}/{action}")
def change_schedule(request: Request, schedule_id: RefId, action: str, actor: OptionalActor,
                    session: SessionDep, csrf: Annotated[str, Form()] = "") -> Response:
    """Pause, resume, delete a schedule, or generate its due briefs now."""
    actor = require_actor(actor)
    check_csrf(request, csrf)
    if action in ("pause", "resume"):
        schedules.set_enabled(session, actor, schedule_id, action == "resume")
    elif action == "delete":
        schedules.delete_schedule(session, actor, schedule_id)
    elif action == "run":
        schedules.get_schedule(session, actor, schedule_id)
        schedules.require_manager(actor)
        result = schedules.run_due(session, schedule_ids=[schedule_id])
        flash(request, f"Сформировано файлов: {len(result.generated)}, уже были: "
                       f"{result.skipped}")
    else:
        return Response(status_code=404)
    return RedirectResponse("/analytics/reports", status_code=303)


@router.get("/analytics/reports/files/{file_id}")
def download(file_id: RefId, actor: OptionalActor, session: SessionDep) -> Response:
    """A generated brief as a download."""
    actor = require_actor(actor)
    row = schedules.get_file(session, actor, file_id)
    name = f"brief-{row.region_code}-{row.period}.{row.fmt}"
    return Response(row.content, media_type=schedules.MEDIA_TYPES.get(row.fmt,
                                                                      "application/octet-stream"),
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})
