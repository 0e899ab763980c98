"""Production calendar, working hours and the SLA clock on real Russian dates and time zones."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from otklik.sla.calendar import (
    CalendarException,
    DayKind,
    ProductionCalendar,
    SlaClock,
    SlaConfigError,
    WorkDuration,
    WorkingHours,
    bundled_transfers,
    working_days,
    working_hours,
)

MSK = ZoneInfo("Europe/Moscow")


@pytest.fixture(scope="module")
def calendar() -> ProductionCalendar:
    return ProductionCalendar(years=range(2024, 2028))


@pytest.fixture(scope="module")
def moscow(calendar: ProductionCalendar) -> SlaClock:
    return SlaClock(calendar, WorkingHours.standard(), "Europe/Moscow")


def msk(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MSK)


def days_of(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=i) for i in range((date(year + 1, 1, 1) - first).days)]


# --- production calendar ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "working", "hours"),
    # Published norms for a 40-hour five-day week (Минтруд / КонсультантПлюс).
    [(2024, 248, 1979), (2025, 247, 1972), (2026, 247, 1972)],
)
def test_year_totals_match_the_official_production_calendar(
    calendar: ProductionCalendar, year: int, working: int, hours: int
) -> None:
    kinds = [calendar.day_kind(d) for d in days_of(year)]
    assert sum(k.is_working for k in kinds) == working
    assert 8 * working - sum(k is DayKind.SHORT_DAY for k in kinds) == hours


def test_moved_days_of_2024_decree(calendar: ProductionCalendar) -> None:
    # Saturdays 27 Apr, 2 Nov, 28 Dec 2024 were working; 29-30 Apr, 10 May, 30-31 Dec off.
    for saturday in (date(2024, 4, 27), date(2024, 11, 2), date(2024, 12, 28)):
        assert calendar.is_working_day(saturday)
    for day_off in (date(2024, 4, 29), date(2024, 4, 30), date(2024, 5, 10), date(2024, 12, 30)):
        assert calendar.day_kind(day_off) is DayKind.HOLIDAY
    assert "1314" in calendar.note(date(2024, 12, 30))
    assert calendar.stands_in_for(date(2024, 11, 2)) == date(2024, 4, 30)


def test_pre_holiday_short_days(calendar: ProductionCalendar) -> None:
    assert calendar.is_short_day(date(2025, 3, 7))  # Friday before 8 March (a Saturday)
    assert calendar.is_short_day(date(2025, 11, 1))  # working Saturday standing in for 3 Nov
    assert calendar.is_short_day(date(2026, 11, 3))
    # Not before a moved day off, nor before a plain weekend ahead of a holiday.
    assert not calendar.is_short_day(date(2024, 12, 28))
    assert not calendar.is_short_day(date(2025, 2, 21))
    assert not calendar.is_short_day(date(2026, 12, 30))


def test_bundled_decree_data_agrees_with_the_rule_and_the_package() -> None:
    bundled = ProductionCalendar()
    package_only = ProductionCalendar(use_bundled_data=False)
    package = holidays.country_holidays("RU", years=2026)
    if date(2026, 1, 9) not in package:
        pytest.skip("the installed holidays release predates the 2026 decree")
    for year in bundled_transfers():
        for day in days_of(year):
            assert bundled.day_kind(day) == package_only.day_kind(day), day


def test_admin_exception_wins_over_everything() -> None:
    cal = ProductionCalendar(
        [
            CalendarException(date(2027, 8, 30), "holiday", "День Республики Татарстан"),
            CalendarException(date(2026, 1, 9), "workday", "перенос отменён (проверка)"),
            CalendarException(date(2026, 11, 21), "workday", "рабочая суббота"),
            CalendarException(date(2026, 12, 30), "short_day", "решение главы региона"),
        ]
    )
    assert cal.day_kind(date(2027, 8, 30)) is DayKind.HOLIDAY
    assert cal.note(date(2027, 8, 30)) == "День Республики Татарстан"
    assert cal.day_kind(date(2026, 1, 9)) is DayKind.WORKDAY
    assert cal.is_working_day(date(2026, 11, 21))
    assert cal.is_short_day(date(2026, 12, 30))
    assert [e.day for e in cal.exceptions] == sorted(e.day for e in cal.exceptions)


def test_calendar_exception_validation_and_json() -> None:
    exc = CalendarException(date(2027, 6, 24), "holiday", "Сабантуй")
    assert CalendarException.from_json(exc.to_json()) == exc
    with pytest.raises(SlaConfigError, match="вид «weekend» неизвестен"):
        CalendarException(date(2027, 6, 24), "weekend")  # type: ignore[arg-type]
    with pytest.raises(SlaConfigError, match="ГГГГ-ММ-ДД"):
        CalendarException.from_json({"day": "24.06.2027", "kind": "holiday"})


def test_next_working_day_crosses_new_year(calendar: ProductionCalendar) -> None:
    assert calendar.next_working_day(date(2026, 12, 30)) == date(2027, 1, 11)


# --- working hours --------------------------------------------------------------------------


def test_working_hours_json_round_trip() -> None:
    raw = {
        "days": {
            **{str(d): [["09:00", "13:00"], ["13:45", "18:00"]] for d in range(4)},
            "4": [["09:00", "13:00"], ["13:45", "16:45"]],
        }
    }
    hours = WorkingHours.from_json(raw)
    assert WorkingHours.from_json(hours.to_json()) == hours
    # Mon-Thu are the normal day, not the short Friday.
    assert hours.normal_day_length == timedelta(hours=8, minutes=15)
    assert WorkingHours.from_json({"preset": "24/7"}).is_round_the_clock
    assert WorkingHours.round_the_clock().to_json() == {"preset": "24/7"}


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({"days": {"0": [["09:00", "13:00"], ["12:00", "18:00"]]}}, "пересекаются"),
        ({"days": {"0": [["22:00", "06:00"]]}}, "разбейте на две"),
        ({"days": {"0": [["9.00", "18:00"]]}}, "ЧЧ:ММ"),
        ({"days": {"7": [["09:00", "18:00"]]}}, "от 0 (понедельник)"),
        ({"days": {"0": "09:00-18:00"}}, "список интервалов"),
        ({"days": {}}, "ни одного рабочего интервала"),
        ({"hours": []}, 'нужен ключ "days"'),
        ({"preset": "круглый год"}, "шаблон"),
        ([["09:00", "18:00"]], "объектом"),
    ],
)
def test_invalid_working_hours_say_what_to_fix(raw: object, fragment: str) -> None:
    with pytest.raises(SlaConfigError, match=re.escape(fragment)):
        WorkingHours.from_json(raw)


def test_all_problems_are_listed_at_once() -> None:
    raw = {"days": {"0": [["09:00", "25:00"]], "2": [["18:00", "09:00"]]}}
    with pytest.raises(SlaConfigError) as info:
        WorkingHours.from_json(raw)
    assert len(info.value.errors) == 2
    assert "понедельник" in info.value.message and "среда" in info.value.message


def test_unknown_time_zone_is_refused(calendar: ProductionCalendar) -> None:
    with pytest.raises(SlaConfigError, match="Europe/Moscow"):
        SlaClock(calendar, WorkingHours.standard(), "Moscow/Kremlin")


# --- the clock ------------------------------------------------------------------------------


def test_friday_evening_two_hours_lands_on_monday(moscow: SlaClock) -> None:
    due = moscow.add(msk(2026, 11, 20, 17, 55), working_hours(2))
    assert due.tzinfo is UTC
    assert due.astimezone(MSK) == msk(2026, 11, 23, 10, 55)


def test_lunch_break_is_not_working_time(moscow: SlaClock) -> None:
    assert moscow.add(msk(2026, 11, 23, 12, 30), working_hours(1)) == msk(2026, 11, 23, 14, 30)
    assert moscow.add(msk(2026, 11, 23, 13, 20), timedelta(minutes=30)) == msk(
        2026, 11, 23, 14, 30
    )
    assert not moscow.is_working(msk(2026, 11, 23, 13, 30))
    assert moscow.next_working_moment(msk(2026, 11, 23, 13, 30)) == msk(2026, 11, 23, 14)
    assert moscow.between(msk(2026, 11, 23, 12), msk(2026, 11, 23, 15)) == timedelta(hours=2)


def test_deadline_ending_at_close_stays_on_that_day(moscow: SlaClock) -> None:
    assert moscow.add(msk(2026, 11, 23, 14), working_hours(4)) == msk(2026, 11, 23, 18)


def test_new_year_holidays_push_deadlines_past_january_11(moscow: SlaClock) -> None:
    received = msk(2026, 12, 30, 19, 40)
    assert moscow.add(received, working_hours(2)) == msk(2027, 1, 11, 11)
    assert moscow.add(received, working_days(1)) == msk(2027, 1, 11, 18)
    assert moscow.add(received, working_days(10)) == msk(2027, 1, 22, 18)
    assert moscow.next_working_moment(received) == msk(2027, 1, 11, 9)
    assert moscow.between(received, msk(2027, 1, 11, 9)) == timedelta(0)


def test_moved_working_saturday_counts(calendar: ProductionCalendar) -> None:
    plain = SlaClock(calendar, WorkingHours.standard(), "Europe/Moscow")
    moved = SlaClock(
        ProductionCalendar([CalendarException(date(2026, 11, 21), "workday", "перенос")]),
        WorkingHours.standard(),
        "Europe/Moscow",
    )
    friday = msk(2026, 11, 20, 17)
    assert plain.add(friday, working_hours(2)) == msk(2026, 11, 23, 10)
    assert moved.add(friday, working_hours(2)) == msk(2026, 11, 21, 10)
    assert moved.is_working(msk(2026, 11, 21, 12))


def test_pre_holiday_day_is_one_hour_shorter(calendar: ProductionCalendar) -> None:
    hours = WorkingHours.standard()
    clock = SlaClock(calendar, hours, "Europe/Moscow")
    # 3 Nov 2026 ends at 17:00 (4 Nov is Unity Day): 1 h on the 3rd, 1 h on the 5th.
    assert clock.add(msk(2026, 11, 3, 16), working_hours(2)) == msk(2026, 11, 5, 10)
    assert not clock.is_working(msk(2026, 11, 3, 17, 30))
    no_cut = WorkingHours(days=hours.days, shorten_pre_holiday=False)
    free = SlaClock(calendar, no_cut, "Europe/Moscow")
    assert free.add(msk(2026, 11, 3, 16), working_hours(2)) == msk(2026, 11, 3, 18)


def test_working_day_convention(moscow: SlaClock) -> None:
    # A full day: the same time on the next working day.
    assert moscow.add(msk(2026, 11, 23, 11), working_days(1)) == msk(2026, 11, 24, 11)
    # Received after hours: the whole next working day.
    assert moscow.add(msk(2026, 11, 20, 19), working_days(1)) == msk(2026, 11, 23, 18)
    # Across the short 3 Nov the executor gets the missing hour back on 5 Nov.
    assert moscow.add(msk(2026, 11, 3, 11), working_days(1)) == msk(2026, 11, 5, 12)


def test_working_saturday_keeps_the_hours_of_the_day_it_replaces(
    calendar: ProductionCalendar,
) -> None:
    hours = WorkingHours.from_json(
        {
            "days": {
                "0": [["08:00", "17:00"]],
                **{str(d): [["09:00", "18:00"]] for d in range(1, 5)},
            }
        }
    )
    clock = SlaClock(calendar, hours, "Europe/Moscow")
    # 1 Nov 2025 stands in for Monday 3 Nov, so it opens at 08:00 and is short (16:00).
    assert clock.next_working_moment(msk(2025, 11, 1, 7)) == msk(2025, 11, 1, 8)
    assert not clock.is_working(msk(2025, 11, 1, 16, 30))


def test_six_day_organization_works_plain_saturdays_not_holidays(
    calendar: ProductionCalendar,
) -> None:
    hours = WorkingHours.from_json({"days": {str(d): [["08:00", "20:00"]] for d in range(6)}})
    clock = SlaClock(calendar, hours, "Europe/Moscow")
    assert clock.is_working(msk(2026, 11, 21, 10))  # an ordinary Saturday
    assert not clock.is_working(msk(2026, 5, 9, 10))  # Victory Day on a Saturday


def test_pause_for_clarification_stops_the_clock(moscow: SlaClock) -> None:
    received = msk(2026, 11, 23, 10)
    assert moscow.add(received, working_days(1)) == msk(2026, 11, 24, 10)
    pause = (msk(2026, 11, 23, 12), msk(2026, 11, 24, 12))
    # 2 h before the pause, then 12-13, 14-18 on Tuesday, 1 h on Wednesday.
    assert moscow.add(received, working_days(1), [pause]) == msk(2026, 11, 25, 10)
    # Overlapping pauses count once; a pause at night changes nothing.
    overlapping = [pause, (msk(2026, 11, 23, 15), msk(2026, 11, 24, 9))]
    assert moscow.add(received, working_days(1), overlapping) == msk(2026, 11, 25, 10)
    night = [(msk(2026, 11, 23, 19), msk(2026, 11, 24, 8))]
    assert moscow.add(received, working_days(1), night) == msk(2026, 11, 24, 10)
    assert moscow.between(received, msk(2026, 11, 25, 10), [pause]) == timedelta(hours=8)
    with pytest.raises(ValueError, match="open pause"):
        moscow.add(received, working_days(1), [(msk(2026, 11, 23, 12), None)])


def test_remaining_is_negative_when_overdue(moscow: SlaClock) -> None:
    due = msk(2026, 11, 24, 10)
    assert moscow.remaining(due, msk(2026, 11, 23, 17)) == timedelta(hours=2)
    assert moscow.remaining(due, msk(2026, 11, 24, 15)) == -timedelta(hours=4)
    # Overdue across a weekend counts working time only.
    assert moscow.remaining(msk(2026, 11, 20, 17), msk(2026, 11, 23, 10)) == -timedelta(hours=2)


def test_remaining_is_frozen_during_an_open_pause(moscow: SlaClock) -> None:
    due = msk(2026, 11, 25, 18)
    open_pause = [(msk(2026, 11, 24, 11), None)]
    first = moscow.remaining(due, msk(2026, 11, 24, 15), open_pause)
    later = moscow.remaining(due, msk(2026, 11, 26, 15), open_pause)
    assert first == later == timedelta(hours=14)


def test_add_and_remaining_agree(moscow: SlaClock) -> None:
    received = msk(2026, 12, 28, 16, 20)
    pauses = [(msk(2026, 12, 29, 10), msk(2027, 1, 12, 9, 30))]
    due = moscow.add(received, working_days(3), pauses)
    for now in (received, msk(2026, 12, 29, 9, 15), msk(2027, 1, 12, 11)):
        left = moscow.remaining(due, now, pauses)
        assert moscow.add(now, left, pauses) == due


ZONES = {
    # zone: (local time of 06:30 UTC on Friday 20 Nov 2026, local deadline 2 working hours on)
    "Europe/Kaliningrad": ((8, 30), (20, 11, 0)),
    "Europe/Moscow": ((9, 30), (20, 11, 30)),
    "Europe/Samara": ((10, 30), (20, 12, 30)),
    "Asia/Yekaterinburg": ((11, 30), (20, 14, 30)),
    "Asia/Novosibirsk": ((13, 30), (20, 16, 0)),
    "Asia/Vladivostok": ((16, 30), (23, 9, 30)),
    "Asia/Kamchatka": ((18, 30), (23, 11, 0)),
}


@pytest.mark.parametrize("zone", list(ZONES))
def test_same_moment_different_zones_give_different_local_deadlines(
    calendar: ProductionCalendar, zone: str
) -> None:
    received = datetime(2026, 11, 20, 6, 30, tzinfo=UTC)
    (hour, minute), (day, due_hour, due_minute) = ZONES[zone]
    tz = ZoneInfo(zone)
    assert received.astimezone(tz).time().replace(second=0) == datetime(
        2026, 1, 1, hour, minute
    ).time()
    clock = SlaClock(calendar, WorkingHours.standard(), zone)
    due = clock.add(received, working_hours(2))
    assert due.astimezone(tz) == datetime(2026, 11, day, due_hour, due_minute, tzinfo=tz)


def test_zones_without_daylight_saving(calendar: ProductionCalendar) -> None:
    for zone in ("Europe/Moscow", "Europe/Samara", "Asia/Kamchatka"):
        tz = ZoneInfo(zone)
        assert datetime(2026, 1, 15, tzinfo=tz).utcoffset() == datetime(
            2026, 7, 15, tzinfo=tz
        ).utcoffset()
    clock = SlaClock(calendar, WorkingHours.standard(), "Europe/Moscow")
    # The last Sunday of October (the old switch date) changes nothing now.
    due = clock.add(msk(2026, 10, 23, 17), working_hours(2))
    assert due == datetime(2026, 10, 26, 7, 0, tzinfo=UTC)


def test_historic_offset_change_of_2014_is_respected() -> None:
    clock = SlaClock(ProductionCalendar(), WorkingHours.standard(), "Europe/Moscow")
    # Friday 24 Oct 2014 was UTC+4; on Sunday 26 Oct Moscow moved to UTC+3 for good.
    received = datetime(2014, 10, 24, 13, 0, tzinfo=UTC)  # 17:00 local
    assert clock.add(received, working_hours(2)) == datetime(2014, 10, 27, 7, 0, tzinfo=UTC)


def test_round_the_clock_service_ignores_holidays(calendar: ProductionCalendar) -> None:
    clock = SlaClock(calendar, WorkingHours.round_the_clock(), "Asia/Kamchatka")
    kam = ZoneInfo("Asia/Kamchatka")
    new_year_eve = datetime(2026, 12, 31, 23, 0, tzinfo=kam)
    assert clock.add(new_year_eve, working_hours(2)) == datetime(2027, 1, 1, 1, 0, tzinfo=kam)
    assert clock.add(new_year_eve, working_days(1)) == datetime(2027, 1, 1, 23, 0, tzinfo=kam)
    assert clock.is_working(datetime(2027, 1, 1, 3, 0, tzinfo=kam))
    assert clock.between(new_year_eve, new_year_eve + timedelta(days=3)) == timedelta(days=3)


def test_naive_datetimes_are_refused(moscow: SlaClock) -> None:
    with pytest.raises(ValueError, match="aware"):
        moscow.add(datetime(2026, 11, 20, 17, 55), working_hours(2))


def test_work_duration_forms() -> None:
    assert WorkDuration.parse("1d4h30m") == WorkDuration(days=1, minutes=270)
    assert WorkDuration.parse("1,5h") == working_hours(1.5)
    assert WorkDuration.parse({"days": 10}) == working_days(10)
    assert WorkDuration.parse(timedelta(hours=2)) == working_hours(2)
    assert str(WorkDuration(days=1, minutes=270)) == "1d4h30m"
    assert working_hours(2).describe_ru() == "2 рабочих часа"
    assert working_days(1).describe_ru() == "1 рабочий день"
    assert working_days(10).describe_ru() == "10 рабочих дней"
    assert working_days(21).describe_ru() == "21 рабочий день"
    for bad in ("two hours", "2 часа", "", "1.5d"):
        with pytest.raises(SlaConfigError):
            WorkDuration.parse(bad)
