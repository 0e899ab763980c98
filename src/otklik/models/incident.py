"""Incidents (ЧС, происшествия): a Problem's big sibling with a timeline and public updates.

An incident ties together the messages and cases about one emergency in one place (it links
them; it does not copy them), names the territories it covers, the people affected (an
estimate from the territories' population), the responsible organizations and the person in
charge of the HQ. Every step is an :class:`IncidentEntry` on its timeline, with an author and
a time; what residents are told is an :class:`IncidentUpdate`. The detector's thresholds per
region and topic are :class:`IncidentThreshold` rows an admin edits.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from otklik.db.base import Base, utcnow
from otklik.db.types import JSONType, UTCDateTime
from otklik.models.message import BigId


class IncidentStatus(StrEnum):
    """open → acknowledged → in_work → resolved → closed (merged: folded into another)."""

    open = "open"
    acknowledged = "acknowledged"
    in_work = "in_work"
    resolved = "resolved"
    closed = "closed"
    merged = "merged"


#: The statuses of an incident still being run (new messages join it).
ACTIVE_INCIDENT_STATUSES = ("open", "acknowledged", "in_work")


class Incident(Base):
    """One emergency: what, where, how bad, who is in charge, and where it stands."""

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    #: spike | hazard | burst (from a signal) or manual.
    kind: Mapped[str] = mapped_column(String(16))
    hazard: Mapped[str | None] = mapped_column(String(32))
    topic: Mapped[str | None] = mapped_column(String(64), index=True)
    subtopic: Mapped[str | None] = mapped_column(String(64))
    region_code: Mapped[str | None] = mapped_column(String(3), index=True)
    municipality_id: Mapped[int | None] = mapped_column(
        ForeignKey("territory.id", ondelete="SET NULL"), index=True
    )
    settlement_id: Mapped[int | None] = mapped_column(
        ForeignKey("territory.id", ondelete="SET NULL")
    )
    street: Mapped[str | None] = mapped_column(String(255))
    #: Every territory the incident covers (ids), the municipality and settlement included.
    territory_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    severity: Mapped[str] = mapped_column(String(16), default="high")
    status: Mapped[IncidentStatus] = mapped_column(
        Enum(IncidentStatus, name="incident_status", native_enum=False, length=16), index=True
    )
    people_affected: Mapped[int | None] = mapped_column(Integer)
    #: Organization ids responsible for the response.
    organization_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    #: The person in charge of the HQ (a name and post as written; a user when one is chosen).
    hq_person: Mapped[str | None] = mapped_column(String(255))
    hq_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    #: The signal that opened it (the detector's record) or the case/problem it was opened from.
    opened_by: Mapped[str] = mapped_column(String(128))
    signal_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    signal: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    problem_id: Mapped[int | None] = mapped_column(
        ForeignKey("problem.id", ondelete="SET NULL"), index=True
    )
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("incident.id", ondelete="SET NULL")
    )
    summary: Mapped[str | None] = mapped_column(Text)
    #: A bulk answer proposed and waiting for a second person's approval (four eyes).
    pending_answer: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_incident_region_status", "region_code", "status"),
        Index("ix_incident_started", "started_at", "id"),
    )


class IncidentMessage(Base):
    """A message about the incident (once per incident)."""

    __tablename__ = "incident_message"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True
    )
    message_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("message.id", ondelete="CASCADE"), primary_key=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_incident_message_message", "message_id"),)


class IncidentCase(Base):
    """A case about the incident (its messages' cases, or the case it was opened from)."""

    __tablename__ = "incident_case"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True
    )
    case_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("case.id", ondelete="CASCADE"), primary_key=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_incident_case_case", "case_id"),)


class IncidentEntry(Base):
    """One step on the timeline: signal, acknowledgement, measure, update, resolution …"""

    __tablename__ = "incident_entry"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    author: Mapped[str] = mapped_column(String(255))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    text: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    #: What makes a repeated step (a job run twice, an alert acknowledged twice) one entry.
    dedup_key: Mapped[str | None] = mapped_column(String(128))

    __table_args__ = (UniqueConstraint("incident_id", "dedup_key"),)


class IncidentUpdate(Base):
    """What residents are told ("подвоз воды: ул. Ленина, 10:00-12:00"): public."""

    __tablename__ = "incident_update"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(255))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Per configured connector (by id): published / failed and the external id or error.
    deliveries: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class IncidentThreshold(Base):
    """The detector's thresholds for a region, a topic or both (none: the defaults),
    as overrides of :class:`otklik.incidents.settings.Thresholds` (durations in minutes)."""

    __tablename__ = "incident_threshold"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(3), default="")
    topic: Mapped[str] = mapped_column(String(64), default="")
    values: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("region_code", "topic"),)


class IncidentChannel(Base):
    """Where a region's public updates go: a configured connector and the post or thread
    they are published under (a pinned post of the official page, a Telegram channel's
    message), since connectors publish replies."""

    __tablename__ = "incident_channel"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(3), index=True)
    connector_id: Mapped[int] = mapped_column(ForeignKey("connector.id", ondelete="CASCADE"))
    target_source_id: Mapped[str] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
