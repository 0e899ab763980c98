"""Pydantic shapes of cases, answers, problems, rules and policies in the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from otklik.channels.schemas import MessageRead
from otklik.models.case import CaseStatus


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

    version: int | None = None
    executor_id: int | None = None
    reason: str | None = Field(default=None, max_length=2000)
    question: str | None = Field(default=None, max_length=5000)
    text: str | None = Field(default=None, max_length=20000)
    comment: str | None = Field(default=None, max_length=5000)
    until: datetime | None = None


class CaseEdit(BaseModel):
    """Corrections of what the machine decided."""

    version: int | None = None
    changes: dict[str, Any]


class MergeRequest(BaseModel):
    """Cases to merge into a target."""

    target: int
    others: list[int] = Field(min_length=1)


class SplitRequest(BaseModel):
    """Messages to move into a new case."""

    message_ids: list[int] = Field(min_length=1)


class AssignRequest(BaseModel):
    """Who works on the case now (null takes it back), with the version the caller saw."""

    assignee_id: int | None
    version: int | None = None


class AssigneeRead(BaseModel):
    """A person a case may be given to."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    full_name: str
    role: str
    organization_id: int | None


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


class ProblemList(BaseModel):
    """A page of problems."""

    items: list[ProblemRead]
    total: int


class BulkAnswer(BaseModel):
    """One answer for every case of a problem."""

    text: str = Field(min_length=1, max_length=20000)


class RuleCreate(BaseModel):
    """A routing rule."""

    region_code: str = Field(pattern=r"^\d{2,3}$")
    executor_id: int
    topic: str | None = None
    subtopic: str | None = None
    territory_id: int | None = None
    position: int = 100
    note: str | None = None


class RuleRead(RuleCreate):
    """A stored routing rule."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    enabled: bool


class PolicyCreate(BaseModel):
    """A deadline policy (see otklik.sla.policy for the fields)."""

    region_code: str | None = Field(default=None, pattern=r"^\d{2,3}$")
    position: int = 100
    policy: dict[str, Any]


class CalendarExceptionCreate(BaseModel):
    """A correction of the production calendar."""

    region_code: str | None = Field(default=None, pattern=r"^\d{2,3}$")
    day: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    kind: str = Field(pattern=r"^(holiday|workday|short_day)$")
    note: str = ""
