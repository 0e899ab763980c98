"""Organizations that answer residents (executors) and the territories they cover."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from otklik.db.base import Base, CreatedAtMixin
from otklik.db.types import JSONType, UTCDateTime


class OrganizationKind(StrEnum):
    """What sort of body an organization is."""

    ministry = "ministry"
    committee = "committee"
    inspection = "inspection"
    municipal_admin = "municipal_admin"
    utility = "utility"
    waste_operator = "waste_operator"
    management_center = "center"
    other = "other"


#: Monday–Friday 9:00–18:00 with a lunch hour: the usual Russian office day.
DEFAULT_WORKING_HOURS: dict[str, Any] = {
    "days": {str(d): [["09:00", "13:00"], ["14:00", "18:00"]] for d in range(5)},
}


class Organization(CreatedAtMixin, Base):
    """An executor: a ministry, a municipal administration, a utility, the waste operator."""

    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(3), index=True)
    name: Mapped[str] = mapped_column(String(500))
    short_name: Mapped[str | None] = mapped_column(String(255))
    kind: Mapped[OrganizationKind] = mapped_column(
        Enum(OrganizationKind, name="organization_kind", native_enum=False, length=32)
    )
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow")
    working_hours: Mapped[dict[str, Any]] = mapped_column(
        JSONType, default=lambda: dict(DEFAULT_WORKING_HOURS)
    )
    email: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OrganizationTerritory(Base):
    """Which territories an organization covers (a region, a district, a settlement)."""

    __tablename__ = "organization_territory"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True
    )
    territory_id: Mapped[int] = mapped_column(
        ForeignKey("territory.id", ondelete="CASCADE"), primary_key=True, index=True
    )
