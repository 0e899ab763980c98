"""Every rollup cube gives the same counts as the base tables for every query it can answer,
and a query reads the smallest cube that answers it."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.analytics.conftest import NOW, World

from otklik.accounts.scope import Scope
from otklik.analytics.cubes import (
    CASE_CUBES,
    MESSAGE_CUBES,
    Cube,
    _periods,
    pick,
    rebuild,
    whole_months,
)
from otklik.analytics.repository import AnalyticsRepository, Limits
from otklik.analytics.rollup import refresh_case_rollup, refresh_message_rollup
from otklik.analytics.schemas import NO_TOPIC, AnalyticsFilter

OCT_NOV = AnalyticsFilter.from_params(date_from=date(2026, 10, 1), date_to=date(2026, 11, 30))
NOV_DAYS = AnalyticsFilter.from_params(date_from=date(2026, 11, 3), date_to=date(2026, 11, 20))


def _filters(world: World) -> list[AnalyticsFilter]:
    municipality = world.municipalities["68"][0]
    out = []
    for base in (OCT_NOV, NOV_DAYS):
        out += [base, base.narrowed(region_code="68"), base.narrowed(okrug="Центральный"),
                base.narrowed(topic="roads"), base.narrowed(topic=NO_TOPIC),
                base.narrowed(source="vk"), base.narrowed(region_code="68", topic="waste"),
                base.narrowed(municipality_id=municipality)]
    return out


def _answerable(repo: AnalyticsRepository, cube: Cube, flt: AnalyticsFilter, limits: Limits,
                dims: list[str], *, cases: bool = False) -> bool:
    need = repo._needed(flt, limits, dims, cases=cases)
    if cube.grain == "month" and (not whole_months(flt) or "day" in dims):
        return False
    return all(cube.has(d) for d in need)


MESSAGE_DIMS: list[list[str]] = [[], ["day"], ["topic"], ["day", "sentiment"], ["region"],
                                 ["municipality"], ["source", "topic"]]
CASE_DIMS: list[list[str]] = [[], ["day"], ["topic"], ["region"], ["municipality"]]


@pytest.mark.parametrize("cube", MESSAGE_CUBES, ids=lambda c: c.name)
def test_every_message_cube_equals_the_base_tables(session: Session, world: World,
                                                   cube: Cube) -> None:
    refresh_message_rollup(session, full=True)
    repo = AnalyticsRepository(session)
    limits = Limits(Scope.system())
    checked = 0
    for flt in _filters(world):
        for dims in MESSAGE_DIMS:
            if not _answerable(repo, cube, flt, limits, dims):
                continue
            got = sorted(repo._cube_counts(cube, flt, limits, dims, "messages"), key=repr)
            direct = sorted(repo.message_counts(flt, limits, dims), key=repr)  # type: ignore[arg-type]
            assert got == [r for r in direct if r[-1] or not dims], (cube.name, flt, dims)
            checked += 1
    assert checked >= 6


@pytest.mark.parametrize("cube", CASE_CUBES, ids=lambda c: c.name)
def test_every_case_cube_equals_the_base_tables(session: Session, world: World,
                                                cube: Cube) -> None:
    refresh_case_rollup(session, now=NOW, full=True)
    repo = AnalyticsRepository(session)
    limits = Limits(Scope.system())
    checked = 0
    for flt in _filters(world):
        for dims in CASE_DIMS:
            if not _answerable(repo, cube, flt, limits, dims, cases=True):
                continue
            got = sorted(repo._cube_counts(cube, flt, limits, dims, "cases", cases=True),
                         key=repr)
            direct = sorted(repo.case_counts(flt, limits, dims), key=repr)  # type: ignore[arg-type]
            assert got == [r for r in direct if r[-1] or not dims], (cube.name, flt, dims)
            checked += 1
    assert checked >= 4


def test_a_scoped_query_reads_a_cube_with_its_scope(session: Session, world: World) -> None:
    refresh_message_rollup(session, full=True)
    refresh_case_rollup(session, now=NOW, full=True)
    repo = AnalyticsRepository(session)
    regional = Limits(Scope(region_codes=frozenset({"68"})))
    deputy = Limits(Scope(region_codes=frozenset({"68"})),
                    municipality_ids=frozenset(world.municipalities["68"][:1]))
    for limits, cube in ((regional, "message_monthly_stat"),
                         (deputy, "message_municipality_monthly_stat")):
        assert repo.message_cube(OCT_NOV, limits, ["topic"]).name == cube
        assert sorted(repo.message_counts(OCT_NOV, limits, ["topic"], rollup=True), key=repr) \
            == sorted(repo.message_counts(OCT_NOV, limits, ["topic"]), key=repr)
        assert sorted(repo.case_counts_rollup(OCT_NOV, limits, ["day"]), key=repr) \
            == sorted(repo.case_counts(OCT_NOV, limits, ["day"]), key=repr)


@pytest.mark.parametrize(("flt", "dims", "expected"), [
    (OCT_NOV, ["topic"], "message_okrug_monthly_stat"),
    (OCT_NOV, ["day"], "message_national_daily_stat"),
    (OCT_NOV.narrowed(source="vk"), ["day"], "message_okrug_daily_stat"),
    (OCT_NOV, ["region"], "message_monthly_stat"),
    (OCT_NOV.narrowed(region_code="68"), ["day", "sentiment"], "message_region_daily_stat"),
    (OCT_NOV.narrowed(region_code="68"), ["municipality"], "message_municipality_monthly_stat"),
    (NOV_DAYS.narrowed(region_code="68"), ["municipality"], "message_daily_stat"),
])
def test_a_query_reads_the_smallest_message_cube(flt: AnalyticsFilter, dims: list[str],
                                                 expected: str) -> None:
    need = {d for d in dims if d != "day"} | ({"region"} if flt.region_code else set()) \
        | ({"source"} if flt.source else set())
    assert pick(MESSAGE_CUBES, flt, need, "day" in dims).name == expected


@pytest.mark.parametrize(("flt", "dims", "expected"), [
    (OCT_NOV, ["day"], "case_okrug_daily_stat"),
    (OCT_NOV, ["region"], "case_region_monthly_stat"),
    (OCT_NOV, ["executor"], "case_executor_monthly_stat"),
    (OCT_NOV, ["municipality"], "case_municipality_monthly_stat"),
    (OCT_NOV.narrowed(region_code="68"), ["day"], "case_region_daily_stat"),
    (NOV_DAYS, ["executor"], "case_executor_daily_stat"),
    (NOV_DAYS, ["municipality"], "case_municipality_daily_stat"),
    (NOV_DAYS.narrowed(topic="roads"), ["executor"], "case_daily_stat"),
])
def test_a_query_reads_the_smallest_case_cube(flt: AnalyticsFilter, dims: list[str],
                                              expected: str) -> None:
    need: set[Any] = {d for d in dims if d != "day"} | (
        {"region"} if flt.region_code else set()) | ({"topic"} if flt.topic else set())
    assert pick(CASE_CUBES, flt, need, "day" in dims).name == expected


def test_an_incremental_refresh_keeps_the_cubes_equal(session: Session, world: World) -> None:
    refresh_message_rollup(session, full=True)
    refresh_case_rollup(session, now=NOW, full=True)
    refresh_message_rollup(session)  # nothing new: a no-op
    refresh_case_rollup(session, now=NOW)  # the recent window again: same rows
    repo = AnalyticsRepository(session)
    limits = Limits(Scope.system())
    for cube in CASE_CUBES:
        if _answerable(repo, cube, OCT_NOV, limits, ["topic"], cases=True):
            assert sorted(repo._cube_counts(cube, OCT_NOV, limits, ["topic"], "cases",
                                            cases=True), key=repr) \
                == sorted(repo.case_counts(OCT_NOV, limits, ["topic"]), key=repr), cube.name


def test_the_dashboard_names_topics_by_the_rubricator_in_use(session: Session,
                                                              world: World) -> None:
    from otklik.analytics.service import dashboard
    from otklik.audit.actor import Actor
    from otklik.language import taxonomy_service
    from otklik.nlp.taxonomy import editing

    renamed = editing.rename(taxonomy_service.current_document(session), "roads",
                             "Дороги, мосты и тротуары")
    taxonomy_service.save_version(session, Actor.system("tests"), renamed, "переименование",
                                  activate=True)
    board = dashboard(session, Actor.system("tests"), OCT_NOV, now=NOW)
    assert "Дороги, мосты и тротуары" in {t.name for t in board.topics}


def _rows(session: Session, cube: Cube) -> list[tuple[Any, ...]]:
    """The cube's rows without their surrogate ids."""
    columns = [c for c in cube.model.__table__.columns if c.name != "id"]
    return sorted((tuple(row) for row in session.execute(select(*columns))), key=repr)


def test_consecutive_months_are_rebuilt_at_once_with_the_same_rows(session: Session,
                                                                   world: World) -> None:
    """A refresh rebuilds consecutive months of a monthly cube in one range (one DELETE and
    one INSERT … SELECT): the rows equal those rebuilt a month at a time, and those of a full
    rebuild."""
    refresh_message_rollup(session, full=True)
    refresh_case_rollup(session, now=NOW, full=True)
    days = [date(2026, 9, 30), date(2026, 10, 1), date(2026, 10, 17), date(2026, 11, 30),
            date(2027, 1, 5)]
    monthly = [c for c in (*MESSAGE_CUBES[:-1], *CASE_CUBES[:-1]) if c.grain == "month"]
    assert monthly
    for cube in monthly:
        assert _periods(cube, days) == [(date(2026, 9, 1), date(2026, 11, 30)),
                                        (date(2027, 1, 1), date(2027, 1, 31))]
        finest = MESSAGE_CUBES[-1] if cube in MESSAGE_CUBES else CASE_CUBES[-1]
        full = _rows(session, cube)
        assert full, cube.name
        rebuild(session, cube, finest, days)
        at_once = _rows(session, cube)
        for month in (date(2026, 9, 30), date(2026, 10, 1), date(2026, 11, 2),
                      date(2027, 1, 5)):
            rebuild(session, cube, finest, [month])
        assert at_once == _rows(session, cube) == full, cube.name
