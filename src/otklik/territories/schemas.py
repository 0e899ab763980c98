"""Pydantic shapes of territories in the API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from otklik.models.territory import TerritoryLevel


class TerritoryRead(BaseModel):
    """One territory."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    level: TerritoryLevel
    parent_id: int | None
    region_code: str
    name: str
    short_name: str | None
    kind: str | None
    oktmo: str | None
    population: int | None
    lat: float | None
    lon: float | None
    timezone: str | None
    federal_district: str | None


class TerritoryList(BaseModel):
    """A page of territories."""

    items: list[TerritoryRead]
    total: int
    limit: int
    offset: int


class LoadSummary(BaseModel):
    """What a territory load did."""

    version: str
    inserted: int
    updated: int
    regions: int
