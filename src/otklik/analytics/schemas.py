"""Analytics in and out: the filter every number is computed under, and the dashboard parts.

Every number the dashboard shows travels with ``drill``: the query parameters of
``GET /api/v1/analytics/drill`` that list the messages or cases behind it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from otklik.days import REPORT_TZ, day_start_utc, reporting_day  # noqa: F401 (re-exported)
from otklik.errors import InvalidInput
from otklik.paging import Page

DrillKind = Literal["messages", "cases"]
#: The ``topic`` filter value of messages and cases the classifier left without a topic.
NO_TOPIC = "none"
#: Narrowings of a drill-down beyond the filter (what a number is a count of).
DRILL_METRICS = (
    "answered", "on_time", "overdue", "brush_off", "reopened", "open_overdue",
)


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


def parse_period(text: str) -> tuple[date, date]:
    """``2026-11`` (a month), ``2026-W47`` (ISO week), ``2026-Q4``, ``2026``, ``2026-11-05``
    → ``[start, end)`` as reporting days."""
    text = text.strip()
    try:
        if m := _MONTH.match(text):
            start = date(int(m[1]), int(m[2]), 1)
            end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
            return start, end
        if m := _WEEK.match(text):
            start = date.fromisocalendar(int(m[1]), int(m[2]), 1)
            return start, start + timedelta(days=7)
        if m := _QUARTER.match(text):
            q = int(m[2])
            start = date(int(m[1]), 3 * q - 2, 1)
            end = date(start.year + (q == 4), (3 * q) % 12 + 1, 1)
            return start, end
        if m := _YEAR.match(text):
            return date(int(m[1]), 1, 1), date(int(m[1]) + 1, 1, 1)
        if _DAY.match(text):
            start = date.fromisoformat(text)
            return start, start + timedelta(days=1)
    except ValueError as exc:
        raise InvalidInput(f"period {text!r}: {exc}") from exc
    raise InvalidInput(f"period {text!r}: use 2026-11, 2026-W47, 2026-Q4, 2026 or 2026-11-05")


@dataclass(frozen=True)
class AnalyticsFilter:
    """What a dashboard looks at: ``[start, end)`` reporting days and optional narrowings."""

    start: date
    end: date
    region_code: str | None = None
    okrug: str | None = None
    municipality_id: int | None = None
    topic: str | None = None
    source: str | None = None
    #: The exclusive end moment when the period is cut inside its last day (the previous
    #: period of an unfinished one, compared up to the same elapsed time): see
    #: ``analytics/periods.py``. Never a query parameter: drill-downs list whole days.
    until: datetime | None = None

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidInput("the period is empty: its end must come after its start")
        if (self.end - self.start).days > 3 * 366:
            raise InvalidInput("the period is longer than three years: choose a shorter one")

    @property
    def days(self) -> int:
        """Length of the period in days."""
        return (self.end - self.start).days

    @property
    def start_utc(self) -> datetime:
        """Start as a UTC moment."""
        return day_start_utc(self.start)

    @property
    def end_utc(self) -> datetime:
        """End (exclusive) as a UTC moment (``until`` when the period is cut earlier)."""
        end = day_start_utc(self.end)
        return end if self.until is None else min(end, self.until)

    def previous(self) -> AnalyticsFilter:
        """The same filter over the period of equal length just before (a calendar month
        for a calendar month)."""
        if self.start.day == 1 and self.end.day == 1 and 28 <= self.days <= 31:
            prev_start = (self.start - timedelta(days=1)).replace(day=1)
            return replace(self, start=prev_start, end=self.start, until=None)
        return replace(self, start=self.start - timedelta(days=self.days), end=self.start,
                       until=None)

    def narrowed(self, **changes: Any) -> AnalyticsFilter:
        """A copy with some fields replaced (a drill into one topic, municipality, day)."""
        return replace(self, **changes)

    def params(self) -> dict[str, Any]:
        """The filter as query parameters (``date_to`` is the last day, inclusive)."""
        out: dict[str, Any] = {
            "date_from": self.start.isoformat(),
            "date_to": (self.end - timedelta(days=1)).isoformat(),
        }
        for key in ("region_code", "okrug", "municipality_id", "topic", "source"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    @classmethod
    def from_params(
        cls,
        *,
        period: str | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
        region_code: str | None = None,
        okrug: str | None = None,
        municipality_id: int | None = None,
        topic: str | None = None,
        source: str | None = None,
        today: date | None = None,
    ) -> AnalyticsFilter:
        """Build a filter from API/CLI parameters; the last 30 days when no period is given."""
        if period:
            start, end = parse_period(period)
        elif date_from or date_to:
            end = (date_to or (today or reporting_day(datetime.now(UTC)))) + timedelta(days=1)
            start = date_from or end - timedelta(days=30)
        else:
            end = (today or reporting_day(datetime.now(UTC))) + timedelta(days=1)
            start = end - timedelta(days=30)
        return cls(start=start, end=end, region_code=region_code or None, okrug=okrug or None,
                   municipality_id=municipality_id, topic=topic or None, source=source or None)


def drill(kind: DrillKind, flt: AnalyticsFilter, **extra: Any) -> dict[str, Any]:
    """Query parameters of the drill-down listing the rows behind a number."""
    params = {"kind": kind, **flt.params()}
    params.update({k: v for k, v in extra.items() if v is not None})
    return params


# ---- output ---------------------------------------------------------------------------------


class Point(BaseModel):
    """One value of a series (a day, a topic, a place) and its drill-down."""

    key: str
    label: str
    value: float
    drill: dict[str, Any]


class Series(BaseModel):
    """A named series of points."""

    name: str
    points: list[Point]


class Totals(BaseModel):
    """The headline numbers of the period and the previous one."""

    messages: int
    messages_previous: int
    messages_change_pct: float | None
    cases: int
    cases_previous: int
    negative_share: float | None
    drill_messages: dict[str, Any]
    drill_cases: dict[str, Any]


class TopicShare(BaseModel):
    """A topic's messages and share now and before, with the change in percentage points."""

    topic: str
    name: str
    messages: int
    share: float
    messages_previous: int
    share_previous: float
    change_pp: float
    drill: dict[str, Any]


class ProblemRow(BaseModel):
    """A problem (cluster) with its messages in the period and the trend."""

    problem_id: int
    title: str
    topic: str | None
    region_code: str | None
    municipality: str | None
    messages: int
    messages_previous: int
    trend: Literal["new", "up", "down", "flat"]
    drill: dict[str, Any]


class AreaRow(BaseModel):
    """A place on the map or in a breakdown: volume, population, rate per 10,000."""

    key: str
    name: str
    level: Literal["okrug", "region", "municipality"]
    messages: int
    cases: int
    population: int | None
    per_10k: float | None
    lat: float | None = None
    lon: float | None = None
    approximate: bool = False
    drill: dict[str, Any]


class Performance(BaseModel):
    """How an executor or a municipality handles cases received in the period."""

    key: str
    name: str
    cases: int
    answered: int
    on_time: int
    overdue: int
    open_overdue: int
    compliance: float | None = Field(description="on_time / (answered + open overdue)")
    overdue_share: float | None
    median_first_response_h: float | None
    median_resolution_h: float | None
    answers: int
    brush_offs: int
    brush_off_rate: float | None
    reopened: int
    reopen_rate: float | None
    drill: dict[str, dict[str, Any]]


class Rating(BaseModel):
    """A place in the rating with its score and the parts it was computed from."""

    rank: int
    key: str
    name: str
    score: float
    parts: dict[str, float]
    cases: int


class Ratings(BaseModel):
    """A rating and the formula it follows, shown to whoever reads it."""

    subject: Literal["executor", "municipality"]
    formula: str
    minimum_cases: int
    items: list[Rating]


class Finding(BaseModel):
    """A generated statement with its numbers and the query behind it."""

    code: str
    text: str
    numbers: dict[str, float]
    drill: dict[str, Any]
    related: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="drill-downs of the other numbers in the text")


class PeriodState(BaseModel):
    """Whether the period is over at ``as_of`` and what it is compared with: an unfinished
    period with the same elapsed time of the previous one (``previous_until``)."""

    complete: bool
    as_of: datetime = Field(description="the moment the period is seen at (now)")
    days: int
    elapsed_days: int = Field(description="days of the period begun by as_of (today counts)")
    previous_from: date
    previous_to: date = Field(description="last day of the compared window, inclusive")
    previous_until: datetime | None = Field(
        default=None, description="the compared window ends at this moment of previous_to")
    note: str = Field(default="", description="Russian: how an unfinished period is compared")


class Dashboard(BaseModel):
    """Everything a dashboard shows for one filter in one scope."""

    filter: dict[str, Any]
    previous: dict[str, Any]
    period: PeriodState
    level: Literal["federal", "okrug", "region", "municipality"]
    as_of: datetime | None = Field(
        default=None, description="message counts come from the rollup up to this moment")
    totals: Totals
    volume: list[Series]
    sentiment: list[Series]
    topics: list[TopicShare]
    problems: list[ProblemRow]
    areas: list[AreaRow]
    executors: list[Performance]
    municipalities: list[Performance]
    findings: list[Finding]


class DrillRow(BaseModel):
    """One message or case behind a number."""

    id: int
    at: datetime
    region_code: str | None
    topic: str | None
    title: str
    status: str | None = None


class DrillPage(BaseModel):
    """A page of the rows behind a number and their total (equal to the number)."""

    kind: DrillKind
    total: int
    items: list[DrillRow]
    limit: int
    offset: int


class CompareRow(BaseModel):
    """One region's indicators side by side with others."""

    region_code: str
    name: str
    okrug: str | None
    messages: int
    per_10k: float | None
    cases: int
    compliance: float | None
    overdue_share: float | None
    median_first_response_h: float | None
    brush_off_rate: float | None
    top_topic: str | None
    top_topic_share: float | None
    drill: dict[str, Any]


class FindingList(Page[Finding]):
    """A page of generated statements."""


class CompareList(Page[CompareRow]):
    """A page of regions side by side."""
