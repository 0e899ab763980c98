"""Pydantic in/out of the official pages API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from otklik.bounds import RefId
from otklik.paging import Page


class PageCreate(BaseModel):
    """A page to add to the registry by its link."""

    model_config = ConfigDict(extra="forbid")

    link: str = Field(min_length=1, max_length=500)
    name: str = Field(min_length=1, max_length=500)
    region_code: str = Field(min_length=2, max_length=3)
    page_type: str = Field(max_length=32)
    page_class: str = Field(default="active", max_length=16)
    status: str = Field(default="active", max_length=16)
    owner_name: str | None = Field(default=None, max_length=500)
    organization_id: RefId | None = None
    municipality_id: RefId | None = None


class PageRead(BaseModel):
    """A page of the registry."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    region_code: str
    platform: str
    external_id: str
    url: str
    name: str
    owner_name: str | None
    organization_id: int | None
    municipality_id: int | None
    page_type: str
    page_class: str
    status: str
    last_collected_at: datetime | None
    last_error: str | None


class PageList(Page[PageRead]):
    """A page of the registry list."""


class CriterionRead(BaseModel):
    """One criterion of a page's weekly score."""

    code: str
    title: str
    value: float | None
    threshold: float
    weight: float
    part_met: float | None
    advice: str | None


class RatingRead(BaseModel):
    """A page's weekly score with its breakdown; ``score`` None = no data that week."""

    page_id: int
    name: str
    week: str
    methodology_version: int
    score: float | None
    rank_municipality: int | None
    rank_region: int | None
    movement: int | None
    criteria: list[CriterionRead]


class RatingList(Page[RatingRead]):
    """A page of a week's ratings."""

    week: str | None
    methodology_version: int | None


class CriterionIn(BaseModel):
    """A criterion row of a new methodology version."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=32)
    page_type: str = Field(default="*", max_length=32)
    page_class: str = Field(default="*", max_length=16)
    weight: float = Field(ge=0, le=1000)
    threshold: float = Field(ge=0, le=1_000_000)
