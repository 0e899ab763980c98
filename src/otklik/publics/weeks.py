"""ISO weeks (``2026-W49``) counted in Moscow time, the time of the federal reports."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from otklik.days import day_start_utc, reporting_day
from otklik.errors import InvalidInput

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class Week:
    """One ISO week: Monday to Sunday in Moscow time."""

    monday: date

    @classmethod
    def parse(cls, text: str) -> Week:
        """A week from ``YYYY-Www``."""
        match = _WEEK.match((text or "").strip())
        if not match:
            raise InvalidInput(f"week {text!r}: write it as YYYY-Www, e.g. 2026-W49")
        try:
            return cls(date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1))
        except ValueError:
            raise InvalidInput(f"week {text!r} does not exist") from None

    @classmethod
    def of(cls, moment: datetime | date) -> Week:
        """The week a moment (or a day) falls in."""
        day = reporting_day(moment) if isinstance(moment, datetime) else moment
        return cls(day - timedelta(days=day.weekday()))

    @property
    def label(self) -> str:
        """``YYYY-Www``."""
        year, number, _ = self.monday.isocalendar()
        return f"{year}-W{number:02d}"

    @property
    def next_monday(self) -> date:
        """The Monday after the week."""
        return self.monday + timedelta(days=7)

    @property
    def start(self) -> datetime:
        """The moment the week starts (UTC)."""
        return day_start_utc(self.monday)

    @property
    def end(self) -> datetime:
        """The moment the week ends (UTC), exclusive."""
        return day_start_utc(self.next_monday)

    def previous(self) -> Week:
        """The week before."""
        return Week(self.monday - timedelta(days=7))

    def __str__(self) -> str:
        return self.label
