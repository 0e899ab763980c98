"""Every dashboard number checked against a direct count of the hand-built fixture, on the
base tables and on the rollup, and every drill-down's total equal to its number."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session
from tests.analytics.conftest import MSK, NOW, FCase, FMessage, World

from otklik.accounts.scope import Scope
from otklik.analytics.rollup import refresh_message_rollup
from otklik.analytics.schemas import NO_TOPIC, AnalyticsFilter, Dashboard
from otklik.analytics.service import dashboard, drill_down
from otklik.audit.actor import Actor
from otklik.models.account import Role
from otklik.models.case import OPEN_STATUSES, CaseStatus

NOVEMBER = AnalyticsFilter.from_params(period="2026-11", region_code="68")


def _in(flt: AnalyticsFilter, world: World, moment: datetime) -> bool:
    return flt.start <= world.msk_day(moment) < flt.end


def _messages(world: World, flt: AnalyticsFilter, municipalities: set[int] | None = None
              ) -> list[FMessage]:
    return [m for m in world.messages if m.relevant and _in(flt, world, m.created)
            and (flt.region_code is None or m.region == flt.region_code)
            and (flt.topic is None or m.topic == (None if flt.topic == NO_TOPIC else flt.topic))
            and (flt.municipality_id is None or m.municipality == flt.municipality_id)
            and (municipalities is None or m.municipality in municipalities)]


def _cases(world: World, flt: AnalyticsFilter, municipalities: set[int] | None = None
           ) -> list[FCase]:
    return [c for c in world.cases if _in(flt, world, c.received)
            and (flt.region_code is None or c.region == flt.region_code)
            and (flt.municipality_id is None or c.municipality == flt.municipality_id)
            and (flt.topic is None or c.topic == (None if flt.topic == NO_TOPIC else flt.topic))
            and (municipalities is None or c.municipality in municipalities)]


def _expected_performance(cases: list[FCase], key: str) -> dict[Any, dict[str, Any]]:
    groups: dict[Any, list[FCase]] = defaultdict(list)
    for c in cases:
        k = getattr(c, key)
        if k is not None and c.status != CaseStatus.rejected:
            groups[k].append(c)
    out = {}
    for k, rows in groups.items():
        open_overdue = [c for c in rows if c.answered is None and c.status in OPEN_STATUSES
                        and c.due is not None and c.due < NOW]
        first = [(c.first_response - c.received).total_seconds() / 3600 for c in rows
                 if c.first_response]
        resolution = [(c.answered - c.received).total_seconds() / 3600 for c in rows
                      if c.answered]
        out[k] = {
            "cases": len(rows),
            "answered": sum(1 for c in rows if c.answered),
            "on_time": sum(1 for c in rows
                           if c.answered and (c.due is None or c.answered <= c.due)),
            "overdue": sum(1 for c in rows if c.answered and c.due and c.answered > c.due)
            + len(open_overdue),
            "open_overdue": len(open_overdue),
            "answers": sum(1 for c in rows if c.sent_final),
            "brush_offs": sum(1 for c in rows if c.sent_final and not all(c.sent_final)),
            "reopened": sum(1 for c in rows if c.reopen > 0),
            "median_first_response_h": round(statistics.median(first), 2) if first else None,
            "median_resolution_h": round(statistics.median(resolution), 2)
            if resolution else None,
        }
    return out


def _check(session: Session, actor: Actor, world: World, flt: AnalyticsFilter, board: Dashboard,
           municipalities: set[int] | None = None) -> None:
    msgs = _messages(world, flt, municipalities)
    # November seen on 29 November is compared with October up to the same elapsed time
    cut = _compared_until(flt)
    prev = [m for m in _messages(world, flt.previous(), municipalities) if m.created < cut]
    cases = _cases(world, flt, municipalities)
    assert msgs, "the fixture must have messages in the period"
    t = board.totals
    assert t.messages == len(msgs)
    assert t.messages_previous == len(prev)
    assert t.cases == len(cases)
    assert t.cases_previous == len([c for c in _cases(world, flt.previous(), municipalities)
                                    if c.received < cut])
    negative = sum(1 for m in msgs if m.sentiment == "negative")
    assert t.negative_share == pytest.approx(negative / len(msgs), abs=1e-4)

    per_day = Counter(world.msk_day(m.created) for m in msgs)
    volume = {p.key: p.value for p in board.volume[0].points}
    assert volume == {d.isoformat(): per_day.get(d, 0) for d in _days(flt)}
    case_days = Counter(world.msk_day(c.received) for c in cases)
    assert {p.key: p.value for p in board.volume[1].points} == {
        d.isoformat(): case_days.get(d, 0) for d in _days(flt)}

    sentiments = Counter((world.msk_day(m.created), m.sentiment) for m in msgs)
    for series, code in zip(board.sentiment, ("negative", "neutral", "positive"), strict=True):
        for p in series.points:
            assert p.value == sentiments.get((date.fromisoformat(p.key), code), 0)

    topics = Counter(m.topic for m in msgs)
    topics_prev = Counter(m.topic for m in prev)
    for row in board.topics:
        code = None if row.topic == NO_TOPIC else row.topic
        assert row.messages == topics[code]
        assert row.messages_previous == topics_prev[code]
        assert row.share == pytest.approx(topics[code] / len(msgs), abs=1e-4)
        expected_pp = 100 * (round(topics[code] / len(msgs), 4)
                             - round(topics_prev[code] / max(len(prev), 1), 4))
        assert row.change_pp == pytest.approx(expected_pp, abs=0.051)

    problem_now = Counter(m.case.problem for m in msgs if m.case and m.case.problem)
    problem_prev = Counter(m.case.problem for m in prev if m.case and m.case.problem)
    assert {p.problem_id: p.messages for p in board.problems} == dict(problem_now)
    assert {p.problem_id: p.messages_previous for p in board.problems} == {
        k: problem_prev.get(k, 0) for k in problem_now}

    by_place = Counter(m.municipality for m in msgs)
    cases_by_place = Counter(c.municipality for c in cases)
    for area in board.areas:
        assert area.messages == by_place.get(int(area.key), 0)
        assert area.cases == cases_by_place.get(int(area.key), 0)
        if area.population:
            assert area.per_10k == pytest.approx(10_000 * area.messages / area.population,
                                                 abs=0.01)

    for rows, key in ((board.executors, "executor"), (board.municipalities, "municipality")):
        expected = _expected_performance(cases, key)
        assert {int(r.key) for r in rows} == set(expected)
        for row in rows:
            want = expected[int(row.key)]
            got = row.model_dump()
            for name, value in want.items():
                if name.startswith("median") and value is not None:
                    assert got[name] == pytest.approx(value, abs=0.02), (row.name, name)
                else:
                    assert got[name] == value, (row.name, name)

    _check_drills(session, actor, board)


def _days(flt: AnalyticsFilter, now: datetime = NOW) -> list[date]:
    """The period's days up to ``now``'s Moscow day (none still to come)."""
    today = (now + MSK).date()
    return [flt.start + timedelta(days=i) for i in range(flt.days)
            if flt.start + timedelta(days=i) <= today]


def _compared_until(flt: AnalyticsFilter, now: datetime = NOW) -> datetime:
    """Where the previous period's compared window ends: as far into it as ``now`` is into
    ``flt`` (all of it once ``flt`` is over)."""
    start = datetime.combine(flt.start, datetime.min.time(), UTC) - MSK
    end = datetime.combine(flt.end, datetime.min.time(), UTC) - MSK
    previous = flt.previous()
    prev_start = datetime.combine(previous.start, datetime.min.time(), UTC) - MSK
    prev_end = datetime.combine(previous.end, datetime.min.time(), UTC) - MSK
    return min(prev_start + (min(now, end) - start), prev_end)


def _drill_total(session: Session, actor: Actor, params: dict[str, Any]) -> int:
    params = dict(params)
    kind = params.pop("kind")
    flt = AnalyticsFilter.from_params(
        date_from=date.fromisoformat(params.pop("date_from")),
        date_to=date.fromisoformat(params.pop("date_to")),
        region_code=params.pop("region_code", None), okrug=params.pop("okrug", None),
        municipality_id=params.pop("municipality_id", None), topic=params.pop("topic", None),
        source=params.pop("source", None))
    as_of = params.pop("as_of", None)
    page = drill_down(session, actor, kind, flt,
                      as_of=datetime.fromisoformat(as_of) if as_of else None,
                      performance=bool(params.pop("performance", False)), limit=1, **params)
    return page.total


def _check_drills(session: Session, actor: Actor, board: Dashboard) -> None:
    t = board.totals
    assert _drill_total(session, actor, t.drill_messages) == t.messages
    assert _drill_total(session, actor, t.drill_cases) == t.cases
    for series in board.volume + board.sentiment:
        for p in series.points[::7]:
            assert _drill_total(session, actor, p.drill) == p.value
    for row in board.topics[:3]:
        assert _drill_total(session, actor, row.drill) == row.messages
    for problem in board.problems:
        assert _drill_total(session, actor, problem.drill) == problem.messages
    for area in board.areas:
        assert _drill_total(session, actor, area.drill) == area.messages
    for perf in board.executors + board.municipalities:
        assert _drill_total(session, actor, perf.drill["cases"]) == perf.cases
        for metric, value in (("answered", perf.answered), ("on_time", perf.on_time),
                              ("overdue", perf.overdue), ("open_overdue", perf.open_overdue),
                              ("brush_off", perf.brush_offs), ("reopened", perf.reopened),
                              ("with_answer", perf.answers)):
            assert _drill_total(session, actor, perf.drill[metric]) == value, metric


@pytest.mark.parametrize("use_rollup", [False, True], ids=["base", "rollup"])
def test_region_dashboard_matches_direct_counts(session: Session, world: World,
                                                use_rollup: bool) -> None:
    if use_rollup:
        result = refresh_message_rollup(session, full=True)
        assert result.days > 0
    actor = Actor.system("tests")
    board = dashboard(session, actor, NOVEMBER, now=NOW, rollup=use_rollup)
    assert board.level == "region"
    assert (board.as_of is not None) == use_rollup
    _check(session, actor, world, NOVEMBER, board)


def test_topic_and_municipality_filters_match_direct_counts(session: Session, world: World
                                                            ) -> None:
    actor = Actor.system("tests")
    flt = NOVEMBER.narrowed(topic="roads", municipality_id=world.municipalities["68"][0])
    board = dashboard(session, actor, flt, now=NOW)
    assert board.level == "municipality"
    _check(session, actor, world, flt, board)


def test_federal_dashboard_groups_regions_and_okrugs(session: Session, world: World) -> None:
    actor = Actor.system("tests")
    flt = NOVEMBER.narrowed(region_code=None)
    board = dashboard(session, actor, flt, now=NOW)
    assert board.level == "federal"
    msgs = _messages(world, flt)
    assert board.totals.messages == len(msgs)
    regions = {a.key: a.messages for a in board.areas if a.level == "region"}
    by_region = Counter(m.region for m in msgs)
    assert {k: v for k, v in regions.items() if v} == dict(by_region)
    okrugs = {a.key: a.messages for a in board.areas if a.level == "okrug"}
    assert sum(okrugs.values()) == len(msgs)
    for area in board.areas:
        assert _drill_total(session, actor, area.drill) == area.messages


def test_region_staff_see_only_their_region(session: Session, world: World) -> None:
    staff = Actor("analyst68", Scope(region_codes=frozenset({"68"}),
                                     permissions=frozenset({"read", "analytics"})),
                  role=Role.analyst)
    board = dashboard(session, staff, NOVEMBER.narrowed(region_code=None), now=NOW)
    assert board.level == "region"
    assert board.totals.messages == len(_messages(world, NOVEMBER))
    from otklik.errors import NotFound

    with pytest.raises(NotFound):
        dashboard(session, staff, NOVEMBER.narrowed(region_code="07"), now=NOW)


def test_deputy_sees_their_district_only(session: Session, world: World) -> None:
    district = world.municipalities["68"][1]
    deputy = Actor("deputy", Scope(region_codes=frozenset({"68"}),
                                   territory_ids=frozenset({district}),
                                   permissions=frozenset({"read", "analytics"})),
                   role=Role.deputy)
    board = dashboard(session, deputy, NOVEMBER, now=NOW)
    assert [a.key for a in board.areas] == [str(district)]
    _check(session, deputy, world, NOVEMBER, board, municipalities={district})
