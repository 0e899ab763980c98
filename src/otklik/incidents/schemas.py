"""Incidents in and out (API ``/api/v1/incidents``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from otklik.bounds import DbInt, RefId
from otklik.paging import Page


class PendingAnswer(BaseModel):
    """The one answer for every linked case, proposed and not yet approved."""

    text: str
    by: str
    by_id: int | None = None
    at: datetime


class IncidentRead(BaseModel):
    """An incident as the center sees it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    kind: str
    hazard: str | None
    topic: str | None
    region_code: str | None
    municipality_id: int | None
    settlement_id: int | None
    territory_ids: list[int]
    severity: str
    status: str
    people_affected: int | None = Field(description="an estimate from the territories' "
                                                    "population")
    organization_ids: list[int]
    hq_person: str | None
    opened_by: str
    merged_into_id: int | None
    summary: str | None
    started_at: datetime
    acknowledged_at: datetime | None
    closed_at: datetime | None
    pending_answer: PendingAnswer | None = Field(
        default=None, description="the bulk answer proposed and waiting for a second person")
    messages: int = 0
    cases: int = 0


class IncidentList(Page[IncidentRead]):
    """A page of incidents."""


class TimelineEntry(BaseModel):
    """One step of an incident: what, who, when."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    kind: str
    author: str
    text: str
    details: dict[str, Any]


class UpdateRead(BaseModel):
    """A public update and where it was published."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    text: str
    author: str
    created_at: datetime
    deliveries: dict[str, Any]


class TimelineList(Page[TimelineEntry]):
    """A page of an incident's steps, in time order."""


class UpdateList(Page[UpdateRead]):
    """A page of an incident's public updates, newest first."""


class UpdateCreate(BaseModel):
    """A public update for residents."""

    text: str = Field(min_length=5, max_length=4000)


class IncidentOpen(BaseModel):
    """Open an incident by hand from one case or one problem."""

    case_id: DbInt | None = None
    problem_id: DbInt | None = None
    title: str | None = Field(default=None, max_length=300)
    severity: str = Field(default="high", pattern=r"^(normal|high|critical)$")
    hq_person: str | None = Field(default=None, max_length=255)


class IncidentChange(BaseModel):
    """Changes to an incident."""

    title: str | None = Field(default=None, min_length=3, max_length=300)
    severity: str | None = Field(default=None, pattern=r"^(normal|high|critical)$")
    people_affected: DbInt | None = None
    hq_person: str | None = Field(default=None, max_length=255)
    organization_ids: list[RefId] | None = None
    status: str | None = Field(default=None, pattern=r"^(acknowledged|in_work|resolved)$")


class IncidentClose(BaseModel):
    """Close with a summary."""

    summary: str = Field(min_length=10, max_length=10000)


class AnswerPropose(BaseModel):
    """One answer for every linked case (another person approves it)."""

    text: str = Field(min_length=1, max_length=20000)


class AnswerSent(BaseModel):
    """What the approved answer did to the linked cases."""

    answered: int = Field(description="cases answered now through the cases' path")
    already: int = Field(description="cases answered, closed or rejected before: left as they "
                                     "are")
    not_routed: int = Field(description="cases still in triage (no executor yet): not answered")
    failed: int = Field(description="cases the cases' path refused (logged)")


class IncidentMerge(BaseModel):
    """Fold another incident into this one."""

    source_id: RefId


class ThresholdRead(BaseModel):
    """Stored overrides of the detector's thresholds for a region and/or topic ('' = any)."""

    model_config = ConfigDict(from_attributes=True)

    region_code: str
    topic: str
    values: dict[str, float]
    updated_at: datetime


class ThresholdList(Page[ThresholdRead]):
    """A page of the stored overrides (``items``), with the detector's defaults (durations in
    minutes) they override."""

    defaults: dict[str, float]


class ThresholdSet(BaseModel):
    """Overrides of one region and/or topic; an empty ``values`` removes them."""

    region_code: str = Field(default="", pattern=r"^(\d{2,3})?$")
    topic: str = Field(default="", max_length=64)
    values: dict[str, float | None] = Field(default_factory=dict, max_length=30)
