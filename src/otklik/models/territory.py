"""Territories: region → municipal district / city okrug → settlement (→ street later)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Enum, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from otklik.db.base import Base
from otklik.db.types import JSONType


class TerritoryLevel(StrEnum):
    """How deep in the hierarchy a territory sits."""

    region = "region"
    municipality = "municipality"
    settlement = "settlement"
    street = "street"


class Territory(Base):
    """One node of the territory tree with its OKTMO code, population and centre.

    ``region_code`` (2-digit OKTMO region code) is denormalized onto every node so
    that region scoping is one indexed comparison. ``names`` holds name variants and
    declensions for matching (filled by the language stage's gazetteer).
    """

    __tablename__ = "territory"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    level: Mapped[TerritoryLevel] = mapped_column(
        Enum(TerritoryLevel, name="territory_level", native_enum=False, length=16)
    )
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("territory.id", ondelete="CASCADE"), index=True
    )
    region_code: Mapped[str] = mapped_column(String(3), index=True)
    name: Mapped[str] = mapped_column(String(255))
    short_name: Mapped[str | None] = mapped_column(String(255))
    kind: Mapped[str | None] = mapped_column(String(32))
    oktmo: Mapped[str | None] = mapped_column(String(11), index=True)
    population: Mapped[int | None] = mapped_column(BigInteger)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    timezone: Mapped[str | None] = mapped_column(String(64))
    federal_district: Mapped[str | None] = mapped_column(String(64))
    iso_code: Mapped[str | None] = mapped_column(String(8))
    names: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    __table_args__ = (Index("ix_territory_level_region", "level", "region_code"),)

    def __repr__(self) -> str:
        return f"Territory({self.key!r}, {self.name!r})"
