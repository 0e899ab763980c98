"""Working time on the Russian production calendar, in the organization's own time zone.

Three pieces:

- ``ProductionCalendar`` says what kind each date is (working, short pre-holiday, weekend,
  holiday) from the ``holidays`` package, the bundled decree data (``data/ru_transfers.json``)
  and the admin's ``CalendarException`` list, in that order of increasing precedence.
- ``WorkingHours`` is an organization's weekly schedule (``{"days": {"0": [["09:00", "13:00"],
  ["14:00", "18:00"]], ...}}``) or the 24/7 preset.
- ``SlaClock`` counts working time: ``add`` (a deadline), ``between``, ``remaining``,
  ``is_working``, ``next_working_moment``, with pauses while the resident is asked to clarify.

Working days are counted by duration: ``working_days(n)`` is n times the organization's normal
working day (8 hours for 09:00-18:00 with lunch, 24 hours for 24/7). Received on Monday 11:00,
"1 working day" is due on Tuesday 11:00; received on Friday 19:00 it is due on Monday 18:00
(the whole of Monday). This equals "the same time of day on the next working day" whenever the
days in between have the normal length; around a short pre-holiday day or a short Friday the
deadline moves later by exactly the missing time, so the executor always gets the full hours.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from otklik.errors import InvalidInput
from otklik.ru import plural

__all__ = [
    "CalendarException",
    "DayKind",
    "Pause",
    "ProductionCalendar",
    "SlaClock",
    "SlaConfigError",
    "WorkDuration",
    "WorkingHours",
    "working_days",
    "working_hours",
]

ExceptionKind = Literal["holiday", "workday", "short_day"]
#: A pause of the clock: (from, to); ``to=None`` means the pause is still going on.
Pause = tuple[datetime, datetime | None]

#: Non-working public holidays of art. 112 of the Labour Code (since 2005): only the day
#: before one of these is shortened by an hour (art. 95), not the day before a moved day off.
ART_112_HOLIDAYS: frozenset[tuple[int, int]] = frozenset(
    [(1, d) for d in range(1, 9)] + [(2, 23), (3, 8), (5, 1), (5, 9), (6, 12), (11, 4)]
)
WEEKDAY_NAMES_RU = (
    "понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье",
)
_US = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAY = timedelta(days=1)
#: No deadline may need more than this many calendar days; guards against a schedule that
#: has no working time left (every day made a holiday by exceptions).
MAX_SPAN_DAYS = 3 * 366


class SlaConfigError(InvalidInput, ValueError):
    """Working hours, a time zone, a calendar exception or a policy is wrong; says what to fix."""

    def __init__(self, message: str, errors: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.errors = list(errors) or [message]


class DayKind(StrEnum):
    """What a calendar date is for a five-day week."""

    WORKDAY = "workday"
    SHORT_DAY = "short_day"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"

    @property
    def is_working(self) -> bool:
        """True for a full or a shortened working day."""
        return self in (DayKind.WORKDAY, DayKind.SHORT_DAY)


@dataclass(frozen=True, slots=True)
class CalendarException:
    """An admin's override for one date (a regional holiday, a moved working day); wins always."""

    day: date
    kind: ExceptionKind
    note: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("holiday", "workday", "short_day"):
            raise SlaConfigError(
                f"Исключение на {self.day:%d.%m.%Y}: вид «{self.kind}» неизвестен; "
                "допустимы holiday (выходной), workday (рабочий), short_day (сокращённый)."
            )

    def to_json(self) -> dict[str, str]:
        """Serialise as ``{"day": "2026-08-30", "kind": "holiday", "note": "..."}``."""
        return {"day": self.day.isoformat(), "kind": self.kind, "note": self.note}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> CalendarException:
        """Parse the ``to_json`` form; a bad date or kind raises ``SlaConfigError``."""
        try:
            day = date.fromisoformat(str(raw["day"]))
        except (KeyError, ValueError) as exc:
            raise SlaConfigError(
                f"Исключение календаря: дата «{raw.get('day')}» должна быть в виде ГГГГ-ММ-ДД."
            ) from exc
        return cls(day=day, kind=raw.get("kind", ""), note=str(raw.get("note") or ""))


@lru_cache(maxsize=1)
def bundled_transfers() -> dict[int, dict[str, Any]]:
    """The decree data shipped in ``data/ru_transfers.json``, by year."""
    text = resources.files("otklik.sla").joinpath("data/ru_transfers.json").read_text("utf-8")
    return {int(year): info for year, info in json.loads(text)["years"].items()}


def _package_substitutions(year: int) -> list[tuple[date, date]]:
    """(from, to) day-off transfers the ``holidays`` package knows for a year."""
    try:
        from holidays.countries.russia import RussiaStaticHolidays
    except ImportError:  # pragma: no cover - the layout of an older release
        return []
    raw = getattr(RussiaStaticHolidays, "special_public_holidays", {}).get(year, ())
    items = [raw] if raw and isinstance(raw[0], int) else list(raw)
    return [
        (date(year, item[2], item[3]), date(year, item[0], item[1]))
        for item in items
        if len(item) == 4
    ]


class ProductionCalendar:
    """The Russian production calendar (five-day week) with admin exceptions on top.

    Sources, later ones winning: weekends; public holidays and moved days of the ``holidays``
    package (``country_holidays("RU")`` lists the days off made by transfers and, in
    ``weekend_workdays``, the Saturdays made working); the bundled decree data for the years
    it covers (2024-2026, checked against each decree); the admin's exceptions. The day before
    an art. 112 holiday is short (art. 95); so is a working Saturday that stands in for such a
    day (1 Nov 2025 replaced 3 Nov). Years are built lazily and cached.
    """

    def __init__(
        self,
        exceptions: Iterable[CalendarException] = (),
        years: Iterable[int] = (),
        *,
        use_bundled_data: bool = True,
    ) -> None:
        self._exceptions: dict[date, CalendarException] = {}
        for exc in exceptions:
            self._exceptions[exc.day] = exc
        self._use_bundled = use_bundled_data
        self._kinds: dict[date, DayKind] = {}
        self._notes: dict[date, str] = {}
        self._stands_in_for: dict[date, date] = {}
        self._built: set[int] = set()
        for year in years:
            self._build(year)

    @property
    def exceptions(self) -> list[CalendarException]:
        """The admin's exceptions, by date."""
        return [self._exceptions[d] for d in sorted(self._exceptions)]

    def day_kind(self, day: date) -> DayKind:
        """What ``day`` is: workday, short_day, weekend or holiday."""
        kind = self._kinds.get(day)
        if kind is None:
            self._build(day.year)
            kind = self._kinds[day]
        return kind

    def is_working_day(self, day: date) -> bool:
        """True when ``day`` is a working day (full or short) on a five-day week."""
        return self.day_kind(day).is_working

    def is_short_day(self, day: date) -> bool:
        """True when ``day`` is a working day one hour shorter (before a holiday)."""
        return self.day_kind(day) is DayKind.SHORT_DAY

    def note(self, day: date) -> str:
        """Why ``day`` is special (holiday name, decree, admin's note); empty for a plain day."""
        self.day_kind(day)
        return self._notes.get(day, "")

    def stands_in_for(self, day: date) -> date | None:
        """For a weekend made working by a transfer, the weekday whose day off moved away."""
        self.day_kind(day)
        return self._stands_in_for.get(day)

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        probe = day + _DAY
        for _ in range(MAX_SPAN_DAYS):
            if self.is_working_day(probe):
                return probe
            probe += _DAY
        raise SlaConfigError(
            "В календаре нет ни одного рабочего дня за три года: проверьте исключения."
        )

    def working_days(self, start: date, end: date) -> int:
        """How many working days lie in ``[start, end]`` inclusive."""
        count, probe = 0, start
        while probe <= end:
            count += self.is_working_day(probe)
            probe += _DAY
        return count

    def _build(self, year: int) -> None:
        if year in self._built:
            return
        public = holidays.country_holidays("RU", years=year)
        workdays: set[date] = set(getattr(public, "weekend_workdays", set()))
        kinds: dict[date, DayKind] = {}
        day = date(year, 1, 1)
        while day.year == year:
            if day in public:
                kinds[day] = DayKind.HOLIDAY
                self._notes[day] = str(public.get(day))
            elif day.weekday() >= 5:
                kinds[day] = DayKind.WORKDAY if day in workdays else DayKind.WEEKEND
            else:
                kinds[day] = DayKind.WORKDAY
            day += _DAY
        for source, target in _package_substitutions(year):
            if source in workdays:
                self._stands_in_for[source] = target

        bundled = bundled_transfers().get(year) if self._use_bundled else None
        if bundled is not None:
            self._apply_decree(kinds, bundled)
        else:
            self._mark_short_days(kinds)

        for exc_day, exc in self._exceptions.items():
            if exc_day.year == year:
                kinds[exc_day] = DayKind(exc.kind)
                self._notes[exc_day] = exc.note or "исключение администратора"
        self._kinds.update(kinds)
        self._built.add(year)

    def _apply_decree(self, kinds: dict[date, DayKind], info: Mapping[str, Any]) -> None:
        decree = str(info.get("decree", ""))
        for item in info.get("transfers", ()):
            source, target = date.fromisoformat(item["from"]), date.fromisoformat(item["to"])
            kinds[target] = DayKind.HOLIDAY
            self._notes[target] = f"выходной (перенесён с {source:%d.%m.%Y}); {decree}".strip()
            if (source.month, source.day) not in ART_112_HOLIDAYS:
                kinds[source] = DayKind.WORKDAY
                self._stands_in_for[source] = target
                self._notes[source] = f"рабочий день (выходной перенесён на {target:%d.%m.%Y})"
        short_days = {date.fromisoformat(d) for d in info.get("short_days", ())}
        for day in short_days:
            if kinds.get(day) is DayKind.WORKDAY:
                kinds[day] = DayKind.SHORT_DAY

    def _mark_short_days(self, kinds: dict[date, DayKind]) -> None:
        # Art. 95: the working day right before an art. 112 holiday; a working Saturday counts
        # as the weekday it replaces (official practice: 2 Nov 2024, 1 Nov 2025, 20 Feb 2016).
        for day, kind in kinds.items():
            if kind is not DayKind.WORKDAY:
                continue
            follower = self._stands_in_for.get(day, day) + _DAY
            if (follower.month, follower.day) in ART_112_HOLIDAYS:
                kinds[day] = DayKind.SHORT_DAY


_TIME_RE = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")
Interval = tuple[int, int]  # minutes from local midnight, [start, end)


def _parse_time(raw: Any) -> int | None:
    match = _TIME_RE.match(str(raw).strip()) if isinstance(raw, str) else None
    if match is None:
        return None
    minutes = int(match.group(1)) * 60 + int(match.group(2))
    return minutes if minutes <= 24 * 60 else None


def _fmt(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class WorkingHours:
    """An organization's weekly schedule: weekday (0 = Monday) -> working intervals in minutes.

    ``observe_calendar`` makes public holidays and moved days count (off for 24/7 services);
    ``shorten_pre_holiday`` cuts the last hour of a pre-holiday day (art. 95).
    """

    days: Mapping[int, tuple[Interval, ...]]
    observe_calendar: bool = True
    shorten_pre_holiday: bool = True
    normal_day: tuple[Interval, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lengths = Counter(
            sum(e - s for s, e in ivs) for ivs in self.days.values() if ivs
        )
        if not lengths:
            raise SlaConfigError("Рабочие часы: не задано ни одного рабочего интервала.")
        # The most common day length is "normal" (Mon-Thu 8 h beats a short Friday).
        best = max(lengths.items(), key=lambda item: (item[1], item[0]))[0]
        normal = next(
            self.days[d] for d in sorted(self.days) if sum(e - s for s, e in self.days[d]) == best
        )
        object.__setattr__(self, "normal_day", normal)

    @property
    def normal_day_length(self) -> timedelta:
        """Length of a normal working day: the unit of ``working_days``."""
        return timedelta(minutes=sum(e - s for s, e in self.normal_day))

    @classmethod
    def standard(cls) -> WorkingHours:
        """Monday-Friday 09:00-18:00 with lunch 13:00-14:00 (the organization default)."""
        day = ((9 * 60, 13 * 60), (14 * 60, 18 * 60))
        return cls(days={d: day for d in range(5)})

    @classmethod
    def round_the_clock(cls) -> WorkingHours:
        """24/7 for emergency and duty services: every minute counts, holidays included."""
        return cls(
            days={d: ((0, 24 * 60),) for d in range(7)},
            observe_calendar=False,
            shorten_pre_holiday=False,
        )

    @property
    def is_round_the_clock(self) -> bool:
        """True when every minute of every day is working time."""
        return not self.observe_calendar and all(
            self.days.get(d) == ((0, 24 * 60),) for d in range(7)
        )

    def to_json(self) -> dict[str, Any]:
        """The organization JSON form (``{"preset": "24/7"}`` for round-the-clock)."""
        if self.is_round_the_clock:
            return {"preset": "24/7"}
        out: dict[str, Any] = {
            "days": {
                str(d): [[_fmt(s), _fmt(e)] for s, e in ivs]
                for d, ivs in sorted(self.days.items())
                if ivs
            }
        }
        if not self.observe_calendar:
            out["observe_calendar"] = False
        if not self.shorten_pre_holiday:
            out["shorten_pre_holiday"] = False
        return out

    @classmethod
    def from_json(cls, raw: Any) -> WorkingHours:
        """Parse ``{"days": {"0": [["09:00","13:00"], ...], ...}}`` or ``{"preset": "24/7"}``.

        A missing day is not worked. Every problem found is listed in the error, in Russian,
        saying what to change.
        """
        if not isinstance(raw, Mapping):
            raise SlaConfigError(
                'Рабочие часы должны быть объектом вида {"days": {"0": [["09:00", "18:00"]]}}.'
            )
        preset = raw.get("preset")
        if preset is not None:
            if str(preset).strip().lower() in ("24/7", "24x7", "круглосуточно"):
                return cls.round_the_clock()
            raise SlaConfigError(
                f"Рабочие часы: шаблон «{preset}» неизвестен; допустим только «24/7»."
            )
        days_raw = raw.get("days")
        if not isinstance(days_raw, Mapping):
            raise SlaConfigError(
                'Рабочие часы: нужен ключ "days" — объект, где ключ — номер дня недели '
                '(0 — понедельник, 6 — воскресенье), а значение — список интервалов '
                '[["09:00", "13:00"], ["14:00", "18:00"]].'
            )
        errors: list[str] = []
        days: dict[int, tuple[Interval, ...]] = {}
        for key, value in days_raw.items():
            weekday = int(key) if str(key).strip().isdigit() else -1
            if not 0 <= weekday <= 6:
                errors.append(
                    f"день «{key}»: номер дня недели должен быть от 0 (понедельник) "
                    "до 6 (воскресенье)"
                )
                continue
            intervals = _parse_day(WEEKDAY_NAMES_RU[weekday], value, errors)
            if intervals:
                days[weekday] = intervals
        for name in ("observe_calendar", "shorten_pre_holiday"):
            if name in raw and not isinstance(raw[name], bool):
                errors.append(f"«{name}» должно быть true или false")
        if not errors and not days:
            errors.append("не задано ни одного рабочего интервала: укажите хотя бы один день")
        if errors:
            raise SlaConfigError("Рабочие часы заданы неверно: " + "; ".join(errors) + ".", errors)
        return cls(
            days=days,
            observe_calendar=bool(raw.get("observe_calendar", True)),
            shorten_pre_holiday=bool(raw.get("shorten_pre_holiday", True)),
        )


def _parse_day(name: str, value: Any, errors: list[str]) -> tuple[Interval, ...]:
    if not isinstance(value, list | tuple):
        errors.append(f'{name}: нужен список интервалов вида [["09:00", "13:00"]]')
        return ()
    parsed: list[Interval] = []
    for item in value:
        if not isinstance(item, list | tuple) or len(item) != 2:
            errors.append(f"{name}: интервал {item!r} должен быть парой [начало, конец]")
            continue
        start, end = _parse_time(item[0]), _parse_time(item[1])
        if start is None or end is None:
            errors.append(
                f"{name}: время {item[0]!r}–{item[1]!r} должно быть в виде ЧЧ:ММ от 00:00 до 24:00"
            )
            continue
        if start >= end:
            errors.append(
                f"{name}: {_fmt(start)}–{_fmt(end)} — начало должно быть раньше конца; смену "
                "через полночь разбейте на две: до 24:00 и с 00:00 следующего дня"
            )
            continue
        parsed.append((start, end))
    parsed.sort()
    for (s1, e1), (s2, e2) in zip(parsed, parsed[1:], strict=False):
        if s2 < e1:
            errors.append(
                f"{name}: интервалы {_fmt(s1)}–{_fmt(e1)} и {_fmt(s2)}–{_fmt(e2)} пересекаются"
            )
    return tuple(parsed)


_DURATION_RE = re.compile(r"(\d+(?:[.,]\d+)?)\s*(d|h|m)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class WorkDuration:
    """An amount of working time: whole working days plus minutes.

    Days are resolved against the clock's normal working day (``working_days`` convention in
    the module docstring). JSON form: ``"2h"``, ``"1d"``, ``"10d"``, ``"1d4h30m"``.
    """

    days: int = 0
    minutes: int = 0

    def __post_init__(self) -> None:
        if self.days < 0 or self.minutes < 0:
            raise SlaConfigError("Срок не может быть отрицательным.")

    @property
    def is_zero(self) -> bool:
        """True for no time at all."""
        return self.days == 0 and self.minutes == 0

    def to_timedelta(self, day_length: timedelta) -> timedelta:
        """Working time for a day of ``day_length``."""
        return self.days * day_length + timedelta(minutes=self.minutes)

    def __str__(self) -> str:
        hours, minutes = divmod(self.minutes, 60)
        parts = [f"{self.days}d" if self.days else "", f"{hours}h" if hours else ""]
        parts.append(f"{minutes}m" if minutes else "")
        return "".join(parts) or "0m"

    def to_json(self) -> str:
        """Compact form, e.g. ``"1d4h"``."""
        return str(self)

    @classmethod
    def parse(cls, raw: Any) -> WorkDuration:
        """Parse ``"2h"``, ``"1d 4h"``, ``"90m"``, ``{"days": 1, "hours": 2}`` or a timedelta."""
        if isinstance(raw, WorkDuration):
            return raw
        if isinstance(raw, timedelta):
            return cls(minutes=round(raw / timedelta(minutes=1)))
        if isinstance(raw, Mapping):
            try:
                days = int(raw.get("days", 0))
                minutes = round(float(raw.get("hours", 0)) * 60 + float(raw.get("minutes", 0)))
            except (TypeError, ValueError) as exc:
                raise SlaConfigError(f"Срок {dict(raw)!r}: числа дней и часов неверны.") from exc
            return cls(days=days, minutes=minutes)
        text = str(raw).strip().replace(" ", "")
        parts = _DURATION_RE.findall(text)
        if not text or "".join(n + u for n, u in parts).lower() != text.lower():
            raise SlaConfigError(
                f"Срок «{raw}» не распознан: пишите, например, 2h (2 рабочих часа), "
                "1d (1 рабочий день), 1d4h, 90m."
            )
        day_count, minute_count = 0.0, 0.0
        for number, unit in parts:
            value = float(number.replace(",", "."))
            if unit.lower() == "d":
                day_count += value
            else:
                minute_count += value * (60 if unit.lower() == "h" else 1)
        if day_count != int(day_count):
            raise SlaConfigError(f"Срок «{raw}»: дни должны быть целыми (используйте часы: 4h).")
        return cls(days=int(day_count), minutes=round(minute_count))

    def describe_ru(self) -> str:
        """Russian wording for answers: "1 рабочий день", "2 рабочих часа", "30 минут"."""
        hours, minutes = divmod(self.minutes, 60)
        words = (
            (self.days, ("рабочий день", "рабочих дня", "рабочих дней")),
            (hours, ("рабочий час", "рабочих часа", "рабочих часов")),
            (minutes, ("минута", "минуты", "минут")),
        )
        parts = [f"{n} {plural(n, *forms)}" for n, forms in words if n]
        return " ".join(parts) or "0 минут"


def working_days(n: int) -> WorkDuration:
    """``n`` full working days (n x the organization's normal working day)."""
    return WorkDuration(days=n)


def working_hours(n: float) -> WorkDuration:
    """``n`` working hours (fractions allowed: 1.5 = 90 minutes)."""
    return WorkDuration(minutes=round(n * 60))


def _to_us(moment: datetime) -> int:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"SlaClock needs an aware datetime, got naive {moment.isoformat()}")
    return (moment - _EPOCH) // _US


def _from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


class SlaClock:
    """Counts working time for one organization: its calendar, hours and time zone.

    Aware datetimes in (any zone), aware UTC datetimes out. Each call walks the local days it
    spans once (O(days)); each day's working intervals are computed once and cached, so keep
    one clock per organization (and per calendar version).
    """

    def __init__(self, calendar: ProductionCalendar, hours: WorkingHours, tz: str) -> None:
        try:
            self.zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SlaConfigError(
                f"Часовой пояс «{tz}» неизвестен: укажите имя из базы IANA, например "
                "Europe/Moscow, Europe/Samara, Asia/Yekaterinburg, Asia/Vladivostok."
            ) from exc
        self.calendar = calendar
        self.hours = hours
        self.tz = tz
        self._day_length = hours.normal_day_length
        self._cache: dict[date, tuple[tuple[int, int], ...]] = {}

    def duration(self, amount: timedelta | WorkDuration) -> timedelta:
        """Working time of ``amount``, resolving working days to this organization's day."""
        if isinstance(amount, WorkDuration):
            return amount.to_timedelta(self._day_length)
        return amount

    def local_intervals(self, day: date) -> tuple[Interval, ...]:
        """Working intervals (minutes from local midnight) of a local date."""
        hours = self.hours
        weekday = day.weekday()
        if not hours.observe_calendar:
            return tuple(hours.days.get(weekday, ()))
        kind = self.calendar.day_kind(day)
        if kind is DayKind.HOLIDAY:
            return ()
        if kind is DayKind.WEEKEND:
            return tuple(hours.days.get(weekday, ()))
        intervals = hours.days.get(weekday)
        if not intervals:
            # A moved working Saturday keeps the hours of the weekday it replaces.
            substitute = self.calendar.stands_in_for(day)
            if substitute is not None:
                intervals = hours.days.get(substitute.weekday())
            intervals = intervals or hours.normal_day
        if kind is DayKind.SHORT_DAY and hours.shorten_pre_holiday:
            return _trim_end(tuple(intervals), 60)
        return tuple(intervals)

    def _intervals(self, day: date) -> tuple[tuple[int, int], ...]:
        cached = self._cache.get(day)
        if cached is None:
            midnight = datetime.combine(day, time.min, tzinfo=self.zone)
            out = []
            for start, end in self.local_intervals(day):
                # Wall-clock arithmetic on purpose: the offset is taken at each local time.
                a = _to_us((midnight + timedelta(minutes=start)).astimezone(UTC))
                b = _to_us((midnight + timedelta(minutes=end)).astimezone(UTC))
                if b > a:
                    out.append((a, b))
            cached = self._cache[day] = tuple(out)
        return cached

    def _local_date(self, us: int) -> date:
        return _from_us(us).astimezone(self.zone).date()

    def add(
        self,
        start: datetime,
        duration: timedelta | WorkDuration,
        pauses: Iterable[Pause] = (),
    ) -> datetime:
        """The moment when ``duration`` of working time has elapsed after ``start``.

        The clock stops during each pause. A duration that ends exactly at the close of a
        working interval gives that close (18:00), not the next opening.
        """
        left = self.duration(duration) // _US
        if left < 0:
            raise ValueError("duration must not be negative")
        now = _to_us(start)
        if left == 0:
            return _from_us(now)
        stops = _merge_pauses(pauses)
        day = self._local_date(now)
        cache, intervals = self._cache, self._intervals
        for _ in range(MAX_SPAN_DAYS):
            for a, b in cache.get(day) or intervals(day):
                if b <= now:
                    continue
                if a < now:
                    a = now
                if not stops:  # the common case, kept free of the generator
                    if left <= b - a:
                        return _from_us(a + left)
                    left -= b - a
                    continue
                for x, y in _subtract(a, b, stops):
                    if left <= y - x:
                        return _from_us(x + left)
                    left -= y - x
            day += _DAY
        raise SlaConfigError(
            "Срок не помещается в три года рабочего времени: проверьте рабочие часы и исключения."
        )

    def between(self, a: datetime, b: datetime, pauses: Iterable[Pause] = ()) -> timedelta:
        """Working time from ``a`` to ``b`` minus pauses (negative when ``b`` is before ``a``)."""
        lo, hi = _to_us(a), _to_us(b)
        if hi < lo:
            return -self.between(b, a, pauses)
        stops = _merge_pauses(pauses)
        total = 0
        day, last = self._local_date(lo), self._local_date(hi)
        cache, intervals = self._cache, self._intervals
        while day <= last:
            for x, y in cache.get(day) or intervals(day):
                x, y = max(x, lo), min(y, hi)
                if x < y:
                    total += (
                        sum(q - p for p, q in _subtract(x, y, stops)) if stops else y - x
                    )
            day += _DAY
        return timedelta(microseconds=total)

    def remaining(
        self, deadline: datetime, now: datetime, pauses: Iterable[Pause] = ()
    ) -> timedelta:
        """Working time left until ``deadline`` at ``now``; negative when overdue.

        An open pause (``to=None``) that began before ``now`` freezes the clock at its start:
        while the resident is being asked, the executor's time does not run out.
        """
        pauses = list(pauses)
        frozen = [_to_us(p[0]) for p in pauses if p[1] is None and p[0] <= now]
        moment = _from_us(min(frozen)) if frozen else now
        closed = [p for p in pauses if p[1] is not None]
        return self.between(moment, deadline, closed)

    def is_working(self, moment: datetime) -> bool:
        """True when ``moment`` falls in a working interval of the organization."""
        t = _to_us(moment)
        return any(a <= t < b for a, b in self._intervals(self._local_date(t)))

    def next_working_moment(self, moment: datetime) -> datetime:
        """``moment`` itself (in UTC) if working, otherwise the next opening."""
        t = _to_us(moment)
        day = self._local_date(t)
        for _ in range(MAX_SPAN_DAYS):
            for a, b in self._intervals(day):
                if t < b:
                    return _from_us(max(a, t))
            day += _DAY
        raise SlaConfigError("Нет рабочего времени в ближайшие три года: проверьте рабочие часы.")


def _trim_end(intervals: tuple[Interval, ...], minutes: int) -> tuple[Interval, ...]:
    out = list(intervals)
    while minutes > 0 and out:
        start, end = out[-1]
        cut = min(minutes, end - start)
        minutes -= cut
        if end - cut > start:
            out[-1] = (start, end - cut)
        else:
            out.pop()
    return tuple(out)


def _merge_pauses(pauses: Iterable[Pause]) -> list[tuple[int, int]]:
    spans = []
    for begin, end in pauses:
        if end is None:
            raise ValueError(
                "an open pause (to=None) has no end: close it at `now` or use remaining()"
            )
        lo, hi = _to_us(begin), _to_us(end)
        if hi > lo:
            spans.append((lo, hi))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _subtract(lo: int, hi: int, stops: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """Pieces of ``[lo, hi)`` outside the merged pauses ``stops``."""
    if not stops:
        if lo < hi:
            yield lo, hi
        return
    for p_lo, p_hi in stops:
        if p_hi <= lo:
            continue
        if p_lo >= hi:
            break
        if p_lo > lo:
            yield lo, p_lo
        lo = max(lo, p_hi)
        if lo >= hi:
            return
    if lo < hi:
        yield lo, hi
