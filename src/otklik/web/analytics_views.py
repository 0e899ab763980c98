"""Analytics pages: the dashboard, the list behind each of its numbers, regions side by side.

Every number on these pages links to ``/analytics/drill`` with the number's ``drill``
parameters: the page lists exactly the messages or cases counted (its total equals the
number) and, for cases, offers the workspace queue (``/cases``) with the closest filter the
queue understands. Charts are drawn by ECharts (``static/js/dashboard.js``) from a JSON block
in the page; no inline script runs (the CSP forbids it).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from otklik.analytics import ratings as ratings_mod
from otklik.analytics import service
from otklik.analytics.repository import AnalyticsRepository
from otklik.analytics.schemas import (
    DRILL_METRICS,
    NO_TOPIC,
    AnalyticsFilter,
    Dashboard,
    DrillKind,
)
from otklik.audit.actor import Actor
from otklik.bounds import MAX_INT32
from otklik.channels.schemas import Source
from otklik.decisions import service as decisions
from otklik.deps import OptionalActor, SessionDep
from otklik.errors import InvalidInput
from otklik.language.taxonomy_service import active_taxonomy
from otklik.web.rendering import render
from otklik.web.workspace_common import require_actor, user_context

router = APIRouter(include_in_schema=False)
GEO_URL = "/static/geo/ru-regions.json"
METRICS = ("messages", "per_10k")


def drill_url(params: dict[str, Any]) -> str:
    """The page listing the rows behind a number."""
    return "/analytics/drill?" + urlencode({k: v for k, v in params.items() if v is not None})


def queue_url(params: dict[str, Any]) -> str | None:
    """The workspace queue filtered as close as it can be to a case drill-down (None for
    messages: the queue lists cases)."""
    if params.get("kind") != "cases":
        return None
    out: dict[str, Any] = {"from": params.get("date_from"), "to": params.get("date_to")}
    for mine, theirs in (("topic", "topic"), ("municipality_id", "municipality"),
                         ("executor_id", "executor"), ("source", "source")):
        if params.get(mine) not in (None, "", NO_TOPIC):
            out[theirs] = params[mine]
    if params.get("metric") in ("open_overdue", "overdue"):
        out["overdue"] = "1"
    return "/cases?" + urlencode({k: v for k, v in out.items() if v})


def _blank(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _int(value: str | None) -> int | None:
    value = _blank(value)
    if value is None:
        return None
    if not value.isdigit() or int(value) > MAX_INT32:
        raise InvalidInput(f"{value!r} is not a number")
    return int(value)


def _date(value: str | None) -> date | None:
    value = _blank(value)
    try:
        return date.fromisoformat(value) if value else None
    except ValueError as exc:
        raise InvalidInput(f"{value!r} is not a date (YYYY-MM-DD)") from exc


def parse_filter(period: str | None, date_from: str | None, date_to: str | None,
                 region_code: str | None, okrug: str | None, municipality_id: str | None,
                 topic: str | None, source: str | None) -> AnalyticsFilter:
    """The analytics filter from a form's strings (blank fields mean "any")."""
    region = _blank(region_code)
    if region is not None and not (region.isdigit() and 2 <= len(region) <= 3):
        raise InvalidInput(f"region code {region!r}: two or three digits")
    return AnalyticsFilter.from_params(
        period=_blank(period), date_from=_date(date_from), date_to=_date(date_to),
        region_code=region, okrug=_blank(okrug), municipality_id=_int(municipality_id),
        topic=_blank(topic), source=_blank(source))


def _choices(session: Session, actor: Actor, flt: AnalyticsFilter) -> dict[str, Any]:
    """What the filter form offers: okrugs, regions, municipalities, topics, sources."""
    repo = AnalyticsRepository(session)
    allowed = service.limits_for(session, actor).municipality_ids
    regions = repo.regions(actor.scope)
    okrugs = sorted({r.federal_district for r in regions if r.federal_district})
    municipalities = [m for m in (repo.municipalities([flt.region_code]) if flt.region_code
                                  else []) if allowed is None or m.id in allowed]
    taxonomy = active_taxonomy(session)
    return {
        "okrugs": okrugs,
        "regions": [r for r in regions if not flt.okrug or r.federal_district == flt.okrug],
        "municipalities": municipalities,
        "topics": [(c, taxonomy.name(c)) for c in taxonomy.topic_codes]
        + [(NO_TOPIC, "Без темы")],
        "sources": [s.value for s in Source],
    }


def _series(series: list[Any]) -> list[dict[str, Any]]:
    return [{"name": s.name, "values": [p.value for p in s.points],
             "links": [drill_url(p.drill) for p in s.points]} for s in series]


def chart_data(d: Dashboard, metric: str, scope_regions: frozenset[str] = frozenset()
               ) -> dict[str, Any]:
    """The JSON the charts are drawn from (numbers, labels and drill-down links only)."""
    regions = [a for a in d.areas if a.level == "region"]
    points = [a for a in d.areas if a.level == "municipality" and a.lat is not None]
    focus = sorted({a.key for a in regions} if regions else
                   {str(d.filter.get("region_code") or "")} - {""} or scope_regions)
    executors = [p for p in d.executors if p.compliance is not None][:15]
    return {
        "days": [p.label for p in d.volume[0].points] if d.volume else [],
        "volume": _series(d.volume),
        "sentiment": _series(d.sentiment),
        "topics": {"names": [t.name for t in d.topics[:12]],
                   "now": [round(100 * t.share, 1) for t in d.topics[:12]],
                   "previous": [round(100 * t.share_previous, 1) for t in d.topics[:12]],
                   "links": [drill_url(t.drill) for t in d.topics[:12]],
                   "partial": not d.period.complete},
        "map": {"geo": GEO_URL, "metric": metric if metric in METRICS else "messages",
                "level": d.level, "focus": focus,
                "regions": [{"code": a.key, "name": a.name, "messages": a.messages,
                             "per_10k": a.per_10k, "link": drill_url(a.drill)}
                            for a in regions],
                "points": [{"name": a.name, "lat": a.lat, "lon": a.lon,
                            "messages": a.messages, "per_10k": a.per_10k,
                            "link": drill_url(a.drill)} for a in points]},
        "executors": {"names": [p.name for p in executors],
                      "compliance": [round(100 * (p.compliance or 0), 1) for p in executors],
                      "overdue": [round(100 * (p.overdue_share or 0), 1) for p in executors],
                      "links": [drill_url(p.drill["on_time"]) for p in executors]},
    }


@router.get("/analytics", response_class=HTMLResponse)
def dashboard_page(
    request: Request, actor: OptionalActor, session: SessionDep,
    period: str | None = Query(default=None, max_length=16),
    date_from: str | None = Query(default=None, max_length=10),
    date_to: str | None = Query(default=None, max_length=10),
    region_code: str | None = Query(default=None, max_length=3),
    okrug: str | None = Query(default=None, max_length=64),
    municipality_id: str | None = Query(default=None, max_length=12),
    topic: str | None = Query(default=None, max_length=64),
    source: str | None = Query(default=None, max_length=16),
    metric: str = Query(default="messages", max_length=16),
) -> Response:
    """The dashboard: volume, topics, problems, map, sentiment, performance, ratings."""
    actor = require_actor(actor)
    actor.require("analytics")
    flt = parse_filter(period, date_from, date_to, region_code, okrug, municipality_id, topic,
                       source)
    d = service.dashboard(session, actor, flt)
    counts = decisions.count_by_region(session, actor, flt.start, flt.end)
    visible = {a.key for a in d.areas if a.level == "region"} | (
        {flt.region_code} if flt.region_code else set())
    return render(request, "an_dashboard.html", {
        **user_context(actor, session), **_choices(session, actor, flt),
        "d": d, "flt": flt, "metric": metric if metric in METRICS else "messages",
        "raw": {"period": _blank(period) or "", "date_from": _blank(date_from) or "",
                "date_to": _blank(date_to) or ""},
        "executor_ratings": ratings_mod.rate(d.executors, "executor"),
        "municipality_ratings": ratings_mod.rate(d.municipalities, "municipality"),
        "decision_counts": [c for c in counts if not visible or c.region_code in visible],
        "charts": chart_data(d, metric, frozenset() if actor.scope.all_regions
                             else actor.scope.region_codes),
        "drill_url": drill_url, "queue_url": queue_url,
        "metrics": DRILL_METRICS, "filter_query": urlencode(flt.params()),
    })


@router.get("/analytics/drill", response_class=HTMLResponse)
def drill_page(
    request: Request, actor: OptionalActor, session: SessionDep,
    kind: str = Query(default="messages", max_length=8),
    date_from: str | None = Query(default=None, max_length=10),
    date_to: str | None = Query(default=None, max_length=10),
    region_code: str | None = Query(default=None, max_length=3),
    okrug: str | None = Query(default=None, max_length=64),
    municipality_id: str | None = Query(default=None, max_length=12),
    topic: str | None = Query(default=None, max_length=64),
    source: str | None = Query(default=None, max_length=16),
    sentiment: str | None = Query(default=None, max_length=16),
    problem_id: str | None = Query(default=None, max_length=12),
    executor_id: str | None = Query(default=None, max_length=12),
    metric: str | None = Query(default=None, max_length=16),
    performance: str | None = Query(default=None, max_length=5),
    as_of: str | None = Query(default=None, max_length=40),
    page: int = Query(default=1, ge=1, le=10_000),
) -> Response:
    """The messages or cases behind one dashboard number (their total is the number)."""
    from datetime import datetime

    actor = require_actor(actor)
    if kind not in ("messages", "cases"):
        raise InvalidInput("kind is messages or cases")
    flt = parse_filter(None, date_from, date_to, region_code, okrug, municipality_id, topic,
                       source)
    moment = None
    if _blank(as_of):
        try:
            moment = datetime.fromisoformat(str(as_of))
        except ValueError as exc:
            raise InvalidInput("as_of is an ISO date and time") from exc
    drill_kind: DrillKind = "cases" if kind == "cases" else "messages"
    limit = 50
    result = service.drill_down(
        session, actor, drill_kind, flt, sentiment=_blank(sentiment),
        problem_id=_int(problem_id), executor_id=_int(executor_id), metric=_blank(metric),
        performance=(performance or "").lower() in ("1", "true"), as_of=moment, limit=limit,
        offset=(page - 1) * limit)
    params = {k: v for k, v in request.query_params.items() if k != "page"}
    return render(request, "an_drill.html", {
        **user_context(actor, session), "result": result, "flt": flt, "params": params,
        "queue": queue_url(params), "page": page,
        "pages": max(1, -(-result.total // limit)), "query": urlencode(params),
        "topic_name": service.topic_namer(session), "back": "/analytics?" + urlencode(flt.params()),
    })


@router.get("/analytics/compare", response_class=HTMLResponse)
def compare_page(
    request: Request, actor: OptionalActor, session: SessionDep,
    period: str | None = Query(default=None, max_length=16),
    okrug: str | None = Query(default=None, max_length=64),
    topic: str | None = Query(default=None, max_length=64),
    source: str | None = Query(default=None, max_length=16),
    regions: list[str] = Query(default=[]),
) -> Response:
    """Regions side by side (the chosen ones, or every visible region of the okrug)."""
    actor = require_actor(actor)
    actor.require("analytics")
    flt = parse_filter(period, None, None, None, okrug, None, topic, source)
    chosen = [r for r in regions if r.isdigit() and len(r) <= 3]
    rows = service.compare_regions(session, actor, flt, chosen or None)
    counts = {c.region_code: c for c in decisions.count_by_region(
        session, actor, flt.start, flt.end)}
    charts = {"compare": {
        "names": [r.name for r in rows], "per_10k": [r.per_10k or 0 for r in rows],
        "compliance": [round(100 * (r.compliance or 0), 1) for r in rows],
        "links": [drill_url(r.drill) for r in rows]}}
    return render(request, "an_compare.html", {
        **user_context(actor, session), **_choices(session, actor, flt), "rows": rows,
        "flt": flt, "chosen": set(chosen), "raw": {"period": _blank(period) or ""},
        "period": service.period_state(flt),
        "decision_counts": counts, "charts": charts, "drill_url": drill_url,
    })


def _include_sub_routers() -> None:
    from otklik.web.analytics_decisions import router as decisions_router
    from otklik.web.analytics_reports import router as reports_router

    router.include_router(decisions_router)
    router.include_router(reports_router)


_include_sub_routers()
