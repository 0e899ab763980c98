"""Cases (обращения), their messages, history, answers, publications, extensions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from otklik.db.base import Base, utcnow
from otklik.db.types import JSONType, UTCDateTime
from otklik.models.message import BigId


class CaseStatus(StrEnum):
    """Where a case is in its life (see cases/workflow.py for the allowed moves)."""

    new = "new"
    triage = "triage"
    routed = "routed"
    in_work = "in_work"
    clarification = "clarification"
    answer_drafted = "answer_drafted"
    on_moderation = "on_moderation"
    answered = "answered"
    closed = "closed"
    rejected = "rejected"


OPEN_STATUSES = frozenset({
    CaseStatus.new, CaseStatus.triage, CaseStatus.routed, CaseStatus.in_work,
    CaseStatus.clarification, CaseStatus.answer_drafted, CaseStatus.on_moderation,
})

#: The open statuses as SQL (the predicate of the partial index of open cases).
#: Columns the live analytics count of open cases reads (filters, scope, group keys).
OPEN_RECEIVED_INCLUDE = ("resolution_due", "answered_at", "merged_into_id", "executor_id",
                         "region_code", "municipality_id", "topic", "source")
OPEN_STATUS_SQL = "status IN ('new', 'triage', 'routed', 'in_work', 'clarification', " \
    "'answer_drafted', 'on_moderation')"


class Case(Base):
    """What must be answered: one or more messages, a topic, a place, an executor, deadlines.

    ``version`` makes concurrent edits fail loudly instead of overwriting each other.
    """

    __tablename__ = "case"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    region_code: Mapped[str | None] = mapped_column(String(3), index=True)
    status: Mapped[CaseStatus] = mapped_column(
        Enum(CaseStatus, name="case_status", native_enum=False, length=16), index=True
    )
    title: Mapped[str] = mapped_column(String(300), default="")
    topic: Mapped[str | None] = mapped_column(String(64), index=True)
    subtopic: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str | None] = mapped_column(String(32))
    urgency: Mapped[str] = mapped_column(String(16), default="normal")
    sentiment: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(String(16))
    municipality_id: Mapped[int | None] = mapped_column(
        ForeignKey("territory.id", ondelete="SET NULL"), index=True
    )
    settlement_id: Mapped[int | None] = mapped_column(
        ForeignKey("territory.id", ondelete="SET NULL")
    )
    street: Mapped[str | None] = mapped_column(String(255))
    house: Mapped[str | None] = mapped_column(String(32))
    executor_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="SET NULL"), index=True
    )
    #: The person (of the center or of the executor) working on the case now.
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    problem_id: Mapped[int | None] = mapped_column(
        ForeignKey("problem.id", ondelete="SET NULL"), index=True
    )
    #: Never read (``lazy="raise"``): a flush inserts a problem before the cases joining it
    #: (problems get reserved ids: CaseRepository.reserve).
    _problem: Mapped[Problem | None] = relationship("Problem", lazy="raise",
                                                    foreign_keys=[problem_id])
    problem_pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("case.id", ondelete="SET NULL")
    )
    routing: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    routed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_response_due: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_due: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paused_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pauses: Mapped[list[list[str]]] = mapped_column(JSONType, default=list)
    clarification_due: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    handback_count: Mapped[int] = mapped_column(Integer, default=0)
    reject_reason: Mapped[str | None] = mapped_column(String(32))
    rating: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_case_region_status_due", "region_code", "status", "resolution_due"),
        Index("ix_case_region_received", "region_code", "received_at"),
        # The queue's keyset pages: deadline first (NULLS LAST) or newest first, id breaks ties;
        # open cases by deadline on their own (overdue and open-status pages skip the closed).
        Index("ix_case_due_id", "resolution_due", "id"),
        Index("ix_case_received_id", "received_at", "id"),
        Index("ix_case_open_due", "resolution_due", "id",
              postgresql_where=sql_text(OPEN_STATUS_SQL), sqlite_where=sql_text(OPEN_STATUS_SQL)),
        # The queue's capped counters per status under its common filters: index-only scans.
        Index("ix_case_region_topic_status", "region_code", "topic", "status"),
        Index("ix_case_region_municipality_status", "region_code", "municipality_id", "status"),
        # A text search probes each matching message's case: covering, so index-only.
        Index("ix_case_search_cover", "id", "region_code", "status", "resolution_due",
              "received_at"),
        # Analytics counts open overdue cases live ("overdue now" depends on the moment):
        # on PostgreSQL an index-only scan over the open cases by date received.
        Index("ix_case_open_received", "received_at",
              postgresql_include=list(OPEN_RECEIVED_INCLUDE),
              postgresql_where=sql_text(OPEN_STATUS_SQL), sqlite_where=sql_text(OPEN_STATUS_SQL)),
        Index("ix_case_open_region_status", "region_code", "status", "resolution_due",
              "first_response_due", "first_response_at",
              postgresql_where=sql_text(OPEN_STATUS_SQL), sqlite_where=sql_text(OPEN_STATUS_SQL)),
    )


class CaseMessage(Base):
    """A message that belongs to a case (a message belongs to at most one case)."""

    __tablename__ = "case_message"

    message_id: Mapped[int] = mapped_column(
        ForeignKey("message.id", ondelete="CASCADE"), primary_key=True
    )
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    #: Never read (``lazy="raise"``): it tells a flush to insert the case before this row,
    #: so a batch whose cases got reserved ids goes out in one flush (CaseRepository.reserve).
    _case: Mapped[Case] = relationship(Case, lazy="raise", foreign_keys=[case_id])
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    # Message -> case without the heap (text search goes from matching messages to cases).
    __table_args__ = (Index("ix_case_message_message_case", "message_id", "case_id"),)


class CaseEvent(Base):
    """One step of a case's history (status moves, edits, routing, escalations)."""

    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    #: Never read (``lazy="raise"``): it tells a flush to insert the case before this row,
    #: so a batch whose cases got reserved ids goes out in one flush (CaseRepository.reserve).
    _case: Mapped[Case] = relationship(Case, lazy="raise", foreign_keys=[case_id])
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    actor: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class Problem(Base):
    """A cluster of cases about one thing in one place over time."""

    __tablename__ = "problem"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    region_code: Mapped[str | None] = mapped_column(String(3), index=True)
    title: Mapped[str] = mapped_column(String(300))
    topic: Mapped[str | None] = mapped_column(String(64), index=True)
    subtopic: Mapped[str | None] = mapped_column(String(64))
    municipality_id: Mapped[int | None] = mapped_column(
        ForeignKey("territory.id", ondelete="SET NULL"), index=True
    )
    settlement_id: Mapped[int | None] = mapped_column(
        ForeignKey("territory.id", ondelete="SET NULL")
    )
    street: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="open")
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    size: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Answer(Base):
    """An answer to a case (or, for a bulk answer, to every case of a problem)."""

    __tablename__ = "answer"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("case.id", ondelete="CASCADE"), index=True
    )
    #: Never read (``lazy="raise"``): it tells a flush to insert the case before this row,
    #: so a batch whose cases got reserved ids goes out in one flush (CaseRepository.reserve).
    _case: Mapped[Case | None] = relationship(Case, lazy="raise", foreign_keys=[case_id])
    problem_id: Mapped[int | None] = mapped_column(
        ForeignKey("problem.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # interim, final, clarification, rejection
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="SET NULL"), index=True
    )
    quality: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    moderator_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    moderation_comment: Mapped[str | None] = mapped_column(Text)
    signature: Mapped[str | None] = mapped_column(String(192))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Publication(Base):
    """One answer published under one message: once, whatever the retries."""

    __tablename__ = "publication"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answer.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id", ondelete="CASCADE"),
                                            index=True)
    channel: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    external_id: Mapped[str | None] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("answer_id", "message_id"),)


class Extension(Base):
    """An executor's request for more time, decided by a curator."""

    __tablename__ = "extension"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    requested_by: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    reason: Mapped[str] = mapped_column(Text)
    requested_until: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RoutingRule(Base):
    """Topic × territory → executor; the first matching rule by position wins."""

    __tablename__ = "routing_rule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(3), index=True)
    position: Mapped[int] = mapped_column(Integer, default=100)
    topic: Mapped[str | None] = mapped_column(String(64))
    subtopic: Mapped[str | None] = mapped_column(String(64))
    territory_id: Mapped[int | None] = mapped_column(
        ForeignKey("territory.id", ondelete="CASCADE")
    )
    executor_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str | None] = mapped_column(String(255))


class DeadlinePolicyRow(Base):
    """A deadline policy (sla/policy.py) as stored and edited by an admin."""

    __tablename__ = "deadline_policy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_code: Mapped[str | None] = mapped_column(String(3), index=True)
    position: Mapped[int] = mapped_column(Integer, default=100)
    policy: Mapped[dict[str, Any]] = mapped_column(JSONType)


class CalendarExceptionRow(Base):
    """An admin's correction of the production calendar (a moved day, a regional holiday)."""

    __tablename__ = "calendar_exception"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_code: Mapped[str | None] = mapped_column(String(3), index=True)
    day: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(255), default="")

    __table_args__ = (UniqueConstraint("region_code", "day"),)


class Label(Base):
    """An operator's correction of what the machine decided: training data for models."""

    __tablename__ = "label"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("message.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("case.id", ondelete="CASCADE"), index=True
    )
    field: Mapped[str] = mapped_column(String(32), index=True)
    value: Mapped[str] = mapped_column(String(255))
    previous: Mapped[str | None] = mapped_column(String(255))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ModelVersion(Base):
    """A trained model in the registry: metrics, where it lies, whether it is active."""

    __tablename__ = "model_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label_field: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[str] = mapped_column(String(64), unique=True)
    path: Mapped[str] = mapped_column(String(1000))
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accuracy: Mapped[float | None] = mapped_column(Float)
    # A challenger of the scheduled retraining (language/retraining.py); None for a model
    # registered by hand. decision: "activated", "kept" (the champion stayed: not better by
    # the margin) or "failed" (nothing was trained: ``reason`` says why).
    decision: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(1000))
    #: The champion it was compared with and both models' figures on the held-out slice.
    compared_with: Mapped[str | None] = mapped_column(String(64))
    evaluation: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    #: Training pairs it learnt from, and the newest correction (label.id) they include.
    trained_on: Mapped[int | None] = mapped_column(Integer)
    last_label_id: Mapped[int | None] = mapped_column(BigInteger)
