"""The rollup lattice: which rollup answers which dashboard query, and how the coarser ones
are derived from the two finest.

A country-year holds ~10^7 messages; even the daily rollups grow towards one row per message
once every day × region × municipality × topic × source × sentiment is filled. So each
query reads the *smallest* rollup that still has every dimension it filters or groups by:

* a :class:`Cube` is one rollup table: its time grain (day or month), the dimensions it
  keeps and the summable measures;
* :func:`pick` takes the first cube of a list (ordered smallest first) that answers the
  query exactly — whole months for a monthly cube, every filtered, scoped and grouped
  dimension present (a federal okrug is answered by an ``okrug`` column or by a region
  column);
* :func:`rebuild` derives a coarser cube from the finest one for the days a refresh touched
  (delete + insert from one GROUP BY, so it is idempotent).

The finest rollups themselves (``message_daily_stat``, ``case_daily_stat``) are built from the
base tables by ``analytics/rollup.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Date,
    Delete,
    Executable,
    Insert,
    Select,
    and_,
    bindparam,
    cast,
    delete,
    false,
    func,
    insert,
    select,
)
from sqlalchemy.orm import Session

from otklik.analytics.schemas import NO_TOPIC, AnalyticsFilter
from otklik.models.analytics import (
    CASE_MEASURES,
    CaseDailyStat,
    CaseExecutorDailyStat,
    CaseExecutorMonthlyStat,
    CaseMunicipalityDailyStat,
    CaseMunicipalityMonthlyStat,
    CaseOkrugDailyStat,
    CaseRegionDailyStat,
    CaseRegionMonthlyStat,
    MessageDailyStat,
    MessageMonthlyStat,
    MessageMunicipalityMonthlyStat,
    MessageNationalDailyStat,
    MessageOkrugDailyStat,
    MessageOkrugMonthlyStat,
    MessageRegionDailyStat,
)
from otklik.models.territory import Territory, TerritoryLevel

Grain = Literal["day", "month"]
#: Logical dimension → column name in the rollup tables.
COLUMNS = {"region": "region_code", "municipality": "municipality_id",
           "executor": "executor_id", "okrug": "okrug", "topic": "topic", "source": "source",
           "sentiment": "sentiment"}


@dataclass(frozen=True)
class Cube:
    """One rollup table: its grain, the dimensions it keeps and its summable measures."""

    model: Any
    grain: Grain
    dims: frozenset[str]
    measures: tuple[str, ...]

    @property
    def name(self) -> str:
        """The table's name."""
        return str(self.model.__tablename__)

    @property
    def period(self) -> Any:
        """The period column (``day`` or ``month``)."""
        return getattr(self.model, self.grain)

    def column(self, dim: str) -> Any:
        """The column of a logical dimension (``day`` is the period column)."""
        if dim == "day":
            return self.period
        return getattr(self.model, COLUMNS[dim])

    def has(self, dim: str) -> bool:
        """True when the cube keeps ``dim`` (an okrug is also known from the region)."""
        if dim == "okrug":
            return bool({"okrug", "region"} & self.dims)
        return dim in self.dims


def _cube(model: Any, grain: Grain, dims: str, measures: tuple[str, ...]) -> Cube:
    return Cube(model, grain, frozenset(dims.split()), measures)


MESSAGE = ("messages",)
#: Message rollups, smallest first; the last is the finest (built from the base tables).
MESSAGE_CUBES = (
    _cube(MessageOkrugMonthlyStat, "month", "okrug topic source sentiment", MESSAGE),
    _cube(MessageNationalDailyStat, "day", "topic sentiment", MESSAGE),
    _cube(MessageOkrugDailyStat, "day", "okrug topic source sentiment", MESSAGE),
    _cube(MessageMonthlyStat, "month", "region topic source sentiment", MESSAGE),
    _cube(MessageRegionDailyStat, "day", "region topic source sentiment", MESSAGE),
    _cube(MessageMunicipalityMonthlyStat, "month", "region municipality topic source", MESSAGE),
    _cube(MessageDailyStat, "day", "region municipality topic source sentiment", MESSAGE),
)
#: Case rollups, smallest first; the last is the finest (built from the base tables).
CASE_CUBES = (
    _cube(CaseOkrugDailyStat, "day", "okrug topic", CASE_MEASURES),
    _cube(CaseRegionMonthlyStat, "month", "region topic source", CASE_MEASURES),
    _cube(CaseExecutorMonthlyStat, "month", "executor region topic", CASE_MEASURES),
    _cube(CaseRegionDailyStat, "day", "region topic source", CASE_MEASURES),
    _cube(CaseMunicipalityMonthlyStat, "month", "region municipality topic", CASE_MEASURES),
    _cube(CaseExecutorDailyStat, "day", "executor region", CASE_MEASURES),
    _cube(CaseMunicipalityDailyStat, "day", "region municipality", CASE_MEASURES),
    _cube(CaseDailyStat, "day", "executor region municipality topic source", CASE_MEASURES),
)


def needed(flt: AnalyticsFilter, scope_all_regions: bool, municipality_scope: bool,
           organization_scope: bool, dims: Iterable[str]) -> set[str]:
    """The dimensions a query filters, scopes or groups by (``day`` excluded)."""
    out = {d for d in dims if d != "day"}
    if flt.region_code or not scope_all_regions:
        out.add("region")
    if flt.okrug:
        out.add("okrug")
    if flt.municipality_id is not None or municipality_scope:
        out.add("municipality")
    if flt.topic:
        out.add("topic")
    if flt.source:
        out.add("source")
    if organization_scope:
        out.add("executor")
    return out


def whole_months(flt: AnalyticsFilter) -> bool:
    """True when the period starts and ends on the first of a month."""
    return flt.start.day == 1 and flt.end.day == 1


def pick(cubes: Sequence[Cube], flt: AnalyticsFilter, need: set[str], by_day: bool) -> Cube:
    """The first (smallest) cube that answers exactly; the finest one always does."""
    monthly_ok = whole_months(flt) and not by_day
    for cube in cubes:
        if cube.grain == "month" and not monthly_ok:
            continue
        if all(cube.has(d) for d in need):
            return cube
    return cubes[-1]


def conditions(cube: Cube, flt: AnalyticsFilter, *, region_codes: frozenset[str] | None,
               municipality_ids: frozenset[int] | None, organization_id: int | None
               ) -> list[ColumnElement[bool]]:
    """The period, filter and scope conditions on ``cube`` (which :func:`pick` chose, so every
    column needed is there). ``region_codes`` None means every region."""
    conds: list[ColumnElement[bool]] = [cube.period >= flt.start, cube.period < flt.end]
    if region_codes is not None:
        conds.append(cube.column("region").in_(sorted(region_codes)) if region_codes
                     else false())
    if municipality_ids is not None:
        conds.append(cube.column("municipality").in_(sorted(municipality_ids))
                     if municipality_ids else false())
    if flt.region_code:
        conds.append(cube.column("region") == flt.region_code)
    if flt.okrug:
        if "okrug" in cube.dims:
            conds.append(cube.column("okrug") == flt.okrug)
        else:
            conds.append(cube.column("region").in_(select(Territory.region_code).where(
                Territory.level == TerritoryLevel.region,
                Territory.federal_district == flt.okrug)))
    if flt.municipality_id is not None:
        conds.append(cube.column("municipality") == flt.municipality_id)
    if flt.topic == NO_TOPIC:
        conds.append(cube.column("topic").is_(None))
    elif flt.topic:
        conds.append(cube.column("topic") == flt.topic)
    if flt.source:
        conds.append(cube.column("source") == flt.source)
    if organization_id is not None:
        conds.append(cube.column("executor") == organization_id)
    return conds


def sums(cube: Cube, group: Sequence[str], measures: Sequence[str],
         conds: Sequence[ColumnElement[bool]]) -> Select[Any]:
    """``SELECT group..., sum(measure)... WHERE conds GROUP BY group`` on ``cube``."""
    columns = [cube.column(d).label(d) for d in group]
    query = select(*columns, *[func.coalesce(func.sum(getattr(cube.model, m)), 0)
                               for m in measures]).where(*conds)
    return query.group_by(*columns) if columns else query


# -- refresh ------------------------------------------------------------------------------------


def month_expr(session: Session, column: Any) -> Any:
    """The first day of the month of a date column, as a SQL date."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("month", column), Date)
    return func.date(column, "start of month")


#: The first and last day of the periods a refresh replaces (parameters of its statements).
LO, HI = bindparam("lo", type_=Date()), bindparam("hi", type_=Date())
#: Refresh statements by name and dialect, built once per process (see :func:`refill`).
_BUILT: dict[tuple[str, str], list[Executable]] = {}


def refill(session: Session, key: str, build: Callable[[], tuple[Delete, Insert]],
           params: Mapping[str, Any]) -> int:
    """Replace rows of a rollup: the DELETE and the INSERT … SELECT that ``build`` makes,
    run with ``params``; returns the rows inserted.

    The statements are built once per process and dialect (``key`` names them; the periods
    are parameters): building and hashing a refresh's large statements every time was half
    of its CPU (docs/performance.md, session 15). On PostgreSQL the DELETE is a CTE of the
    INSERT, one statement: it sees the rows as they were before the statement, and the
    rollups have no unique keys that the new rows could meet."""
    dialect = session.get_bind().dialect.name
    statements = _BUILT.get((key, dialect))
    if statements is None:
        gone, fill = build()
        statements = ([fill.add_cte(gone.cte("gone"))] if dialect == "postgresql"
                      else [gone, fill])
        _BUILT[(key, dialect)] = statements
    rows = 0
    for statement in statements:  # the last is the INSERT
        rows = session.execute(statement, params).rowcount  # type: ignore[attr-defined]
    return max(rows or 0, 0)


def day_ranges(days: Iterable[date]) -> list[tuple[date, date]]:
    """Contiguous ``[first, last]`` ranges of the given days."""
    out: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if out and (day - out[-1][1]).days == 1:
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out


def _periods(cube: Cube, days: Sequence[date]) -> list[tuple[date, date]]:
    """The ``[first, last]`` day ranges of ``cube``'s periods that contain ``days``;
    consecutive months make one range (one DELETE and one INSERT … SELECT for a refresh's
    three or four months, not one each: the GROUP BY keeps the months apart)."""
    if cube.grain == "month":
        out: list[tuple[date, date]] = []
        for month in sorted({d.replace(day=1) for d in days}):
            last = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            if out and (month - out[-1][1]).days == 1:
                out[-1] = (out[-1][0], last)
            else:
                out.append((month, last))
        return out
    return day_ranges(days)


def rebuild(session: Session, cube: Cube, finest: Cube, days: Sequence[date] | None) -> int:
    """Derive ``cube`` from ``finest`` for the periods holding ``days`` (all when None);
    returns the rows written."""
    base = finest.model

    def build(ranged: bool) -> tuple[Delete, Insert]:
        period = base.day if cube.grain == "day" else month_expr(session, base.day)
        group: list[Any] = [period.label(cube.grain)]
        names: list[str] = [cube.grain]
        for dim in sorted(cube.dims):
            group.append(Territory.federal_district if dim == "okrug"
                         else getattr(base, COLUMNS[dim]))
            names.append(COLUMNS[dim])
        query = select(*group, *[func.sum(getattr(base, m)) for m in cube.measures]
                       ).select_from(base)
        if "okrug" in cube.dims:
            query = query.outerjoin(Territory, and_(Territory.region_code == base.region_code,
                                                    Territory.level == TerritoryLevel.region))
        table = cube.model.__table__
        gone = delete(table)
        if ranged:
            gone = gone.where(table.c[cube.grain] >= LO, table.c[cube.grain] <= HI)
            query = query.where(base.day >= LO, base.day <= HI)
        return gone, insert(table).from_select([*names, *cube.measures], query.group_by(*group))

    if days is None:
        return refill(session, f"cube:{cube.name}", lambda: build(False), {})
    return sum(refill(session, f"cube:{cube.name}:ranged", lambda: build(True),
                      {"lo": lo, "hi": hi}) for lo, hi in _periods(cube, days))


def rebuild_all(session: Session, cubes: Sequence[Cube], days: Sequence[date] | None) -> int:
    """Derive every coarser cube of ``cubes`` (all but the last, the finest)."""
    return sum(rebuild(session, cube, cubes[-1], days) for cube in cubes[:-1])
