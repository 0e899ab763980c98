"""Participation: the governor's direct line (прямая линия: a campaign, its questions, the
promises made on air) and residents' proposals (предложения: their path, votes, history)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from otklik.db.base import Base, utcnow
from otklik.db.types import JSONType, UTCDateTime
from otklik.models.message import BigId


class Campaign(Base):
    """A direct line: where and when questions are collected, when it goes on air, and the
    announcement posts whose comments are questions."""

    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(3), index=True)
    title: Mapped[str] = mapped_column(String(300))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    air_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Links of the announcement posts (a comment under one is a question).
    announcement_urls: Mapped[list[str]] = mapped_column(JSONType, default=list)
    #: Words that make a message of the region in the window a question of this line.
    keywords: Mapped[list[str]] = mapped_column(JSONType, default=list)
    #: Set when the editor closed the line after the air (unanswered questions sent on).
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CampaignQuestion(Base):
    """One question of a direct line, from a message or a row of the hotline's list.

    A near-duplicate is kept with ``duplicate_of_id`` and counted as a supporter of the
    question it repeats; a question that came after the window closed is kept and ``late``.
    """

    __tablename__ = "campaign_question"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("message.id", ondelete="SET NULL"), index=True
    )
    #: The row's id in an imported list (or a hash of the row): a second import adds nothing.
    external_id: Mapped[str | None] = mapped_column(String(255))
    #: How it came: comment (under an announcement), mention, bot, form, hotline.
    channel: Mapped[str] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    author_key: Mapped[str | None] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    topic: Mapped[str | None] = mapped_column(String(64))
    municipality_id: Mapped[int | None] = mapped_column(
        ForeignKey("territory.id", ondelete="SET NULL")
    )
    settlement_id: Mapped[int | None] = mapped_column(
        ForeignKey("territory.id", ondelete="SET NULL")
    )
    problem_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("problem.id", ondelete="SET NULL")
    )
    #: The case the message already has (its answer elsewhere, if any).
    case_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("case.id", ondelete="SET NULL")
    )
    urgency: Mapped[str] = mapped_column(String(16), default="normal")
    signature: Mapped[str | None] = mapped_column(String(192))
    duplicate_of_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("campaign_question.id", ondelete="SET NULL"), index=True
    )
    supporters: Mapped[int] = mapped_column(Integer, default=0)
    picked: Mapped[bool] = mapped_column(Boolean, default=False)
    pick_reasons: Mapped[list[str]] = mapped_column(JSONType, default=list)
    pick_note: Mapped[str | None] = mapped_column(String(500))
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    confirmed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    #: new, answered (on air), promised, control (a case на контроле), in_case.
    status: Mapped[str] = mapped_column(String(16), default="new")
    answer_text: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    control_case_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("case.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("campaign_id", "message_id"),
                      UniqueConstraint("campaign_id", "external_id"))


class Promise(Base):
    """A promise made on air: its owner organization, its deadline on the production
    calendar, the case that holds it на контроле, and the decision it became."""

    __tablename__ = "promise"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("campaign_question.id", ondelete="CASCADE"), index=True
    )
    region_code: Mapped[str] = mapped_column(String(3), index=True)
    text: Mapped[str] = mapped_column(Text)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="SET NULL"), index=True
    )
    due_on: Mapped[date] = mapped_column(Date)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    #: [{"title", "due_on", "done_on"}]: the stages the promise is tracked through.
    stages: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    case_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("case.id", ondelete="SET NULL"), index=True
    )
    decision_id: Mapped[int | None] = mapped_column(
        ForeignKey("decision.id", ondelete="SET NULL"), index=True
    )
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Proposal(Base):
    """A resident's proposal on its own path: received → under review → accepted → in work
    → done, or declined with a reason; ``public_text`` is what the public page shows."""

    __tablename__ = "proposal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(3), index=True)
    message_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("message.id", ondelete="SET NULL"), unique=True
    )
    case_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("case.id", ondelete="SET NULL")
    )
    source: Mapped[str | None] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    public_text: Mapped[str] = mapped_column(Text)
    topic: Mapped[str | None] = mapped_column(String(64))
    municipality_id: Mapped[int | None] = mapped_column(
        ForeignKey("territory.id", ondelete="SET NULL")
    )
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="received", index=True)
    decline_reason: Mapped[str | None] = mapped_column(Text)
    supporters: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_proposal_region_status", "region_code", "status"),)


class ProposalEvent(Base):
    """One step of a proposal: a status change, a meeting, a note; with the notice sent to
    the author through the channel they wrote in (an answer of its case)."""

    __tablename__ = "proposal_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposal.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    actor: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    meeting_on: Mapped[date | None] = mapped_column(Date)
    answer_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("answer.id", ondelete="SET NULL")
    )


class ProposalVote(Base):
    """One resident's support of a proposal: one per person per channel identity (the
    keyed pseudonym of source and author id, never the id itself)."""

    __tablename__ = "proposal_vote"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposal.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(16))
    voter_key: Mapped[str] = mapped_column(String(32))
    message_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("message.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("proposal_id", "source", "voter_key"),)
