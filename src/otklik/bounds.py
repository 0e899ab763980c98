"""Bounds on what the API accepts, shared by every schema and endpoint.

A number or a date outside what the database and the calendar can hold is refused at the
door with a 422 that names the field, instead of failing deep inside as a 500.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from annotated_types import Ge, Le

#: The largest integer a database key holds (PostgreSQL BIGINT, SQLite INTEGER).
MAX_DB_INT = 2**63 - 1
#: The largest value of a 32-bit INTEGER column (positions, counters an admin sets).
MAX_INT32 = 2**31 - 1

#: Every id, limit and offset of the API: an integer a database column can hold.
#: Path ids, query filters, paging and ids inside request bodies all use it, so a number
#: beyond 64 bits is a 422 (or an unknown id a 404), never an overflow in the driver.
DbInt = Annotated[int, Ge(0), Le(MAX_DB_INT)]

#: The same for the ids of reference tables (organizations, territories, users, decisions,
#: connectors, calendar corrections, extensions, tokens …), whose keys are 32-bit INTEGER:
#: PostgreSQL refuses to compare a larger number with them ("integer out of range").
RefId = Annotated[DbInt, Le(MAX_INT32)]

#: Days an admin may put on the production calendar (the calendar data covers these years).
MIN_CALENDAR_YEAR, MAX_CALENDAR_YEAR = 2000, 2100

#: The times a message may carry: the first social networks to the calendar's end.
EARLIEST_MESSAGE = datetime(1990, 1, 1, tzinfo=UTC)
LATEST_MESSAGE = datetime(MAX_CALENDAR_YEAR, 12, 31, 23, 59, 59, tzinfo=UTC)


def check_calendar_day(value: date) -> date:
    """``value`` when its year is one the production calendar covers, else ValueError."""
    if not MIN_CALENDAR_YEAR <= value.year <= MAX_CALENDAR_YEAR:
        raise ValueError(f"the day must be in the years {MIN_CALENDAR_YEAR}-{MAX_CALENDAR_YEAR}")
    return value


def check_message_time(value: datetime) -> datetime:
    """``value`` (timezone-aware) when it lies in the range messages may carry, else ValueError.

    The comparison is done without converting to UTC first: ``0001-01-01T00:00+14:00`` has no
    UTC equivalent and must get this message, not an overflow.
    """
    earliest, latest = EARLIEST_MESSAGE.date(), LATEST_MESSAGE.date()
    if not earliest < value.date() < latest:
        raise ValueError(f"the time must lie between {earliest.isoformat()} and "
                         f"{latest.isoformat()}")
    return value
