"""Findings say only what the data supports: no change against a period without data, no
"100% of messages concern roads" when the filter is roads."""

from __future__ import annotations

from sqlalchemy.orm import Session
from tests.analytics.conftest import NOW, World
from tests.analytics.test_dashboard_counts import _messages

from otklik.analytics.schemas import AnalyticsFilter
from otklik.analytics.service import dashboard
from otklik.audit.actor import Actor

SYSTEM = Actor.system("tests")


def _top(flt: AnalyticsFilter, session: Session) -> str:
    board = dashboard(session, SYSTEM, flt, now=NOW)
    return next(f.text for f in board.findings if f.code == "top_topic")


def test_change_is_stated_only_against_a_period_with_data(session: Session, world: World
                                                          ) -> None:
    november = AnalyticsFilter.from_params(period="2026-11", region_code="68")
    # seen on 29 November: compared with the same 29 days of October, and saying so
    assert "п. п. к тем же 29 дням октября" in _top(november, session)
    october = AnalyticsFilter.from_params(period="2026-10", region_code="68")  # Sept is empty
    text = _top(october, session)
    assert "к предыдущему периоду" not in text and "п. п." not in text
    board = dashboard(session, SYSTEM, october, now=NOW)
    assert not [f for f in board.findings if f.code == "growing_topic"]


def test_topic_filter_states_the_count(session: Session, world: World) -> None:
    roads = AnalyticsFilter.from_params(period="2026-11", region_code="68", topic="roads")
    expected = len(_messages(world, roads))
    text = _top(roads, session)
    assert text.startswith(f"По теме «Дороги» — {expected} сообщ"), text
    assert "100%" not in text
