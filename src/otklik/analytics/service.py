"""Dashboard assembly within the caller's scope: levels, areas, performance, drill-down.

Levels: federal (every region, grouped by federal okrug) → okrug → region → municipality.
Region staff see their regions; a deputy sees the municipalities of their district; a
federal user sees all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy.orm import Session

from otklik.analytics import findings as findings_mod
from otklik.analytics import periods
from otklik.analytics.repository import AnalyticsRepository, GroupKey, Limits
from otklik.analytics.rollup import (
    case_rollup_watermark,
    problem_rollup_watermark,
    rollup_watermark,
)
from otklik.analytics.schemas import (
    DRILL_METRICS,
    NO_TOPIC,
    AnalyticsFilter,
    AreaRow,
    CompareRow,
    Dashboard,
    DrillKind,
    DrillPage,
    DrillRow,
    Performance,
    PeriodState,
    Point,
    ProblemRow,
    Series,
    TopicShare,
    Totals,
    drill,
)
from otklik.audit.actor import Actor
from otklik.db.base import utcnow
from otklik.errors import InvalidInput, NotFound
from otklik.language.taxonomy_service import active_taxonomy
from otklik.pd.masking import shown_all
from otklik.territories.repository import TerritoryRepository

Level = Literal["federal", "okrug", "region", "municipality"]
#: Longer periods read executor performance from the case rollup (a quarter and more).
LONG_PERIOD_DAYS = 92
SENTIMENTS = (("negative", "Негатив"), ("neutral", "Нейтрально"), ("positive", "Позитив"))


def limits_for(session: Session, actor: Actor) -> Limits:
    """The actor's scope as the repository applies it (a deputy's territories resolved to
    municipalities)."""
    actor.require("analytics")
    scope = actor.scope
    if not scope.territory_ids:
        return Limits(scope)
    return Limits(scope, AnalyticsRepository(session).municipalities_covering(
        sorted(scope.territory_ids)))


def check_filter(session: Session, actor: Actor, flt: AnalyticsFilter) -> None:
    """Refuse a filter that reaches outside the caller's scope (a clear 404, not zeros)."""
    if flt.region_code and not actor.scope.sees_region(flt.region_code):
        raise NotFound(f"region {flt.region_code} is outside your scope")
    if flt.municipality_id is not None:
        territory = AnalyticsRepository(session).territories([flt.municipality_id]).get(
            flt.municipality_id)
        district = limits_for(session, actor).municipality_ids
        if territory is None or not actor.scope.sees_region(territory.region_code) or (
                district is not None and flt.municipality_id not in district):
            raise NotFound(f"municipality {flt.municipality_id} is outside your scope")


def topic_namer(session: Session) -> Callable[[str | None], str]:
    """Names of topic codes in the rubricator in use (the code itself when it is not there,
    «Без темы» for none)."""
    taxonomy = active_taxonomy(session)
    return lambda code: ("Без темы" if not code
                         else taxonomy.name(code) if code in taxonomy else code)


def topic_name(session: Session, code: str | None) -> str:
    """The Russian name of a topic code in the active taxonomy version."""
    return topic_namer(session)(code)


def _share(part: float, whole: float) -> float:
    return round(part / whole, 4) if whole else 0.0


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def level_of(flt: AnalyticsFilter, limits: Limits) -> Level:
    """Which level the filter looks at."""
    if flt.municipality_id is not None:
        return "municipality"
    scope = limits.scope
    if flt.region_code or (not scope.all_regions and len(scope.region_codes) == 1):
        return "region"
    return "okrug" if flt.okrug else "federal"


class DashboardBuilder:
    """Computes the parts of one dashboard (one instance per request)."""

    def __init__(self, session: Session, actor: Actor, flt: AnalyticsFilter, *,
                 now: datetime | None = None, rollup: bool | None = None) -> None:
        check_filter(session, actor, flt)
        self.session = session
        self.repo = AnalyticsRepository(session)
        self.limits = limits_for(session, actor)
        self.flt = flt
        self.now = now or utcnow()
        #: An unfinished period is compared with the same elapsed time of the previous one.
        self.progress = periods.progress(flt, self.now)
        self.prev = self.progress.previous
        self.as_of = rollup_watermark(session) if rollup is not False else None
        self.rollup = self.as_of is not None
        #: Case numbers come from ``case_daily_stat`` too once it has been built.
        self.case_rollup = self.rollup and case_rollup_watermark(session) is not None
        self.problem_rollup = self.rollup and problem_rollup_watermark(session) is not None
        self.level = level_of(flt, self.limits)

    # -- messages -----------------------------------------------------------------------------

    def counts(self, flt: AnalyticsFilter, dims: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Message counts (rollup when it is on)."""
        return self.repo.message_counts(flt, self.limits, dims, rollup=self.rollup)

    def case_counts(self, flt: AnalyticsFilter,
                    dims: Sequence[Literal["day", "topic", "region", "municipality"]] = ()
                    ) -> list[tuple[Any, ...]]:
        """Case counts (from the case rollup when it is on)."""
        if self.case_rollup:
            return self.repo.case_counts_rollup(flt, self.limits, dims)
        return self.repo.case_counts(flt, self.limits, dims)

    def total(self, flt: AnalyticsFilter) -> int:
        """Relevant messages under a filter."""
        rows = self.counts(flt)
        return int(rows[0][0]) if rows else 0

    def totals(self) -> Totals:
        """Headline numbers."""
        messages = self.total(self.flt)
        previous = self.total(self.prev)
        cases = self.case_counts(self.flt)[0][0]
        cases_prev = self.case_counts(self.prev)[0][0]
        negative = sum(n for s, n in self.counts(self.flt, ["sentiment"]) if s == "negative")
        return Totals(
            messages=messages, messages_previous=previous,
            messages_change_pct=round(100 * (messages - previous) / previous, 1)
            if previous else None,
            cases=int(cases), cases_previous=int(cases_prev),
            negative_share=_ratio(negative, messages),
            drill_messages=drill("messages", self.flt), drill_cases=drill("cases", self.flt))

    def _days(self) -> list[date]:
        return self.progress.days()

    def volume(self) -> list[Series]:
        """Messages and cases per day (every day up to today, zeros included)."""
        messages = {d: n for d, n in self.counts(self.flt, ["day"])}
        cases = {d: n for d, n in self.case_counts(self.flt, ["day"])}
        out = []
        plan: tuple[tuple[str, DrillKind, dict[Any, Any]], ...] = (
            ("Сообщения", "messages", messages), ("Обращения", "cases", cases))
        for name, kind, values in plan:
            points = [Point(key=d.isoformat(), label=d.strftime("%d.%m"),
                            value=int(values.get(d, 0)),
                            drill=drill(kind, self.flt.narrowed(start=d,
                                                                end=d + timedelta(days=1))))
                      for d in self._days()]
            out.append(Series(name=name, points=points))
        return out

    def sentiment(self) -> list[Series]:
        """Messages per day by sentiment."""
        grid: dict[str, dict[date, int]] = defaultdict(dict)
        for day, sentiment, n in self.counts(self.flt, ["day", "sentiment"]):
            grid[sentiment or "neutral"][day] = grid[sentiment or "neutral"].get(day, 0) + n
        out = []
        for code, label in SENTIMENTS:
            points = [Point(key=d.isoformat(), label=d.strftime("%d.%m"),
                            value=int(grid[code].get(d, 0)),
                            drill=drill("messages", self.flt.narrowed(
                                start=d, end=d + timedelta(days=1)), sentiment=code))
                      for d in self._days()]
            out.append(Series(name=label, points=points))
        return out

    def topics(self) -> list[TopicShare]:
        """Topic shares now and before, biggest first."""
        now = {t: n for t, n in self.counts(self.flt, ["topic"])}
        before = {t: n for t, n in self.counts(self.prev, ["topic"])}
        total_now, total_before = sum(now.values()), sum(before.values())
        rows = []
        for code in set(now) | set(before):
            share, share_prev = _share(now.get(code, 0), total_now), _share(
                before.get(code, 0), total_before)
            key = code or NO_TOPIC
            rows.append(TopicShare(
                topic=key, name=topic_name(self.session, code), messages=int(now.get(code, 0)),
                share=share,
                messages_previous=int(before.get(code, 0)), share_previous=share_prev,
                change_pp=round(100 * (share - share_prev), 1),
                drill=drill("messages", self.flt.narrowed(topic=key))))
        rows.sort(key=lambda r: (-r.messages, r.topic))
        return rows

    def problems(self, limit: int = 10) -> list[ProblemRow]:
        """The biggest problems of the period with their trend."""
        top = self.repo.problem_message_counts(self.flt, self.limits, limit=limit,
                                               rollup=self.problem_rollup)
        ids = [p for p, _ in top]
        before = dict(self.repo.problem_message_counts(self.prev, self.limits, problem_ids=ids,
                                                       rollup=self.problem_rollup))
        problems = self.repo.problems(ids)
        places = self.repo.territories([p.municipality_id for p in problems.values()
                                        if p.municipality_id])
        rows = []
        for pid, n in top:
            problem = problems[pid]
            prev = before.get(pid, 0)
            trend: Literal["new", "up", "down", "flat"] = (
                "new" if prev == 0 else "up" if n > prev * 1.2 else
                "down" if n < prev * 0.8 else "flat")
            place = places.get(problem.municipality_id or -1)
            rows.append(ProblemRow(
                problem_id=pid, title=problem.title, topic=problem.topic,
                region_code=problem.region_code, municipality=place.name if place else None,
                messages=n, messages_previous=prev, trend=trend,
                drill=drill("messages", self.flt, problem_id=pid)))
        return rows

    # -- areas --------------------------------------------------------------------------------

    def areas(self) -> list[AreaRow]:
        """Places of the next level down with volume and rate per 10,000 residents."""
        if self.level in ("region", "municipality"):
            return self._municipality_areas()
        return self._region_areas()

    def _region_codes(self) -> list[str]:
        if self.flt.region_code:
            return [self.flt.region_code]
        regions = self.repo.regions(self.limits.scope)
        return [r.region_code for r in regions]

    def _municipality_areas(self) -> list[AreaRow]:
        messages = {m: n for m, n in self.counts(self.flt, ["municipality"])}
        cases = {m: n for m, n in self.case_counts(self.flt, ["municipality"])}
        places = self.repo.municipalities(self._region_codes())
        allowed = self.limits.municipality_ids
        rows = []
        for t in places:
            if allowed is not None and t.id not in allowed:
                continue
            if self.flt.municipality_id is not None and t.id != self.flt.municipality_id:
                continue
            n = int(messages.get(t.id, 0))
            rows.append(AreaRow(
                key=str(t.id), name=t.name, level="municipality", messages=n,
                cases=int(cases.get(t.id, 0)), population=t.population,
                per_10k=round(10_000 * n / t.population, 2) if t.population else None,
                lat=t.lat, lon=t.lon, approximate=True,
                drill=drill("messages", self.flt.narrowed(municipality_id=t.id))))
        rows.sort(key=lambda r: (-r.messages, r.name))
        return rows

    def _region_areas(self) -> list[AreaRow]:
        messages = {r: n for r, n in self.counts(self.flt, ["region"])}
        cases = {r: n for r, n in self.case_counts(self.flt, ["region"])}
        regions = [r for r in self.repo.regions(self.limits.scope)
                   if not self.flt.okrug or r.federal_district == self.flt.okrug]
        rows: list[AreaRow] = []
        okrugs: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for t in regions:
            n = int(messages.get(t.region_code, 0))
            c = int(cases.get(t.region_code, 0))
            rows.append(AreaRow(
                key=t.region_code, name=t.name, level="region", messages=n, cases=c,
                population=t.population,
                per_10k=round(10_000 * n / t.population, 2) if t.population else None,
                lat=t.lat, lon=t.lon,
                drill=drill("messages", self.flt.narrowed(region_code=t.region_code))))
            if t.federal_district:
                totals = okrugs[t.federal_district]
                totals[0] += n
                totals[1] += c
                totals[2] += t.population or 0
        rows.sort(key=lambda r: (-r.messages, r.key))
        if self.level == "federal":
            for name, (n, c, population) in sorted(okrugs.items(), key=lambda kv: -kv[1][0]):
                rows.append(AreaRow(
                    key=name, name=f"{name} федеральный округ", level="okrug", messages=n,
                    cases=c, population=population or None,
                    per_10k=round(10_000 * n / population, 2) if population else None,
                    drill=drill("messages", self.flt.narrowed(okrug=name))))
        return rows

    # -- performance --------------------------------------------------------------------------

    def raw_performance(self, flt: AnalyticsFilter, by: GroupKey
                        ) -> dict[Any, dict[str, float | int | None]]:
        """Performance counts: from the case rollups when they are on (the same counts as of
        their last refresh; open overdue cases are always counted now); medians from their
        histograms for periods longer than ``LONG_PERIOD_DAYS`` and for country and okrug
        views, where thousands of executors are ranked, else exact from the cases. Without
        rollups everything is exact from the cases."""
        if not self.case_rollup:
            return self.repo.performance(flt, self.limits, by, self.now)
        out = self.repo.performance_rollup(flt, self.limits, by, self.now)
        wide = flt.days > LONG_PERIOD_DAYS or (
            self.level in ("federal", "okrug") and flt.region_code is None)
        return out if wide else self.repo.with_exact_medians(out, flt, self.limits, by)

    def performance(self, by: Literal["executor", "municipality"]) -> list[Performance]:
        """Deadline compliance, response times, brush-offs and reopenings per subject."""
        raw = self.raw_performance(self.flt, by)
        if by == "executor":
            names = self.repo.organization_names([k for k in raw if k is not None])
        else:
            names = TerritoryRepository(self.session).names(raw)
        rows = []
        for key, v in raw.items():
            cases, answered = int(v["cases"] or 0), int(v["answered"] or 0)
            open_overdue = int(v["open_overdue"] or 0)
            extra: dict[str, Any] = {"as_of": self.now.isoformat()}
            if by == "executor":
                extra["executor_id"] = key
            # one drill per metric: the filter's parameters are built once per row
            cases_drill = drill("cases", self.flt if by == "executor"
                                else self.flt.narrowed(municipality_id=key), **extra)
            rows.append(Performance(
                key=str(key), name=names.get(key, str(key)), cases=cases, answered=answered,
                on_time=int(v["on_time"] or 0), overdue=int(v["overdue"] or 0),
                open_overdue=open_overdue,
                compliance=_ratio(int(v["on_time"] or 0), answered + open_overdue),
                overdue_share=_ratio(int(v["overdue"] or 0), cases),
                median_first_response_h=v["median_first_response_h"],
                median_resolution_h=v["median_resolution_h"],
                answers=int(v["answers"] or 0), brush_offs=int(v["brush_offs"] or 0),
                brush_off_rate=_ratio(int(v["brush_offs"] or 0), int(v["answers"] or 0)),
                reopened=int(v["reopened"] or 0),
                reopen_rate=_ratio(int(v["reopened"] or 0), answered),
                drill={"cases": {**cases_drill, "performance": 1},
                       **{m: {**cases_drill, "metric": m}
                          for m in (*DRILL_METRICS, "with_answer")}}))
        rows.sort(key=lambda r: (-r.cases, r.name))
        return rows

    def build(self) -> Dashboard:
        """The whole dashboard."""
        totals = self.totals()
        topics = self.topics()
        problems = self.problems()
        areas = self.areas()
        executors = self.performance("executor")
        municipalities = self.performance("municipality")
        previous = self.prev.params()
        if self.prev.until is not None:
            previous["until"] = self.prev.until.isoformat()
        dashboard = Dashboard(
            filter=self.flt.params(), previous=previous, period=self.progress.state(),
            level=self.level,
            as_of=self.as_of, totals=totals, volume=self.volume(), sentiment=self.sentiment(),
            topics=topics, problems=problems, areas=areas, executors=executors,
            municipalities=municipalities, findings=[])
        dashboard.findings = findings_mod.generate(self, dashboard)
        return dashboard


def dashboard(session: Session, actor: Actor, flt: AnalyticsFilter, *,
              now: datetime | None = None, rollup: bool | None = None) -> Dashboard:
    """The dashboard for a filter in the actor's scope."""
    return DashboardBuilder(session, actor, flt, now=now, rollup=rollup).build()


def period_state(flt: AnalyticsFilter, now: datetime | None = None) -> PeriodState:
    """Whether a period is over and what it is compared with (for pages without a
    dashboard, such as the comparison of regions)."""
    return periods.progress(flt, now or utcnow()).state()


def drill_down(session: Session, actor: Actor, kind: DrillKind, flt: AnalyticsFilter, *,
               sentiment: str | None = None, problem_id: int | None = None,
               executor_id: int | None = None, metric: str | None = None,
               performance: bool = False, as_of: datetime | None = None,
               limit: int = 50, offset: int = 0) -> DrillPage:
    """The messages or cases behind a number (its total equals the number)."""
    check_filter(session, actor, flt)
    limits = limits_for(session, actor)
    repo = AnalyticsRepository(session)
    if metric is not None and metric not in (*DRILL_METRICS, "with_answer"):
        raise InvalidInput(f"unknown metric {metric!r}")
    if kind == "messages":
        rows, total = repo.drill_messages(flt, limits, sentiment=sentiment,
                                          problem_id=problem_id, limit=limit, offset=offset)
    else:
        rows, total = repo.drill_cases(flt, limits, now=as_of or utcnow(),
                                       executor_id=executor_id, metric=metric,
                                       performance_only=performance, limit=limit,
                                       offset=offset)
    items = [DrillRow(id=r[0], at=r[1], region_code=r[2], topic=r[3], title=r[4] or "",
                      status=str(r[5].value if hasattr(r[5], "value") else r[5])
                      if r[5] is not None else None) for r in rows]
    # Analysts read what residents wrote, not who: names, phones … in the text are masked.
    items = shown_all(actor, items)
    return DrillPage(kind=kind, total=total, items=items, limit=limit, offset=offset)


def compare_regions(session: Session, actor: Actor, flt: AnalyticsFilter,
                    region_codes: Sequence[str] | None = None) -> list[CompareRow]:
    """Regions side by side (all visible ones in the okrug or scope when none are named)."""
    limits = limits_for(session, actor)
    repo = AnalyticsRepository(session)
    regions = [r for r in repo.regions(limits.scope)
               if (not region_codes or r.region_code in region_codes)
               and (not flt.okrug or r.federal_district == flt.okrug)]
    if region_codes and len(regions) != len(set(region_codes)):
        raise NotFound("some of the regions are unknown or outside your scope")
    base = flt.narrowed(region_code=None)
    builder = DashboardBuilder(session, actor, base)
    by_region = {r: n for r, n in builder.counts(base, ["region"])}
    topics: dict[str, dict[str | None, int]] = defaultdict(dict)
    for region, topic, n in builder.counts(base, ["region", "topic"]):
        topics[region][topic] = n
    perf = builder.raw_performance(base, "region")
    rows = []
    for t in regions:
        n = int(by_region.get(t.region_code, 0))
        p = perf.get(t.region_code, {})
        answered, open_overdue = int(p.get("answered") or 0), int(p.get("open_overdue") or 0)
        top = max(topics[t.region_code].items(), key=lambda kv: kv[1], default=(None, 0))
        rows.append(CompareRow(
            region_code=t.region_code, name=t.name, okrug=t.federal_district, messages=n,
            per_10k=round(10_000 * n / t.population, 2) if t.population else None,
            cases=int(p.get("cases") or 0),
            compliance=_ratio(int(p.get("on_time") or 0), answered + open_overdue),
            overdue_share=_ratio(int(p.get("overdue") or 0), int(p.get("cases") or 0)),
            median_first_response_h=p.get("median_first_response_h"),  # type: ignore[arg-type]
            brush_off_rate=_ratio(int(p.get("brush_offs") or 0), int(p.get("answers") or 0)),
            top_topic=topic_name(session, top[0]) if top[0] is not None else None,
            top_topic_share=_ratio(top[1], n),
            drill=drill("messages", base.narrowed(region_code=t.region_code))))
    rows.sort(key=lambda r: -r.messages)
    return rows


def region_map(session: Session, actor: Actor, flt: AnalyticsFilter) -> dict[str, Any]:
    """Region outlines (GeoJSON) of the visible regions with their volume and rate."""
    from otklik.nlp.gazetteer_data import load_region_outlines

    builder = DashboardBuilder(session, actor, flt.narrowed(region_code=None,
                                                           municipality_id=None))
    rows = {r.key: r for r in builder._region_areas() if r.level == "region"}
    features = []
    for feature in load_region_outlines()["features"]:
        code = feature["properties"].get("code")
        row = rows.get(code)
        if row is None:
            continue
        features.append({"type": "Feature", "geometry": feature["geometry"], "properties": {
            **feature["properties"], "messages": row.messages, "cases": row.cases,
            "per_10k": row.per_10k, "drill": row.drill}})
    return {"type": "FeatureCollection", "features": features}
