"""Every aggregate query of the analytics: counts of messages and cases by any dimension,
problems with their trend, executor/municipality performance, drill-down lists.

Message counts come from the base tables or, when it is fresh, from the daily rollup
(``message_daily_stat``); both give the same numbers (tests check it). Each metric's
predicate is written once and used both by the aggregate and by its drill-down, so the
list behind a number always has exactly that many rows.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Date,
    Float,
    Select,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from otklik.accounts.scope import Scope, covered_municipalities
from otklik.analytics.cubes import (
    CASE_CUBES,
    MESSAGE_CUBES,
    Cube,
    conditions,
    needed,
    pick,
    sums,
)
from otklik.analytics.periods import split_at_cut
from otklik.analytics.schemas import NO_TOPIC, REPORT_TZ, AnalyticsFilter
from otklik.models.analytics import (
    CASE_MEASURES,
    FIRST_COLUMNS,
    RESOLUTION_COLUMNS,
    ProblemDailyStat,
)
from otklik.models.case import OPEN_STATUSES, Answer, Case, CaseMessage, CaseStatus, Problem
from otklik.models.message import Message, MessageEnrichment
from otklik.models.organization import Organization
from otklik.models.territory import Territory, TerritoryLevel
from otklik.territories.repository import TerritoryRepository

Dimension = Literal["day", "topic", "sentiment", "region", "municipality", "source"]
GroupKey = Literal["executor", "municipality", "region"]
#: A subject with no answered case yet.
NO_MEDIANS: dict[str, float | None] = {"median_first_response_h": None,
                                       "median_resolution_h": None}
_OFFSET_HOURS = int(REPORT_TZ.utcoffset(None).total_seconds() // 3600)  # type: ignore[union-attr]
#: Answers that reached the resident (drafts and returned ones do not count).
SENT_ANSWER_STATUSES = ("approved", "published")


@dataclass(frozen=True)
class Limits:
    """The caller's scope as the repository applies it: regions, and for a deputy the
    municipalities of their district (``None`` = no narrowing)."""

    scope: Scope
    municipality_ids: frozenset[int] | None = None


def day_expr(session: Session, column: Any) -> ColumnElement[Any]:
    """The reporting day (Moscow time) of a UTC timestamp column, as a SQL date."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", column) + text(f"interval '{_OFFSET_HOURS} hours'"),
                    Date)
    return func.date(column, f"+{_OFFSET_HOURS} hours")


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _summed(rows: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows of (dims..., count) with the counts of equal dims added up."""
    totals: dict[tuple[Any, ...], int] = defaultdict(int)
    for row in rows:
        totals[tuple(row[:-1])] += int(row[-1] or 0)
    return [(*key, n) for key, n in totals.items()]


def hours_between(session: Session, later: Any, earlier: Any) -> ColumnElement[Any]:
    """``later - earlier`` in hours, in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier) / 3600.0
    return (func.julianday(later) - func.julianday(earlier)) * 24.0


class AnalyticsRepository:
    """Aggregates over messages, cases, answers and problems within a scope."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.postgres = session.get_bind().dialect.name == "postgresql"

    # -- conditions ---------------------------------------------------------------------------

    def _okrug_regions(self, okrug: str) -> Select[Any]:
        return select(Territory.region_code).where(
            Territory.level == TerritoryLevel.region, Territory.federal_district == okrug)

    def _where(self, flt: AnalyticsFilter, limits: Limits, *, region: Any, municipality: Any,
               topic: Any, source: Any) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = [limits.scope.region_filter(region)]
        if limits.municipality_ids is not None:
            conds.append(municipality.in_(sorted(limits.municipality_ids))
                         if limits.municipality_ids else false())
        if flt.region_code:
            conds.append(region == flt.region_code)
        if flt.okrug:
            conds.append(region.in_(self._okrug_regions(flt.okrug)))
        if flt.municipality_id is not None:
            conds.append(municipality == flt.municipality_id)
        if flt.topic == NO_TOPIC:
            conds.append(topic.is_(None))
        elif flt.topic:
            conds.append(topic == flt.topic)
        if flt.source:
            conds.append(source == flt.source)
        return conds

    def message_conditions(self, flt: AnalyticsFilter, limits: Limits
                           ) -> list[ColumnElement[bool]]:
        """Relevant messages written in the period within the filter and scope."""
        e = MessageEnrichment
        return [
            e.relevant.is_(True),
            Message.created_at >= flt.start_utc,
            Message.created_at < flt.end_utc,
            *self._where(flt, limits, region=e.region_code, municipality=e.municipality_id,
                         topic=e.topic, source=Message.source),
        ]

    def case_conditions(self, flt: AnalyticsFilter, limits: Limits, *, period: bool = True
                        ) -> list[ColumnElement[bool]]:
        """Cases received in the period (merged copies excluded) within filter and scope;
        ``period=False`` drops the start of the period (cases received up to its end)."""
        conds = [
            Case.merged_into_id.is_(None),
            Case.received_at < flt.end_utc,
            *self._where(flt, limits, region=Case.region_code, municipality=Case.municipality_id,
                         topic=Case.topic, source=Case.source),
        ]
        if period:
            conds.append(Case.received_at >= flt.start_utc)
        if limits.scope.organization_id is not None:
            conds.append(Case.executor_id == limits.scope.organization_id)
        return conds

    # -- message counts -----------------------------------------------------------------------

    def _message_dims(self, dims: Sequence[Dimension]) -> list[Any]:
        e = MessageEnrichment
        columns = {"day": day_expr(self.session, Message.created_at), "topic": e.topic,
                   "sentiment": e.sentiment, "region": e.region_code,
                   "municipality": e.municipality_id, "source": Message.source}
        return [columns[d].label(d) for d in dims]

    def message_counts(self, flt: AnalyticsFilter, limits: Limits,
                       dims: Sequence[Dimension] = (), *, rollup: bool = False
                       ) -> list[tuple[Any, ...]]:
        """Relevant messages grouped by ``dims``: rows of (dim values..., count).

        A filter cut inside a day (``until``) reads its whole days from the rollup and the
        cut day from the base tables."""
        whole, part = split_at_cut(flt) if rollup else (flt, None)
        if rollup and whole is not None:
            rows = self._rollup_counts(whole, limits, dims)
            return _summed([*rows, *self.message_counts(part, limits, dims)]) if part else rows
        if rollup and part is not None:
            flt = part
        columns = self._message_dims(dims)
        query = (select(*columns, func.count().label("n"))
                 .select_from(Message).join(MessageEnrichment,
                                            MessageEnrichment.message_id == Message.id)
                 .where(*self.message_conditions(flt, limits)))
        if columns:
            query = query.group_by(*columns)
        return [self._fix_day(dims, tuple(row)) for row in self.session.execute(query)]

    def _needed(self, flt: AnalyticsFilter, limits: Limits, dims: Sequence[str], *,
                cases: bool = False) -> set[str]:
        return needed(flt, limits.scope.all_regions, limits.municipality_ids is not None,
                      cases and limits.scope.organization_id is not None, dims)

    def message_cube(self, flt: AnalyticsFilter, limits: Limits, dims: Sequence[str]) -> Cube:
        """The smallest message rollup that answers this query exactly."""
        return pick(MESSAGE_CUBES, flt, self._needed(flt, limits, dims), "day" in dims)

    def case_cube(self, flt: AnalyticsFilter, limits: Limits, dims: Sequence[str]) -> Cube:
        """The smallest case rollup that answers this query exactly."""
        return pick(CASE_CUBES, flt, self._needed(flt, limits, dims, cases=True),
                    "day" in dims)

    @staticmethod
    def _cube_conditions(cube: Cube, flt: AnalyticsFilter, limits: Limits, *,
                         cases: bool = False) -> list[ColumnElement[bool]]:
        scope = limits.scope
        return conditions(cube, flt,
                          region_codes=None if scope.all_regions else scope.region_codes,
                          municipality_ids=limits.municipality_ids,
                          organization_id=scope.organization_id if cases else None)

    def _cube_counts(self, cube: Cube, flt: AnalyticsFilter, limits: Limits,
                     dims: Sequence[str], measure: str, *, cases: bool = False
                     ) -> list[tuple[Any, ...]]:
        query = sums(cube, dims, [measure], self._cube_conditions(cube, flt, limits,
                                                                  cases=cases))
        rows = [self._fix_day(dims, (*row[:-1], int(row[-1] or 0)))  # type: ignore[arg-type]
                for row in self.session.execute(query)]
        return [r for r in rows if r[-1]] if dims else rows

    def _rollup_counts(self, flt: AnalyticsFilter, limits: Limits,
                       dims: Sequence[Dimension]) -> list[tuple[Any, ...]]:
        cube = self.message_cube(flt, limits, dims)
        return self._cube_counts(cube, flt, limits, dims, "messages")

    @staticmethod
    def _fix_day(dims: Sequence[Dimension], row: tuple[Any, ...]) -> tuple[Any, ...]:
        if "day" not in dims:
            return row
        i = list(dims).index("day")
        return (*row[:i], _as_date(row[i]), *row[i + 1:])

    # -- case counts --------------------------------------------------------------------------

    def case_counts(self, flt: AnalyticsFilter, limits: Limits,
                    dims: Sequence[Literal["day", "topic", "region", "municipality"]] = ()
                    ) -> list[tuple[Any, ...]]:
        """Cases received in the period grouped by ``dims``: rows of (dims..., count)."""
        columns_map: dict[str, Any] = {
            "day": day_expr(self.session, Case.received_at), "topic": Case.topic,
            "region": Case.region_code, "municipality": Case.municipality_id}
        columns = [columns_map[d].label(d) for d in dims]
        query = select(*columns, func.count().label("n")).where(
            *self.case_conditions(flt, limits))
        if columns:
            query = query.group_by(*columns)
        return [self._fix_day(dims, tuple(row)) for row in self.session.execute(query)]

    def case_counts_rollup(self, flt: AnalyticsFilter, limits: Limits,
                           dims: Sequence[Literal["day", "topic", "region", "municipality"]] = ()
                           ) -> list[tuple[Any, ...]]:
        """:meth:`case_counts` from the smallest case rollup that answers it (the same numbers
        up to the rollup's last refresh); the day of a cut (``until``) from the cases."""
        whole, part = split_at_cut(flt)
        if whole is None:
            return self.case_counts(part or flt, limits, dims)
        cube = self.case_cube(whole, limits, dims)
        rows = self._cube_counts(cube, whole, limits, dims, "cases", cases=True)
        return _summed([*rows, *self.case_counts(part, limits, dims)]) if part else rows

    # -- problems -----------------------------------------------------------------------------

    def problem_message_counts(self, flt: AnalyticsFilter, limits: Limits,
                               problem_ids: Sequence[int] | None = None, limit: int = 10,
                               *, rollup: bool = False) -> list[tuple[int, int]]:
        """(problem id, relevant messages in the period) for the biggest problems."""
        whole, part = split_at_cut(flt) if rollup else (flt, None)
        if rollup and whole is not None:
            if part is None:
                return self._problem_rollup_counts(whole, limits, problem_ids, limit)
            # the cut day can lift a problem into the top: add up every problem, then rank
            every = 1_000_000_000
            summed = _summed([*self._problem_rollup_counts(whole, limits, problem_ids, every),
                              *self.problem_message_counts(part, limits, problem_ids, every)])
            summed.sort(key=lambda r: (-r[1], r[0]))
            return [(int(p), int(n)) for p, n in
                    (summed if problem_ids is not None else summed[:limit])]
        if rollup and part is not None:
            flt = part
        query = (select(Case.problem_id, func.count().label("n"))
                 .select_from(Message)
                 .join(MessageEnrichment, MessageEnrichment.message_id == Message.id)
                 .join(CaseMessage, CaseMessage.message_id == Message.id)
                 .join(Case, Case.id == CaseMessage.case_id)
                 .where(Case.problem_id.is_not(None), *self.message_conditions(flt, limits))
                 .group_by(Case.problem_id))
        if problem_ids is not None:
            query = query.where(Case.problem_id.in_(list(problem_ids)))
        else:
            query = query.order_by(func.count().desc(), Case.problem_id).limit(limit)
        return [(int(p or 0), int(n)) for p, n in self.session.execute(query)]

    def _problem_rollup_counts(self, flt: AnalyticsFilter, limits: Limits,
                               problem_ids: Sequence[int] | None, limit: int
                               ) -> list[tuple[int, int]]:
        p = ProblemDailyStat
        total = func.sum(p.messages)
        query = select(p.problem_id, total).where(
            p.day >= flt.start, p.day < flt.end,
            *self._where(flt, limits, region=p.region_code, municipality=p.municipality_id,
                         topic=p.topic, source=p.source)).group_by(p.problem_id)
        if problem_ids is not None:
            query = query.where(p.problem_id.in_(list(problem_ids)))
        else:
            query = query.order_by(total.desc(), p.problem_id).limit(limit)
        return [(int(i), int(n or 0)) for i, n in self.session.execute(query)]

    def problems(self, ids: Sequence[int]) -> dict[int, Problem]:
        """Problems by id."""
        if not ids:
            return {}
        rows = self.session.scalars(select(Problem).where(Problem.id.in_(list(ids))))
        return {p.id: p for p in rows}

    # -- performance --------------------------------------------------------------------------

    @staticmethod
    def answered() -> ColumnElement[bool]:
        """The case got its answer."""
        return Case.answered_at.is_not(None)

    @staticmethod
    def on_time() -> ColumnElement[bool]:
        """Answered no later than the resolution deadline."""
        return and_(Case.answered_at.is_not(None),
                    or_(Case.resolution_due.is_(None), Case.answered_at <= Case.resolution_due))

    @staticmethod
    def open_overdue(now: datetime) -> ColumnElement[bool]:
        """Still unanswered and past the deadline now."""
        return and_(Case.answered_at.is_(None), Case.status.in_(list(OPEN_STATUSES)),
                    Case.resolution_due < now)

    @classmethod
    def overdue(cls, now: datetime) -> ColumnElement[bool]:
        """Answered late, or unanswered and past the deadline now."""
        return or_(and_(Case.answered_at.is_not(None), Case.answered_at > Case.resolution_due),
                   cls.open_overdue(now))

    @staticmethod
    def reopened() -> ColumnElement[bool]:
        """The resident reopened the case at least once."""
        return Case.reopen_count > 0

    @staticmethod
    def _sent_answer(*extra: ColumnElement[bool]) -> ColumnElement[bool]:
        return exists().where(Answer.case_id == Case.id, Answer.kind == "final",
                              Answer.status.in_(SENT_ANSWER_STATUSES), *extra)

    @classmethod
    def has_answer(cls) -> ColumnElement[bool]:
        """A final answer reached the resident."""
        return cls._sent_answer()

    @classmethod
    def brush_off(cls) -> ColumnElement[bool]:
        """A final answer that reached the resident had a blocking quality flag (отписка)."""
        return cls._sent_answer(Answer.quality["ok"].as_boolean().is_(False))

    def metric_condition(self, metric: str, now: datetime) -> ColumnElement[bool]:
        """The predicate of a drill-down metric (the same as in :meth:`performance`)."""
        table: dict[str, ColumnElement[bool]] = {
            "answered": self.answered(), "on_time": self.on_time(),
            "overdue": self.overdue(now), "open_overdue": self.open_overdue(now),
            "brush_off": self.brush_off(), "reopened": self.reopened(),
            "with_answer": self.has_answer(),
        }
        return table[metric]

    def _key(self, by: GroupKey) -> Any:
        return {"executor": Case.executor_id, "municipality": Case.municipality_id,
                "region": Case.region_code}[by]

    def _subject_conditions(self, flt: AnalyticsFilter, limits: Limits, by: GroupKey
                            ) -> list[ColumnElement[bool]]:
        """Cases of the period that count for a subject's performance: not rejected, with
        the subject (executor, municipality or region) known."""
        return [*self.case_conditions(flt, limits), self._key(by).is_not(None),
                Case.status != CaseStatus.rejected]

    def performance(self, flt: AnalyticsFilter, limits: Limits, by: GroupKey, now: datetime
                    ) -> dict[Any, dict[str, float | int | None]]:
        """Per executor, municipality or region: counts of each metric and median hours."""
        key = self._key(by)

        def n(cond: ColumnElement[bool]) -> Any:
            return func.sum(case((cond, 1), else_=0))

        conds = self._subject_conditions(flt, limits, by)
        query = select(
            key, func.count(), n(self.answered()), n(self.on_time()), n(self.overdue(now)),
            n(self.open_overdue(now)), n(self.has_answer()), n(self.brush_off()),
            n(self.reopened()),
        ).where(*conds).group_by(key)
        out: dict[Any, dict[str, float | int | None]] = {}
        names = ("cases", "answered", "on_time", "overdue", "open_overdue", "answers",
                 "brush_offs", "reopened")
        for row in self.session.execute(query):
            out[row[0]] = {name: int(v or 0) for name, v in zip(names, row[1:], strict=True)}
        return self.with_exact_medians(out, flt, limits, by)

    def with_exact_medians(self, out: dict[Any, dict[str, float | int | None]],
                           flt: AnalyticsFilter, limits: Limits, by: GroupKey
                           ) -> dict[Any, dict[str, float | int | None]]:
        """``out`` (performance rows by subject) with the exact medians set in each row."""
        medians = self.medians(flt, limits, by)
        for key, values in out.items():
            values.update(medians.get(key, NO_MEDIANS))
        return out

    def medians(self, flt: AnalyticsFilter, limits: Limits, by: GroupKey
                ) -> dict[Any, dict[str, float | None]]:
        """Exact median first-response and resolution hours per executor, municipality or
        region (cases received in the period, not rejected)."""
        key = self._key(by)
        conds = self._subject_conditions(flt, limits, by)
        first = self._medians(key, conds, Case.first_response_at)
        resolution = self._medians(key, conds, Case.answered_at)
        return {k: {"median_first_response_h": first.get(k),
                    "median_resolution_h": resolution.get(k)}
                for k in set(first) | set(resolution)}

    def performance_rollup(self, flt: AnalyticsFilter, limits: Limits, by: GroupKey,
                           now: datetime) -> dict[Any, dict[str, float | int | None]]:
        """:meth:`performance` from the case rollups: the same counts, medians
        interpolated in their histogram bucket, open overdue cases counted live (they depend
        on ``now``; open cases are few)."""
        from otklik.analytics.rollup import median_from_histogram

        cube = self.case_cube(flt, limits, [by])
        counts = CASE_MEASURES
        query = sums(cube, [by], counts, [*self._cube_conditions(cube, flt, limits, cases=True),
                                          cube.column(by).is_not(None)])
        live: dict[Any, int] = dict(self.session.execute(  # type: ignore[arg-type]
            select(self._key(by), func.count()).where(
                *self._subject_conditions(flt, limits, by), self.open_overdue(now))
            .group_by(self._key(by))).all())
        out: dict[Any, dict[str, float | int | None]] = {}
        buckets = len(FIRST_COLUMNS)
        for row in self.session.execute(query):
            v = dict(zip(counts, (int(x or 0) for x in row[1:]), strict=True))
            open_overdue = int(live.get(row[0], 0))
            out[row[0]] = {
                "cases": v["cases"] - v["rejected"], "answered": v["answered"],
                "on_time": v["on_time"], "overdue": v["answered_late"] + open_overdue,
                "open_overdue": open_overdue, "answers": v["with_answer"],
                "brush_offs": v["brush_offs"], "reopened": v["reopened"],
                "median_first_response_h": median_from_histogram(
                    [v[c] for c in FIRST_COLUMNS][:buckets]),
                "median_resolution_h": median_from_histogram(
                    [v[c] for c in RESOLUTION_COLUMNS]),
            }
        return {k: r for k, r in out.items() if r["cases"]}

    def _medians(self, key: Any, conds: list[ColumnElement[bool]], end: Any
                 ) -> dict[Any, float]:
        hours = hours_between(self.session, end, Case.received_at)
        where = [*conds, end.is_not(None)]
        if self.postgres:
            query = select(key, func.percentile_cont(0.5).within_group(hours)).where(
                *where).group_by(key)
            return {k: round(float(v), 2) for k, v in self.session.execute(query)
                    if v is not None}
        grouped: dict[Any, list[float]] = defaultdict(list)
        for k, v in self.session.execute(select(key, cast(hours, Float)).where(*where)):
            grouped[k].append(float(v))
        return {k: round(statistics.median(v), 2) for k, v in grouped.items()}

    # -- names --------------------------------------------------------------------------------

    def organization_names(self, ids: Sequence[int]) -> dict[int, str]:
        """Short (or full) names of organizations."""
        if not ids:
            return {}
        rows = self.session.execute(select(Organization.id, Organization.short_name,
                                           Organization.name)
                                    .where(Organization.id.in_(list(ids))))
        return {i: (name if short is None or len(name) <= 60 else short) or name
                for i, short, name in rows}

    def territories(self, ids: Sequence[int]) -> dict[int, Territory]:
        """Territories by id."""
        return TerritoryRepository(self.session).many(ids)

    def regions(self, scope: Scope) -> list[Territory]:
        """Region rows visible in the scope."""
        return list(self.session.scalars(
            select(Territory).where(Territory.level == TerritoryLevel.region,
                                    scope.region_filter(Territory.region_code))
            .order_by(Territory.region_code)))

    def municipalities(self, region_codes: Sequence[str]) -> list[Territory]:
        """Municipalities of the given regions."""
        return list(self.session.scalars(
            select(Territory).where(Territory.level == TerritoryLevel.municipality,
                                    Territory.region_code.in_(list(region_codes)))
            .order_by(Territory.name)))

    def municipalities_covering(self, territory_ids: Sequence[int]) -> frozenset[int]:
        """The municipalities a set of territories stands for (the scope's rule:
        :func:`otklik.accounts.scope.covered_municipalities`)."""
        if not territory_ids:
            return frozenset()
        return frozenset(self.session.scalars(covered_municipalities(territory_ids)))

    def region_by_name(self, name: str) -> Territory | None:
        """A region by its code, ISO code, or (case-insensitive) name fragment."""
        query = select(Territory).where(Territory.level == TerritoryLevel.region)
        if name.isdigit():
            return self.session.scalar(query.where(Territory.region_code == name.zfill(2)))
        lowered = f"%{name.lower()}%"
        return self.session.scalar(query.where(or_(
            func.lower(Territory.name).like(lowered), Territory.iso_code == name.upper(),
            func.lower(Territory.short_name).like(lowered))).order_by(Territory.region_code)
            .limit(1))

    # -- drill-down ---------------------------------------------------------------------------

    def drill_messages(self, flt: AnalyticsFilter, limits: Limits, *,
                       sentiment: str | None = None, problem_id: int | None = None,
                       limit: int = 50, offset: int = 0
                       ) -> tuple[list[tuple[Any, ...]], int]:
        """The messages behind a message count: a page of rows and the total."""
        conds = self.message_conditions(flt, limits)
        if sentiment:
            conds.append(MessageEnrichment.sentiment == sentiment)
        base = (select(Message.id).join(MessageEnrichment,
                                        MessageEnrichment.message_id == Message.id))
        if problem_id is not None:
            base = (base.join(CaseMessage, CaseMessage.message_id == Message.id)
                    .join(Case, Case.id == CaseMessage.case_id))
            conds.append(Case.problem_id == problem_id)
        base = base.where(*conds)
        total = self.session.scalar(select(func.count()).select_from(base.subquery())) or 0
        rows = self.session.execute(
            select(Message.id, Message.created_at, MessageEnrichment.region_code,
                   MessageEnrichment.topic, func.substr(Message.text, 1, 200), literal_column(
                       "NULL"))
            .join(MessageEnrichment, MessageEnrichment.message_id == Message.id)
            .where(Message.id.in_(base.order_by(Message.id.desc()).limit(limit).offset(offset)
                                  .scalar_subquery()))
            .order_by(Message.id.desc())).all()
        return [tuple(r) for r in rows], int(total)

    def drill_cases(self, flt: AnalyticsFilter, limits: Limits, *, now: datetime,
                    executor_id: int | None = None, metric: str | None = None,
                    performance_only: bool = False, limit: int = 50, offset: int = 0
                    ) -> tuple[list[tuple[Any, ...]], int]:
        """The cases behind a case count or a performance number."""
        conds = self.case_conditions(flt, limits)
        if executor_id is not None:
            conds.append(Case.executor_id == executor_id)
        if performance_only or metric:
            conds.append(Case.status != CaseStatus.rejected)
        if metric:
            conds.append(self.metric_condition(metric, now))
        total = self.session.scalar(select(func.count()).select_from(Case).where(*conds)) or 0
        rows = self.session.execute(
            select(Case.id, Case.received_at, Case.region_code, Case.topic, Case.title,
                   Case.status).where(*conds).order_by(Case.id.desc()).limit(limit)
            .offset(offset)).all()
        return [tuple(r) for r in rows], int(total)

    def overdue_cases(self, flt: AnalyticsFilter, limits: Limits, now: datetime,
                      limit: int = 30) -> list[tuple[Case, str | None]]:
        """Open cases past their deadline now (any received date up to the period end),
        with their executor's name, most overdue first."""
        conds = [*self.case_conditions(flt, limits, period=False), self.open_overdue(now)]
        rows = self.session.execute(
            select(Case, Organization.name).outerjoin(Organization,
                                                      Organization.id == Case.executor_id)
            .where(*conds).order_by(Case.resolution_due.asc()).limit(limit)).all()
        return [(c, name) for c, name in rows]

