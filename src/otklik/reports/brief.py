"""The brief for the head of a region: what goes in it, gathered once for every format.

A brief holds the period's headline numbers, findings, the volume and topic charts, top
problems, executor ratings (with the formula), the overdue list and the decisions of the
period. Writers (DOCX, PDF, XLSX) only lay it out.

Newer domains add a section of their own (fakes: copies and reach of the period) through
:func:`brief_section`: a function of (session, actor, brief) returning a
:class:`Table` or None. The modules that declare sections are listed by name in
:data:`SECTION_MODULES` and imported on first use, so reports imports none of them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from otklik.analytics import ratings
from otklik.analytics.repository import AnalyticsRepository
from otklik.analytics.schemas import AnalyticsFilter, Dashboard, Ratings
from otklik.analytics.service import DashboardBuilder, limits_for
from otklik.audit.actor import Actor
from otklik.db.base import utcnow
from otklik.decisions import service as decisions
from otklik.decisions.schemas import DecisionRead
from otklik.errors import NotFound
from otklik.pd.masking import mask_text
from otklik.reports import charts

MONTHS = ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август",
          "сентябрь", "октябрь", "ноябрь", "декабрь")


@dataclass(frozen=True)
class OverdueRow:
    """An open case past its deadline."""

    case_id: int
    title: str
    executor: str
    due: datetime
    days_late: int


@dataclass(frozen=True)
class Table:
    """A titled table of the brief: header and rows of text/number cells (the built-in ones
    are in :mod:`otklik.reports.tables`; other domains add theirs through
    :func:`brief_section`)."""

    key: str
    title: str
    header: list[str]
    rows: list[list[str | int | float]]
    widths: list[float]


@dataclass
class Brief:
    """Everything a brief shows."""

    region_code: str
    region_name: str
    period_label: str
    flt: AnalyticsFilter
    dashboard: Dashboard
    executor_ratings: Ratings
    municipality_ratings: Ratings
    overdue: list[OverdueRow]
    decisions: list[DecisionRead]
    generated_at: datetime
    #: What changes are measured against: "предыдущему периоду", or for an unfinished
    #: period "тем же 6 дням ноября" (the same elapsed days of the previous one).
    compared_with: str = "предыдущему периоду"
    images: dict[str, bytes] = field(default_factory=dict)
    #: Sections of other domains (:func:`brief_section`).
    sections: list[Table] = field(default_factory=list)

    @property
    def title(self) -> str:
        """The brief's heading."""
        return f"Обращения жителей: {self.region_name}, {self.period_label}"


SectionProvider = Callable[[Session, Actor, Brief], Table | None]
_SECTIONS: list[SectionProvider] = []
#: Modules that declare brief sections (imported by name on first use; a missing one is
#: skipped, as ``otklik stats`` skips a domain that is not installed).
SECTION_MODULES = ("otklik.fakes.brief",)
_sections_loaded = False


def brief_section(func: SectionProvider) -> SectionProvider:
    """Register a function that adds a section to every brief."""
    if func not in _SECTIONS:
        _SECTIONS.append(func)
    return func


def _load_sections() -> None:
    global _sections_loaded
    if _sections_loaded:
        return
    for name in SECTION_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if not (exc.name and name.startswith(exc.name)):
                raise
    _sections_loaded = True


def period_label(flt: AnalyticsFilter) -> str:
    """"ноябрь 2026" for a calendar month, "01.11.2026 — 07.11.2026" otherwise."""
    last = flt.end - timedelta(days=1)
    if flt.start.day == 1 and (last + timedelta(days=1)).day == 1 and \
            flt.start.month == last.month:
        return f"{MONTHS[flt.start.month - 1]} {flt.start.year}"
    return f"{flt.start:%d.%m.%Y} — {last:%d.%m.%Y}"


def build_brief(session: Session, actor: Actor, region: str, period: str | None = None, *,
                date_from: date | None = None, date_to: date | None = None,
                now: datetime | None = None, with_charts: bool = True) -> Brief:
    """Gather a region's brief for a period (``2026-11``, ``2026-W47`` …)."""
    repo = AnalyticsRepository(session)
    territory = repo.region_by_name(region)
    if territory is None or not actor.scope.sees_region(territory.region_code):
        raise NotFound(f"region {region!r} is unknown or outside your scope")
    flt = AnalyticsFilter.from_params(period=period, date_from=date_from, date_to=date_to,
                                      region_code=territory.region_code)
    now = now or utcnow()
    builder = DashboardBuilder(session, actor, flt, now=now)
    dashboard = builder.build()
    overdue = [
        # A brief leaves the system (e-mail, print): a resident's name or phone in a case
        # title is masked whoever builds it.
        OverdueRow(case_id=c.id, title=mask_text(c.title) or "(без заголовка)",
                   executor=name or "—",
                   due=c.resolution_due, days_late=max((now - c.resolution_due).days, 0))
        for c, name in repo.overdue_cases(flt, limits_for(session, actor), now)
        if c.resolution_due is not None
    ]
    items, _ = decisions.list_decisions(session, actor, region_code=territory.region_code,
                                        start=flt.start, end=flt.end, limit=100)
    label = period_label(flt)
    if not builder.progress.complete:
        label += f" (период не закончен: {builder.progress.part()})"
    brief = Brief(
        region_code=territory.region_code, region_name=territory.name,
        period_label=label, flt=flt, dashboard=dashboard,
        compared_with=builder.progress.compared_with(),
        executor_ratings=ratings.rate(dashboard.executors, "executor"),
        municipality_ratings=ratings.rate(dashboard.municipalities, "municipality"),
        overdue=overdue, decisions=items, generated_at=now)
    _load_sections()
    for provider in _SECTIONS:
        section = provider(session, actor, brief)
        if section is not None:
            brief.sections.append(section)
    if with_charts:
        brief.images = {"volume": charts.volume_chart(dashboard),
                        "topics": charts.topics_chart(dashboard)}
    return brief
