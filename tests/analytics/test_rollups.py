"""The coarser rollups equal direct counts: the monthly message rollup (what federal-year
views read) and the case rollup (performance counts, histogram medians near the exact ones)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.analytics.conftest import NOW, World
from tests.analytics.test_dashboard_counts import _cases, _messages

from otklik.accounts.scope import Scope
from otklik.analytics.repository import AnalyticsRepository, Limits
from otklik.analytics.rollup import (
    median_from_histogram,
    refresh_case_rollup,
    refresh_message_rollup,
    refresh_problem_rollup,
)
from otklik.analytics.schemas import AnalyticsFilter
from otklik.models.analytics import HOUR_BUCKETS, RESOLUTION_COLUMNS, CaseDailyStat
from otklik.models.case import CaseStatus

OCT_NOV = AnalyticsFilter.from_params(date_from=date(2026, 10, 1), date_to=date(2026, 11, 30))


def test_monthly_rollup_equals_direct_counts(session: Session, world: World) -> None:
    refresh_message_rollup(session, full=True)
    repo = AnalyticsRepository(session)
    limits = Limits(Scope.system())
    assert repo.message_cube(OCT_NOV, limits, ["region", "topic"]).name == "message_monthly_stat"
    monthly = {(r, t): n for r, t, n in repo.message_counts(OCT_NOV, limits, ["region", "topic"],
                                                            rollup=True)}
    direct = {(r, t): n for r, t, n in repo.message_counts(OCT_NOV, limits, ["region", "topic"])}
    assert monthly == direct
    expected: dict[tuple[str | None, str | None], int] = defaultdict(int)
    for m in _messages(world, OCT_NOV):
        expected[(m.region, m.topic)] += 1
    assert monthly == dict(expected)
    by_sentiment = repo.message_counts(OCT_NOV.narrowed(region_code="68", topic="roads"),
                                       limits, ["sentiment"], rollup=True)
    assert sum(n for _, n in by_sentiment) == len(
        [m for m in _messages(world, OCT_NOV) if m.region == "68" and m.topic == "roads"])


def test_case_rollup_equals_direct_counts(session: Session, world: World) -> None:
    refresh_case_rollup(session, now=NOW, full=True)
    rows = session.scalars(select(CaseDailyStat).where(
        CaseDailyStat.day >= OCT_NOV.start, CaseDailyStat.day < OCT_NOV.end)).all()
    cases = _cases(world, OCT_NOV)
    assert sum(r.cases for r in rows) == len(cases)
    live = [c for c in cases if c.status != CaseStatus.rejected]
    assert sum(r.rejected for r in rows) == len(cases) - len(live)
    assert sum(r.answered for r in rows) == len([c for c in live if c.answered])
    assert sum(r.on_time for r in rows) == len(
        [c for c in live if c.answered and (c.due is None or c.answered <= c.due)])
    assert sum(r.reopened for r in rows) == len([c for c in live if c.reopen > 0])
    assert sum(r.brush_offs for r in rows) == len(
        [c for c in live if any(ok is False for ok in c.sent_final)])
    hist = [sum(getattr(r, c) for r in rows) for c in RESOLUTION_COLUMNS]
    hours = [(c.answered - c.received).total_seconds() / 3600 for c in live if c.answered]
    assert sum(hist) == len(hours)
    exact = statistics.median(hours)
    approx = median_from_histogram(hist)
    assert approx is not None
    bounds = (0, *HOUR_BUCKETS)
    bucket = next(i for i, upper in enumerate(HOUR_BUCKETS) if exact < upper)
    assert bounds[bucket] <= approx <= HOUR_BUCKETS[bucket]
    # idempotent: a second incremental refresh gives the same rows
    refresh_case_rollup(session, now=NOW)
    assert sum(r.cases for r in session.scalars(select(CaseDailyStat).where(
        CaseDailyStat.day >= OCT_NOV.start, CaseDailyStat.day < OCT_NOV.end)).all()) == len(cases)


@pytest.mark.parametrize("by", ["executor", "municipality", "region"])
def test_performance_from_the_case_rollup_matches_the_exact_one(session: Session, world: World,
                                                                by: str) -> None:
    refresh_case_rollup(session, now=NOW, full=True)
    repo = AnalyticsRepository(session)
    limits = Limits(Scope.system())
    exact = repo.performance(OCT_NOV, limits, by, NOW)  # type: ignore[arg-type]
    rolled = repo.performance_rollup(OCT_NOV, limits, by, NOW)  # type: ignore[arg-type]
    assert set(rolled) == set(exact)
    bounds = (0, *HOUR_BUCKETS)
    for key, values in exact.items():
        for name in ("cases", "answered", "on_time", "overdue", "open_overdue", "answers",
                     "brush_offs", "reopened"):
            assert rolled[key][name] == values[name], (key, name)
        for name in ("median_first_response_h", "median_resolution_h"):
            if values[name] is None:
                assert rolled[key][name] is None
                continue
            i = next((i for i, upper in enumerate(HOUR_BUCKETS) if values[name] < upper),
                     len(HOUR_BUCKETS))
            # the interpolated median lies within a bucket of the exact one
            low = bounds[max(i - 1, 0)]
            high = HOUR_BUCKETS[min(i + 1, len(HOUR_BUCKETS) - 1)]
            assert low <= rolled[key][name] <= high, (key, name, values[name], rolled[key][name])


def test_okrug_daily_rollup_equals_direct_counts(session: Session, world: World) -> None:
    refresh_message_rollup(session, full=True)
    repo = AnalyticsRepository(session)
    limits = Limits(Scope.system())
    november = AnalyticsFilter.from_params(date_from=date(2026, 11, 3), date_to=date(2026, 11, 20))
    for flt in (november, november.narrowed(okrug="Центральный"),
                november.narrowed(topic="roads", source="vk")):
        for dims in (["day"], ["day", "sentiment"], ["topic"]):
            assert repo.message_cube(flt, limits, dims).grain == "day"
            rolled = sorted(repo.message_counts(flt, limits, dims, rollup=True),  # type: ignore[arg-type]
                            key=repr)
            direct = sorted(repo.message_counts(flt, limits, dims), key=repr)  # type: ignore[arg-type]
            assert rolled == direct, (flt, dims)
    central = repo.message_counts(november.narrowed(okrug="Центральный"), limits, rollup=True)
    assert central[0][-1] == len([m for m in _messages(world, november) if m.region == "68"])


def test_case_counts_from_the_rollup_equal_the_direct_ones(session: Session, world: World
                                                           ) -> None:
    refresh_case_rollup(session, now=NOW, full=True)
    repo = AnalyticsRepository(session)
    limits = Limits(Scope.system())
    november = AnalyticsFilter.from_params(period="2026-11")
    for flt in (november, november.narrowed(region_code="68", topic="roads"),
                november.narrowed(municipality_id=world.municipalities["68"][0])):
        for dims in ([], ["day"], ["region"], ["municipality"], ["topic"]):
            rolled = sorted(repo.case_counts_rollup(flt, limits, dims), key=repr)  # type: ignore[arg-type]
            direct = sorted(repo.case_counts(flt, limits, dims), key=repr)  # type: ignore[arg-type]
            assert rolled == [r for r in direct if r[-1] or not dims], (flt, dims)


def test_problem_rollup_equals_direct_counts(session: Session, world: World) -> None:
    refresh_problem_rollup(session, now=NOW, full=True)
    repo = AnalyticsRepository(session)
    limits = Limits(Scope.system())
    for flt in (OCT_NOV, AnalyticsFilter.from_params(period="2026-11", region_code="68"),
                AnalyticsFilter.from_params(period="2026-11", source="vk")):
        direct = repo.problem_message_counts(flt, limits)
        assert direct, flt
        assert repo.problem_message_counts(flt, limits, rollup=True) == direct
        ids = [p for p, _ in direct]
        assert sorted(repo.problem_message_counts(flt, limits, ids, rollup=True)) == sorted(
            repo.problem_message_counts(flt, limits, ids))
    expected = len([m for m in _messages(world, OCT_NOV)
                    if m.case is not None and m.case.problem == world.problems[0]])
    assert dict(repo.problem_message_counts(OCT_NOV, limits, rollup=True))[
        world.problems[0]] == expected
    refresh_problem_rollup(session, now=NOW)  # the window again: same numbers
    assert repo.problem_message_counts(OCT_NOV, limits, rollup=True) == \
        repo.problem_message_counts(OCT_NOV, limits)


def test_a_batch_committed_late_by_another_worker_is_still_counted(session: Session,
                                                                    world: World) -> None:
    from datetime import timedelta

    from otklik.analytics.rollup import rollup_watermark
    from otklik.models.message import MessageEnrichment

    refresh_message_rollup(session, full=True)
    mark = rollup_watermark(session)
    assert mark is not None
    # another worker's batch, enriched a minute before the watermark but committed only now
    late = session.scalars(select(MessageEnrichment).where(
        MessageEnrichment.relevant.is_(False))).first()
    assert late is not None
    late.relevant = True
    late.enriched_at = mark - timedelta(minutes=1)
    session.flush()
    refresh_message_rollup(session)
    repo = AnalyticsRepository(session)
    limits = Limits(Scope.system())
    assert repo.message_counts(OCT_NOV, limits, ["region"], rollup=True) \
        == repo.message_counts(OCT_NOV, limits, ["region"])
