"""Scheduled briefs: schedules (a region or a federal okrug, weekly or monthly, formats) and
the run that generates the due ones.

A schedule is due for the last *complete* period (last ISO week, last calendar month) of the
reporting time zone. Each (schedule, region, period, format) is generated once: a second run
finds the stored file and skips it, so ``otklik report run-due`` can run from cron or from
``otklik cases tick`` every few minutes. An okrug schedule makes one brief per region of the
okrug. Files are stored in ``report_file`` (downloadable from /analytics/reports) and
e-mailed to the schedule's recipients by a queue job after the commit (``reports/delivery.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from otklik.analytics.repository import AnalyticsRepository
from otklik.analytics.schemas import reporting_day
from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.db.base import utcnow
from otklik.errors import Forbidden, InvalidInput, NotFound
from otklik.models.analytics import ReportFile, ReportSchedule
from otklik.models.territory import Territory, TerritoryLevel
from otklik.reports.writers import FORMATS

PERIOD_KINDS = ("weekly", "monthly")
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def due_period(kind: str, today: date) -> str:
    """The last complete period before ``today``: ``2026-W47`` or ``2026-11``."""
    if kind == "weekly":
        year, week, _ = (today - timedelta(days=today.isoweekday())).isocalendar()
        return f"{year}-W{week:02d}"
    if kind == "monthly":
        last = today.replace(day=1) - timedelta(days=1)
        return f"{last.year}-{last.month:02d}"
    raise InvalidInput(f"period kind {kind!r}: weekly or monthly")


def require_manager(actor: Actor) -> None:
    """Refuse callers who do not manage schedules (analysts and administrators do)."""
    actor.require("analytics")
    if not (actor.scope.can("admin") or actor.role is None
            or actor.role.value in ("admin", "analyst")):
        raise Forbidden("schedules are managed by analysts and administrators")


def _regions_of(session: Session, schedule: ReportSchedule) -> list[str]:
    if schedule.region_code:
        return [schedule.region_code]
    return list(session.scalars(select(Territory.region_code).where(
        Territory.level == TerritoryLevel.region,
        Territory.federal_district == schedule.okrug).order_by(Territory.region_code)))


def create_schedule(session: Session, actor: Actor, *, region_code: str | None,
                    okrug: str | None, period_kind: str, formats: Sequence[str],
                    recipients: str = "") -> ReportSchedule:
    """Add a schedule for a region or (without a region) a federal okrug."""
    require_manager(actor)
    if period_kind not in PERIOD_KINDS:
        raise InvalidInput(f"period kind {period_kind!r}: weekly or monthly")
    chosen = [f for f in FORMATS if f in formats]
    if not chosen:
        raise InvalidInput(f"choose at least one format of {', '.join(FORMATS)}")
    if bool(region_code) == bool(okrug):
        raise InvalidInput("a schedule is for one region or for one federal okrug")
    repo = AnalyticsRepository(session)
    if region_code:
        if not actor.scope.sees_region(region_code) or repo.region_by_name(region_code) is None:
            raise NotFound(f"region {region_code} is unknown or outside your scope")
    else:
        regions = [r for r in repo.regions(actor.scope) if r.federal_district == okrug]
        if not regions or (not actor.scope.all_regions and any(
                not actor.scope.sees_region(code) for code in session.scalars(
                    select(Territory.region_code).where(
                        Territory.level == TerritoryLevel.region,
                        Territory.federal_district == okrug)))):
            raise NotFound(f"okrug {okrug!r} is unknown or not wholly in your scope")
    schedule = ReportSchedule(region_code=region_code or None, okrug=okrug or None,
                              period_kind=period_kind, formats=chosen,
                              recipients=recipients.strip()[:1000], enabled=True,
                              created_by_id=actor.user_id)
    session.add(schedule)
    session.flush()
    audit.record(session, actor, "report_schedule.create", "report_schedule", schedule.id,
                 region_code=region_code, details={"okrug": okrug, "kind": period_kind})
    return schedule


def get_schedule(session: Session, actor: Actor, schedule_id: int) -> ReportSchedule:
    """A schedule the actor may see."""
    actor.require("analytics")
    schedule = session.get(ReportSchedule, schedule_id)
    if schedule is None or not all(actor.scope.sees_region_wide(r)
                                   for r in _regions_of(session, schedule)):
        raise NotFound(f"schedule {schedule_id} does not exist or is outside your scope")
    return schedule


def set_enabled(session: Session, actor: Actor, schedule_id: int, enabled: bool) -> None:
    """Pause or resume a schedule."""
    require_manager(actor)
    schedule = get_schedule(session, actor, schedule_id)
    schedule.enabled = enabled
    session.flush()
    audit.record(session, actor, "report_schedule.update", "report_schedule", schedule.id,
                 region_code=schedule.region_code, details={"enabled": enabled})


def delete_schedule(session: Session, actor: Actor, schedule_id: int) -> None:
    """Remove a schedule (its files stay, detached)."""
    require_manager(actor)
    schedule = get_schedule(session, actor, schedule_id)
    session.delete(schedule)
    session.flush()
    audit.record(session, actor, "report_schedule.delete", "report_schedule", schedule_id)


def list_schedules(session: Session, actor: Actor) -> list[ReportSchedule]:
    """Schedules whose regions the actor sees whole (none for a deputy's district)."""
    actor.require("analytics")
    rows = session.scalars(select(ReportSchedule).order_by(ReportSchedule.id)).all()
    return [s for s in rows
            if all(actor.scope.sees_region_wide(r) for r in _regions_of(session, s))]


def list_files(session: Session, actor: Actor, limit: int = 100) -> list[ReportFile]:
    """Generated briefs of the regions the actor sees whole, newest first (without loading
    contents): a brief is about a whole region, so a deputy's district or an executor's
    organization gets none."""
    actor.require("analytics")
    rows = session.scalars(select(ReportFile).options(defer(ReportFile.content)).where(
        actor.scope.region_wide_filter(ReportFile.region_code))
        .order_by(ReportFile.id.desc()).limit(limit)).all()
    return list(rows)


def get_file(session: Session, actor: Actor, file_id: int) -> ReportFile:
    """A generated brief the actor may download."""
    actor.require("analytics")
    row = session.get(ReportFile, file_id)
    if row is None or not actor.scope.sees_region_wide(row.region_code):
        raise NotFound(f"report file {file_id} does not exist or is outside your scope")
    return row


@dataclass(frozen=True)
class RunResult:
    """What a run generated and skipped."""

    generated: list[tuple[int, str, str, str]]  # (schedule, region, period, format)
    skipped: int
    deliveries: int = 0  # e-mails queued (or recorded as not sent) for the new files


def _existing(session: Session, schedule_id: int, period: str) -> set[tuple[str, str]]:
    rows = session.execute(select(ReportFile.region_code, ReportFile.fmt).where(
        ReportFile.schedule_id == schedule_id, ReportFile.period == period))
    return {(r or "", f) for r, f in rows}


def run_due(session: Session, *, now: datetime | None = None,
            schedule_ids: Sequence[int] | None = None) -> RunResult:
    """Generate every due brief not generated yet (idempotent); each new file is e-mailed to
    the schedule's recipients after the commit (``reports/delivery.py``)."""
    from otklik.reports.brief import build_brief
    from otklik.reports.delivery import queue_deliveries
    from otklik.reports.writers import render

    now = now or utcnow()
    today = reporting_day(now)
    actor = Actor.system("reports")
    query = select(ReportSchedule).where(ReportSchedule.enabled.is_(True)).order_by(
        ReportSchedule.id)
    if schedule_ids is not None:
        query = query.where(ReportSchedule.id.in_(list(schedule_ids)))
    generated: list[tuple[int, str, str, str]] = []
    skipped = deliveries = 0
    for schedule in session.scalars(query).all():
        period = due_period(schedule.period_kind, today)
        done = _existing(session, schedule.id, period)
        for region in _regions_of(session, schedule):
            todo = [f for f in schedule.formats if (region, f) not in done]
            skipped += len(schedule.formats) - len(todo)
            if not todo:
                continue
            brief = build_brief(session, actor, region, period, now=now,
                                with_charts=any(f != "xlsx" for f in todo))
            for fmt in todo:
                content = render(brief, fmt)  # type: ignore[arg-type]
                stored = ReportFile(schedule_id=schedule.id, region_code=region,
                                    period=period, fmt=fmt, title=brief.title,
                                    content=content, size=len(content), created_at=now)
                session.add(stored)
                session.flush()
                deliveries += len(queue_deliveries(session, stored, schedule.recipients))
                generated.append((schedule.id, region, period, fmt))
        schedule.last_period = period
        schedule.last_run_at = now
        session.flush()
    return RunResult(generated, skipped, deliveries)


def periodic(session: Session, *, now: datetime | None = None) -> RunResult:
    """What the periodic tick does for analytics: refresh the rollups, generate due briefs."""
    from otklik.analytics.tasks import refresh_rollups

    refresh_rollups(session, every=True, now=now)
    return run_due(session, now=now)


def periodic_tick() -> None:
    """``otklik cases tick`` calls this after the escalations (its own unit of work)."""
    from otklik.db.session import session_scope
    from otklik.queue import inline_worker

    with inline_worker():  # queued e-mails and refreshes run before the command ends
        with session_scope() as session:
            periodic(session)
