"""Where a period stands against "now", and what it is fairly compared with.

A period that has not ended yet (December on 6 December) is compared with the same elapsed
time of the previous period (1 November 00:00 to 6 November at the same hour), never with the
whole of it: 6 days against 30 read as a collapse that did not happen. Its daily series stop
at today. Days and "now" are counted in the reporting time zone (Moscow time, the time of the
federal reports and of every daily count), so "today" is the same day the counts use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from otklik.analytics.schemas import (
    REPORT_TZ,
    AnalyticsFilter,
    PeriodState,
    day_start_utc,
    reporting_day,
)
from otklik.ru import plural

PeriodKind = Literal["month", "week", "quarter", "year", "days"]
MONTHS_GENITIVE = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
                   "сентября", "октября", "ноября", "декабря")
#: What a period of each kind is called in "за 6 дней <of what>", and its predecessor.
_OF_KIND: dict[PeriodKind, tuple[str, str]] = {
    "week": ("недели", "прошлой недели"), "quarter": ("квартала", "прошлого квартала"),
    "year": ("года", "прошлого года"), "days": ("периода", "предыдущего периода"),
}


def cut_at(flt: AnalyticsFilter, moment: datetime) -> AnalyticsFilter:
    """The filter ending at ``moment`` (unchanged when the moment is at or after its end;
    empty when it is at or before its start)."""
    if moment >= flt.end_utc:
        return flt
    day = reporting_day(moment)
    if day > flt.start and moment == day_start_utc(day):
        return flt.narrowed(end=day, until=None)
    return flt.narrowed(end=max(day, flt.start) + timedelta(days=1), until=moment)


def split_at_cut(flt: AnalyticsFilter
                 ) -> tuple[AnalyticsFilter | None, AnalyticsFilter | None]:
    """A filter cut inside a day as its whole days (the rollups answer them) and the cut day
    up to the cut (only the base tables do); either may be ``None``."""
    if flt.until is None:
        return flt, None
    day = reporting_day(flt.until)
    whole = flt.narrowed(end=day, until=None) if day > flt.start else None
    part = flt.narrowed(start=day) if flt.until > max(day_start_utc(day), flt.start_utc) \
        else None
    return whole, part


def kind_of(flt: AnalyticsFilter) -> PeriodKind:
    """Whether the filter is a calendar month, ISO week, quarter, year or any run of days."""
    start, end = flt.start, flt.end
    if start.day == 1 and end.day == 1:
        months = (end.year - start.year) * 12 + end.month - start.month
        if months == 1:
            return "month"
        if months == 3 and start.month % 3 == 1:
            return "quarter"
        if months == 12 and start.month == 1:
            return "year"
    if flt.days == 7 and start.isoweekday() == 1:
        return "week"
    return "days"


@dataclass(frozen=True)
class Progress:
    """A period seen at a moment: finished or not, how much of it has passed, and the
    previous period cut to the same elapsed time."""

    flt: AnalyticsFilter
    now: datetime
    previous: AnalyticsFilter

    @property
    def complete(self) -> bool:
        """The period is over (its last day has ended)."""
        return self.now >= self.flt.end_utc

    @property
    def started(self) -> bool:
        """The period has begun."""
        return self.now > self.flt.start_utc

    @property
    def last_day(self) -> date | None:
        """The last day that has begun (today for an unfinished period); None before the
        start."""
        if not self.started:
            return None
        return min(self.flt.end - timedelta(days=1), reporting_day(self.now))

    @property
    def elapsed_days(self) -> int:
        """Days of the period begun by now (today counts)."""
        last = self.last_day
        return 0 if last is None else (last - self.flt.start).days + 1

    def days(self) -> list[date]:
        """The days to draw: the period's days up to today, never a day still to come."""
        return [self.flt.start + timedelta(days=i) for i in range(self.elapsed_days)]

    # -- wording ----------------------------------------------------------------------------

    def _of(self, previous: bool) -> str:
        kind = kind_of(self.flt)
        if kind == "month":
            start = self.previous.start if previous else self.flt.start
            return MONTHS_GENITIVE[start.month - 1]
        return _OF_KIND[kind][1 if previous else 0]

    def part(self) -> str:
        """"6 дней декабря": the elapsed part of an unfinished period."""
        n = self.elapsed_days
        return f"{n} {plural(n, 'день', 'дня', 'дней')} {self._of(False)}"

    def same_part(self) -> str:
        """"те же 6 дней ноября": the part of the previous period it is compared with."""
        n = self.elapsed_days
        same = "тот же" if plural(n, "1", "2", "5") == "1" else "те же"
        return f"{same} {n} {plural(n, 'день', 'дня', 'дней')} {self._of(True)}"

    def same_part_dative(self) -> str:
        """"тем же 6 дням ноября" (for "+3 п. п. к …")."""
        n = self.elapsed_days
        same = "тому же" if plural(n, "1", "2", "5") == "1" else "тем же"
        return f"{same} {n} {plural(n, 'дню', 'дням', 'дням')} {self._of(True)}"

    def compared_with(self) -> str:
        """The previous period, named as the findings compare with it."""
        return "предыдущему периоду" if self.complete else self.same_part_dative()

    def state(self) -> PeriodState:
        """The period's state as the dashboard reports it."""
        until = self.previous.until
        last_prev = self.previous.end - timedelta(days=1)
        if self.complete:
            note = ""
        else:
            shown = self.now.astimezone(REPORT_TZ)
            window = f"{self.previous.start:%d.%m.%Y} — {last_prev:%d.%m.%Y}"
            if until is not None:
                window += f" до {until.astimezone(REPORT_TZ):%H:%M} МСК"
            note = (f"Период не закончен: данные на {shown:%d.%m.%Y %H:%M} МСК, прошло "
                    f"{self.elapsed_days} из {self.flt.days} "
                    f"{plural(self.flt.days, 'дня', 'дней', 'дней')}; сравнение — с тем же "
                    f"временем предыдущего периода ({window}).")
        # Moments in Moscow time: the page and the briefs print their hour as it is.
        return PeriodState(
            complete=self.complete, as_of=self.now.astimezone(REPORT_TZ), days=self.flt.days,
            elapsed_days=self.elapsed_days, previous_from=self.previous.start,
            previous_to=last_prev,
            previous_until=until.astimezone(REPORT_TZ) if until is not None else None,
            note=note)


def progress(flt: AnalyticsFilter, now: datetime) -> Progress:
    """Where ``flt`` stands at ``now``: an unfinished period is compared with the same
    elapsed time of the previous one (the whole previous period once this one is over, or
    when the previous one is shorter than the time elapsed)."""
    previous = flt.previous()
    if now < flt.end_utc:
        elapsed = max(now - flt.start_utc, timedelta(0))
        previous = cut_at(previous, previous.start_utc + elapsed)
    return Progress(flt, now, previous)
