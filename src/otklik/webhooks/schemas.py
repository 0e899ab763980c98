"""Webhook payloads (a stable schema, documented in the OpenAPI under ``webhooks``) and the
subscription API's shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field

from otklik.paging import Page


class CaseData(BaseModel):
    """A case as integrators see it: no resident's text or personal data."""

    id: int
    status: str
    topic: str | None = None
    subtopic: str | None = None
    urgency: str
    region_code: str | None = None
    municipality_oktmo: str | None = None
    executor_id: int | None = None
    executor_name: str | None = None
    received_at: datetime
    resolution_due: datetime | None = None
    answered_at: datetime | None = None
    closed_at: datetime | None = None
    escalation_level: int = 0
    url: str = Field(description="the case card in Otklik (login needed)")


class CaseRoutedData(CaseData):
    """``case.routed``: the case and why it went to this executor."""

    reason: str | None = None


class CaseAnsweredData(CaseData):
    """``case.answered``: the case and the answer's id."""

    answer_id: int | None = None


class CaseClosedData(CaseData):
    """``case.closed``: the case and the step that closed it."""

    reason: str


class CaseOverdueData(CaseData):
    """``case.overdue``: the case and the escalation level (2 curator, 3 head)."""

    level: int


class _Envelope(BaseModel):
    id: str = Field(description="the event's id: the same for every retry of it")
    created_at: datetime = Field(description="when the event was turned into this payload")


class CaseCreatedPayload(_Envelope):
    """Body of ``case.created``."""

    event: Literal["case.created"] = "case.created"
    data: CaseData


class CaseRoutedPayload(_Envelope):
    """Body of ``case.routed``."""

    event: Literal["case.routed"] = "case.routed"
    data: CaseRoutedData


class CaseAnsweredPayload(_Envelope):
    """Body of ``case.answered``."""

    event: Literal["case.answered"] = "case.answered"
    data: CaseAnsweredData


class CaseClosedPayload(_Envelope):
    """Body of ``case.closed``."""

    event: Literal["case.closed"] = "case.closed"
    data: CaseClosedData


class CaseOverduePayload(_Envelope):
    """Body of ``case.overdue``."""

    event: Literal["case.overdue"] = "case.overdue"
    data: CaseOverdueData


# -- the subscription API ----------------------------------------------------------------------


class SubscriptionCreate(BaseModel):
    """A new subscription."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255)
    url: AnyHttpUrl
    events: list[str] = Field(min_length=1, max_length=50)
    region_code: str | None = Field(default=None, pattern=r"^\d{2,3}$",
                                    description="one region; empty: every region you see")


class SubscriptionUpdate(BaseModel):
    """A change: any field; ``is_active`` true switches a disabled subscription back on."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=255)
    url: AnyHttpUrl | None = None
    events: list[str] | None = Field(default=None, min_length=1, max_length=50)
    is_active: bool | None = None


class SubscriptionRead(BaseModel):
    """A subscription (its secret is shown only once, when created)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    url: str
    events: list[str]
    region_code: str | None
    owner_id: int | None
    is_active: bool
    consecutive_failures: int
    disabled_at: datetime | None
    disabled_reason: str | None
    created_at: datetime


class SubscriptionCreated(SubscriptionRead):
    """The new subscription with its signing secret: keep it, it is not shown again."""

    secret: str


class SubscriptionList(BaseModel):
    """A page of subscriptions."""

    items: list[SubscriptionRead]
    total: int
    limit: int
    offset: int


class AttemptRead(BaseModel):
    """One try of a delivery."""

    model_config = ConfigDict(from_attributes=True)

    number: int
    started_at: datetime
    duration_ms: int
    ok: bool
    status_code: int | None
    response: str | None
    error: str | None


class DeliveryRead(BaseModel):
    """A delivery of an event to a subscription, with its attempts."""

    id: int
    event: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None
    tries: list[AttemptRead]


class DeliveryList(BaseModel):
    """A page of deliveries, newest first."""

    items: list[DeliveryRead]
    total: int
    limit: int
    offset: int


class EventInfo(BaseModel):
    """An event a subscription may ask for."""

    name: str
    description: str


class EventList(Page[EventInfo]):
    """A page of the events a subscription may ask for, by name."""
