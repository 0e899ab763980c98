"""Reporting days: the federal reports count days and periods in Moscow time.

Shared by every domain that puts a moment on a day (analytics' rollups and filters, intake's
re-enrichment periods, reports); it imports nothing of the project.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

#: Days and periods are counted in Moscow time, the time of the federal reports.
REPORT_TZ = timezone(timedelta(hours=3), "MSK")

#: Cases received this many days back have their daily rollups re-counted on every refresh:
#: answers, reopenings and brush-off verdicts keep changing them for weeks. Older days are
#: refreshed completely by ``otklik report rollup --full`` (nightly).
CASE_WINDOW = timedelta(days=92)


def day_start_utc(day: date) -> datetime:
    """The UTC moment a reporting day starts."""
    return datetime(day.year, day.month, day.day, tzinfo=REPORT_TZ).astimezone(UTC)


def reporting_day(moment: datetime) -> date:
    """The reporting day of a moment."""
    return moment.astimezone(REPORT_TZ).date()
