"""Decisions in and out."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from otklik.bounds import DbInt, RefId
from otklik.paging import Page


class DecisionLinks(BaseModel):
    """What a decision answers: problems, topics, territories (municipalities)."""

    problem_ids: list[DbInt] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)
    territory_ids: list[RefId] = Field(default_factory=list)


class DecisionCreate(DecisionLinks):
    """A new decision."""

    region_code: str = Field(pattern=r"^\d{2,3}$")
    title: str = Field(min_length=3, max_length=500)
    decided_on: date
    decided_by: str = Field(min_length=2, max_length=255)
    budget_rub: DbInt | None = None
    text: str = ""
    status: str = Field(default="adopted", pattern=r"^(adopted|in_progress|done|cancelled)$")
    source_url: str | None = Field(default=None, max_length=1000)


class DecisionUpdate(BaseModel):
    """Changes to a decision (links are replaced when given)."""

    title: str | None = Field(default=None, min_length=3, max_length=500)
    decided_on: date | None = None
    decided_by: str | None = Field(default=None, min_length=2, max_length=255)
    budget_rub: DbInt | None = None
    text: str | None = None
    status: str | None = Field(default=None,
                               pattern=r"^(adopted|in_progress|done|cancelled)$")
    source_url: str | None = None
    problem_ids: list[DbInt] | None = None
    topics: list[str] | None = None
    territory_ids: list[RefId] | None = None


class DecisionRead(DecisionLinks):
    """A decision as stored."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    region_code: str
    title: str
    decided_on: date
    decided_by: str
    budget_rub: int | None
    text: str
    status: str
    source_url: str | None
    created_at: datetime


class DecisionList(BaseModel):
    """A page of decisions."""

    items: list[DecisionRead]
    total: int
    limit: int
    offset: int


class Effect(BaseModel):
    """Messages on a decision's problems/topics/territories before and after its date."""

    decision_id: int
    window_days: int
    before_from: date
    after_to: date
    messages_before: int
    messages_after: int
    rate_before: float = Field(description="messages per day")
    rate_after: float
    change_pct: float | None
    verdict: str
    drill_before: dict[str, object] = Field(description="GET /api/v1/decisions/{id}/messages")
    drill_after: dict[str, object]


class DecisionCount(BaseModel):
    """Decisions of a region in a period (the numbers centers report yearly)."""

    region_code: str
    name: str
    decisions: int
    budget_rub: int


class DecisionCountList(Page[DecisionCount]):
    """A page of the per-region figures."""


class EffectMessage(BaseModel):
    """A message counted on one side of a decision's effect."""

    id: int
    at: datetime
    text: str


class EffectMessageList(Page[EffectMessage]):
    """A page of the messages counted on one side of the effect."""
