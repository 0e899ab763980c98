"""Pydantic shapes of cases, answers, problems, rules and policies in the API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from otklik.bounds import (
    MAX_CALENDAR_YEAR,
    MAX_INT32,
    MIN_CALENDAR_YEAR,
    DbInt,
    RefId,
    check_calendar_day,
)
from otklik.channels.schemas import MessageRead
from otklik.models.case import CaseStatus
from otklik.paging import Page


class CaseRead(BaseModel):
    """A case in lists."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    region_code: str | None
    status: CaseStatus
    title: str
    topic: str | None
    subtopic: str | None
    kind: str | None
    urgency: str
    sentiment: str | None
    source: str | None
    municipality_id: int | None
    settlement_id: int | None
    street: str | None
    house: str | None
    executor_id: int | None
    assignee_id: int | None = None
    problem_id: int | None
    received_at: datetime
    updated_at: datetime
    first_response_due: datetime | None
    resolution_due: datetime | None
    answered_at: datetime | None
    closed_at: datetime | None
    escalation_level: int
    reopen_count: int
    handback_count: int
    reject_reason: str | None
    version: int


class CaseList(BaseModel):
    """A page of cases."""

    items: list[CaseRead]
    total: int
    limit: int
    offset: int


class EventRead(BaseModel):
    """A step of a case's history."""

    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor: str
    kind: str
    from_status: str | None
    to_status: str | None
    details: dict[str, Any]


class AnswerRead(BaseModel):
    """An answer with its brush-off check."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    text: str
    status: str
    author_id: int | None
    quality: dict[str, Any]
    moderation_comment: str | None
    created_at: datetime
    approved_at: datetime | None
    published_at: datetime | None


class ExtensionRead(BaseModel):
    """A request for more time."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    reason: str
    requested_until: datetime
    status: str
    created_at: datetime


class CaseDetail(CaseRead):
    """A case with its messages, history, answers, extensions and routing suggestion."""

    routing: dict[str, Any]
    messages: list[MessageRead]
    events: list[EventRead]
    answers: list[AnswerRead]
    extensions: list[ExtensionRead]
    remaining_seconds: float | None
    allowed_actions: list[str]


class CaseAction(BaseModel):
    """An action on a case with what it needs; ``version`` guards against lost updates."""

    version: DbInt | None = None
    executor_id: RefId | None = None
    reason: str | None = Field(default=None, max_length=2000)
    question: str | None = Field(default=None, max_length=5000)
    text: str | None = Field(default=None, max_length=20000)
    comment: str | None = Field(default=None, max_length=5000)
    until: datetime | None = None


class CaseEdit(BaseModel):
    """Corrections of what the machine decided."""

    version: DbInt | None = None
    changes: dict[str, Any]


class MergeRequest(BaseModel):
    """Cases to merge into a target."""

    target: DbInt
    others: list[DbInt] = Field(min_length=1)


class SplitRequest(BaseModel):
    """Messages to move into a new case."""

    message_ids: list[DbInt] = Field(min_length=1)


class AssignRequest(BaseModel):
    """Who works on the case now (null takes it back), with the version the caller saw."""

    assignee_id: RefId | None
    version: DbInt | None = None


class AssigneeRead(BaseModel):
    """A person a case may be given to."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    full_name: str
    role: str
    organization_id: int | None


class AssigneeList(Page[AssigneeRead]):
    """A page of the people a case may be given to."""


class ProblemRead(BaseModel):
    """A cluster of cases about one thing in one place."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    region_code: str | None
    title: str
    topic: str | None
    subtopic: str | None
    municipality_id: int | None
    settlement_id: int | None
    street: str | None
    status: str
    first_seen: datetime
    last_seen: datetime
    size: int


class ProblemList(Page[ProblemRead]):
    """A page of problems."""


class BulkAnswer(BaseModel):
    """One answer for every case of a problem."""

    text: str = Field(min_length=1, max_length=20000)


class RuleCreate(BaseModel):
    """A routing rule."""

    region_code: str = Field(pattern=r"^\d{2,3}$")
    executor_id: RefId
    topic: str | None = None
    subtopic: str | None = None
    territory_id: RefId | None = None
    position: int = Field(default=100, ge=0, le=MAX_INT32)
    note: str | None = None


class RuleRead(RuleCreate):
    """A stored routing rule."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    enabled: bool


class RuleList(Page[RuleRead]):
    """A page of a region's routing rules, in order."""


class HandbackRow(BaseModel):
    """An executor and how many cases were handed back from it (wrong routing)."""

    executor_id: int | None
    executor: str | None
    handbacks: int


class HandbackReport(Page[HandbackRow]):
    """A page of the routing report: executors, most hand-backs first."""


class PolicyCreate(BaseModel):
    """A deadline policy (see otklik.sla.policy for the fields)."""

    region_code: str | None = Field(default=None, pattern=r"^\d{2,3}$")
    position: int = Field(default=100, ge=0, le=MAX_INT32)
    policy: dict[str, Any]


class CalendarExceptionCreate(BaseModel):
    """A correction of the production calendar."""

    region_code: str | None = Field(default=None, pattern=r"^\d{2,3}$")
    day: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$",
                     description=f"YYYY-MM-DD, a real day of the years {MIN_CALENDAR_YEAR}-"
                                 f"{MAX_CALENDAR_YEAR}")
    kind: str = Field(pattern=r"^(holiday|workday|short_day)$")
    note: str = Field(default="", max_length=255)

    @field_validator("day")
    @classmethod
    def _real_day(cls, value: str) -> str:
        """A day that exists, in the years the calendar covers: one bad day would break the
        deadline of every case of the region."""
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value} is not a day of the calendar") from None
        return check_calendar_day(day).isoformat()


class CalendarExceptionRead(CalendarExceptionCreate):
    """A stored calendar correction."""

    model_config = ConfigDict(from_attributes=True)

    id: int
