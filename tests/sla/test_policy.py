"""Deadline policies: choosing the policy for a case and turning it into deadlines."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from otklik.sla.calendar import (
    ProductionCalendar,
    SlaClock,
    SlaConfigError,
    WorkingHours,
    working_days,
    working_hours,
)
from otklik.sla.policy import (
    DEFAULT_POLICIES,
    DeadlinePolicy,
    compute_deadlines,
    policies_from_json,
    policies_to_json,
    resolve_policy,
)

MSK = ZoneInfo("Europe/Moscow")


def msk(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MSK)


@pytest.fixture(scope="module")
def clock() -> SlaClock:
    return SlaClock(ProductionCalendar(), WorkingHours.standard(), "Europe/Moscow")


LADDER = [
    DeadlinePolicy(name="по умолчанию", resolution=working_days(15)),
    DeadlinePolicy(urgency="high", name="срочные", resolution=working_days(2)),
    DeadlinePolicy(topic="zhkh", name="ЖКХ", resolution=working_days(7)),
    DeadlinePolicy(topic="zhkh", urgency="high", name="ЖКХ срочно", resolution=working_days(1)),
    DeadlinePolicy(subtopic="zhkh.water", name="водоснабжение", resolution=working_days(5)),
    DeadlinePolicy(
        subtopic="zhkh.water",
        urgency="high",
        name="нет воды срочно",
        first_response=working_hours(1),
        resolution=working_hours(6),
    ),
]


@pytest.mark.parametrize(
    ("topic", "subtopic", "urgency", "expected"),
    [
        ("zhkh", "zhkh.water", "high", "нет воды срочно"),
        ("zhkh", "zhkh.water", "normal", "водоснабжение"),
        ("zhkh", "zhkh.heating", "high", "ЖКХ срочно"),
        ("zhkh", "zhkh.heating", "low", "ЖКХ"),
        ("roads", "roads.potholes", "high", "срочные"),
        ("roads", None, "normal", "по умолчанию"),
        (None, None, None, "по умолчанию"),
    ],
)
def test_most_specific_policy_wins(
    topic: str | None, subtopic: str | None, urgency: str | None, expected: str
) -> None:
    # The ladder is reversed so the answer cannot come from list order.
    assert resolve_policy(LADDER[::-1], topic, subtopic, urgency).name == expected


def test_ties_go_to_the_earlier_policy() -> None:
    first = DeadlinePolicy(topic="roads", name="дороги (регион)")
    second = DeadlinePolicy(topic="roads", name="дороги (муниципалитет)")
    assert resolve_policy([first, second], "roads", None, "normal") is first
    assert resolve_policy([second, first], "roads", None, "normal") is second


def test_builtin_defaults_when_nothing_matches() -> None:
    only_roads = [DeadlinePolicy(topic="roads", resolution=working_days(20))]
    urgent = resolve_policy(only_roads, "zhkh", None, "critical")
    assert urgent.first_response == working_hours(2)
    assert urgent.resolution == working_days(1)
    ordinary = resolve_policy([], "zhkh", None, "normal")
    assert ordinary.first_response == working_days(1)
    assert ordinary.resolution == working_days(10)
    assert resolve_policy([], None, None, "high") in DEFAULT_POLICIES


def test_urgent_case_on_friday_evening(clock: SlaClock) -> None:
    policy = resolve_policy([], "zhkh", "zhkh.water", "critical")
    deadlines = compute_deadlines(policy, clock, msk(2026, 11, 20, 17, 55))
    assert deadlines.first_response_due == msk(2026, 11, 23, 10, 55)
    assert deadlines.resolution_due == msk(2026, 11, 23, 17, 55)
    # Warned two working hours before the resolution deadline.
    assert deadlines.warn_at == msk(2026, 11, 23, 15, 55)
    assert deadlines.resolution_due.tzinfo is UTC


def test_ordinary_case_over_new_year(clock: SlaClock) -> None:
    policy = resolve_policy([], "roads", None, "normal")
    deadlines = compute_deadlines(policy, clock, msk(2026, 12, 30, 19, 40))
    assert deadlines.first_response_due == msk(2027, 1, 11, 18)
    assert deadlines.resolution_due == msk(2027, 1, 22, 18)
    assert deadlines.warn_at == msk(2027, 1, 20, 18)


def test_warn_before_as_fraction(clock: SlaClock) -> None:
    policy = DeadlinePolicy(resolution=working_days(10), warn_before=0.2)
    received = msk(2026, 11, 23, 9)
    deadlines = compute_deadlines(policy, clock, received)
    assert clock.between(received, deadlines.warn_at) == 8 * 8 * timedelta(hours=1)
    assert clock.between(deadlines.warn_at, deadlines.resolution_due) == timedelta(hours=16)


def test_pauses_move_every_deadline(clock: SlaClock) -> None:
    policy = DeadlinePolicy(first_response=working_hours(4), resolution=working_days(2))
    received = msk(2026, 11, 23, 10)
    plain = compute_deadlines(policy, clock, received)
    asked = (msk(2026, 11, 23, 11), msk(2026, 11, 24, 11))
    paused = compute_deadlines(policy, clock, received, [asked])
    assert paused.first_response_due == msk(2026, 11, 24, 15)
    assert paused.resolution_due - plain.resolution_due == timedelta(days=1)
    # An open pause counts as ending now: the earliest possible deadline.
    now = msk(2026, 11, 24, 11)
    ongoing = compute_deadlines(policy, clock, received, [(asked[0], None)], now=now)
    assert ongoing == paused
    with pytest.raises(ValueError, match="now"):
        compute_deadlines(policy, clock, received, [(asked[0], None)])


def test_clarification_window_is_calendar_time() -> None:
    policy = DeadlinePolicy()
    asked = msk(2026, 11, 20, 17)
    assert policy.clarification_due(asked) == msk(2026, 11, 23, 17)
    longer = DeadlinePolicy(clarification_window=timedelta(days=5))
    assert longer.clarification_due(asked) == msk(2026, 11, 25, 17)


def test_timedelta_durations_are_working_time() -> None:
    # Coerced at run time (JSON and forms hand in other types), hence the ignores.
    policy = DeadlinePolicy(
        first_response=timedelta(hours=2),  # type: ignore[arg-type]
        resolution=timedelta(hours=30),  # type: ignore[arg-type]
    )
    assert policy.first_response == working_hours(2)
    assert policy.resolution == working_hours(30)


def test_json_round_trip_through_the_database_form() -> None:
    stored = json.dumps(policies_to_json(LADDER + list(DEFAULT_POLICIES)), ensure_ascii=False)
    restored = policies_from_json(json.loads(stored))
    assert restored == LADDER + list(DEFAULT_POLICIES)
    admin_form = {
        "topic": "waste",
        "urgency": "high",
        "first_response": "1h",
        "resolution": "1d",
        "interim_answer": True,
        "clarification_window_days": 2,
        "warn_before": "3h",
    }
    policy = DeadlinePolicy.from_json(admin_form)
    assert policy.warn_before == working_hours(3)
    assert policy.clarification_window == timedelta(days=2)
    assert policy.label == "waste / high"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({"urgency": "срочно"}, "срочность «срочно» неизвестна"),
        ({"resolution": "10 дней"}, "не распознан"),
        ({"resolution": "0h"}, "больше нуля"),
        ({"warn_before": 1.5}, "между 0 и 1"),
        ({"clarification_window_days": -1}, "положительным"),
        ({"deadline": "1d"}, "неизвестные поля deadline"),
        ({"interim_answer": "да"}, "true или false"),
    ],
)
def test_bad_policies_say_what_to_fix(raw: dict[str, object], fragment: str) -> None:
    with pytest.raises(SlaConfigError, match=fragment):
        DeadlinePolicy.from_json(raw)


def test_bad_policy_in_a_list_is_named_by_position() -> None:
    with pytest.raises(SlaConfigError, match="Политика № 2"):
        policies_from_json([{"topic": "roads"}, {"resolution": "soon"}])
