"""Pydantic shapes of organizations in the API."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from otklik.bounds import RefId
from otklik.models.organization import DEFAULT_WORKING_HOURS, OrganizationKind

_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class OrganizationCreate(BaseModel):
    """A new executor."""

    region_code: str = Field(pattern=r"^\d{2,3}$")
    name: str = Field(min_length=3, max_length=500)
    short_name: str | None = None
    kind: OrganizationKind
    timezone: str | None = None
    working_hours: dict[str, Any] = Field(default_factory=lambda: dict(DEFAULT_WORKING_HOURS))
    email: str | None = None
    phone: str | None = None
    territory_ids: list[RefId] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}: use an IANA name like "
                             "Europe/Samara") from exc
        return value

    @field_validator("working_hours")
    @classmethod
    def _valid_hours(cls, value: dict[str, Any]) -> dict[str, Any]:
        days = value.get("days")
        if not isinstance(days, dict):
            raise ValueError('working_hours needs {"days": {"0": [["09:00","18:00"]], ...}}')
        for day, spans in days.items():
            if day not in {str(d) for d in range(7)}:
                raise ValueError(f"working_hours day {day!r}: use 0 (Monday) … 6 (Sunday)")
            for span in spans:
                if (len(span) != 2 or not all(_TIME.match(t) for t in span)
                        or span[0] >= span[1]):
                    raise ValueError(f"working_hours span {span!r}: use [\"09:00\", \"18:00\"]")
        return value


class OrganizationRead(BaseModel):
    """One organization."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    region_code: str
    name: str
    short_name: str | None
    kind: OrganizationKind
    timezone: str
    working_hours: dict[str, Any]
    email: str | None
    phone: str | None
    is_active: bool
    created_at: datetime


class OrganizationList(BaseModel):
    """A page of organizations."""

    items: list[OrganizationRead]
    total: int
    limit: int
    offset: int
