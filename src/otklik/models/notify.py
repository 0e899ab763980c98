"""The notifier's tables: people's contacts, duty rosters, alerts and their recipients, and the
one delivery log (deliveries and each attempt) shared by every outgoing channel — Telegram,
e-mail and signed webhooks, the notifier's own and integrators' subscriptions alike."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from otklik.db.base import Base, CreatedAtMixin, utcnow
from otklik.db.types import JSONType, UTCDateTime
from otklik.models.message import BigId

#: ``open`` (waiting for someone to acknowledge), ``acknowledged``, ``closed`` (the subject
#: ended: no more escalation).
ALERT_STATUSES = ("open", "acknowledged", "closed")
#: ``pending`` (to send, or waiting for its retry), ``sending`` (an attempt is under way),
#: ``sent``, ``failed`` (permanent error, attempts used up, or the target was switched off).
DELIVERY_STATUSES = ("pending", "sending", "sent", "failed")


class NotifyContact(Base):
    """Where a user is reached besides the e-mail of their account (a Telegram chat)."""

    __tablename__ = "notify_contact"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    telegram_chat_id: Mapped[str | None] = mapped_column(String(32))
    #: Overrides the account's e-mail for alerts when set.
    email: Mapped[str | None] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DutyRoster(CreatedAtMixin, Base):
    """Who is on duty for a region (optionally a territory or a topic), in order."""

    __tablename__ = "duty_roster"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    region_id: Mapped[int] = mapped_column(
        ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    territory_id: Mapped[int | None] = mapped_column(
        ForeignKey("territory.id", ondelete="CASCADE"))
    topic: Mapped[str | None] = mapped_column(String(64))
    #: Minutes an alert may stay unacknowledged before the next person is called.
    escalate_after_minutes: Mapped[int] = mapped_column(Integer, default=15)
    #: The roster's signed webhook (an HQ's own system), besides the people.
    webhook_url: Mapped[str | None] = mapped_column(String(1000))
    webhook_secret: Mapped[str | None] = mapped_column(String(128))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class DutyMember(Base):
    """A person on a roster: their place in the order, contacts and hours on duty."""

    __tablename__ = "duty_member"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    roster_id: Mapped[int] = mapped_column(
        ForeignKey("duty_roster.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    telegram_chat_id: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(320))
    #: Hours on duty in ``timezone``: from ``start_hour`` to ``end_hour`` (22-8 spans midnight;
    #: 0-24 always).
    start_hour: Mapped[int] = mapped_column(SmallInteger, default=0)
    end_hour: Mapped[int] = mapped_column(SmallInteger, default=24)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow")


class Alert(CreatedAtMixin, Base):
    """One alert thread per subject (an incident, a case): everyone told about it hears its
    later lines in the same Telegram thread and e-mail thread."""

    __tablename__ = "alert"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(300), default="")
    severity: Mapped[str] = mapped_column(String(16), default="")
    url_path: Mapped[str] = mapped_column(String(500), default="")
    region_id: Mapped[int | None] = mapped_column(
        ForeignKey("territory.id", ondelete="SET NULL"), index=True)
    roster_id: Mapped[int | None] = mapped_column(
        ForeignKey("duty_roster.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    #: The roster position of the last person called (escalation moves it on).
    level: Mapped[int] = mapped_column(Integer, default=0)
    escalate_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(255))
    ack_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    ack_channel: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("subject", "subject_id"),)


class AlertRecipient(Base):
    """A person brought into an alert thread, with where their thread starts in each channel
    and the hash of their acknowledgement token (the token itself is never stored)."""

    __tablename__ = "alert_recipient"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("duty_member.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    #: Why they were told: duty, escalation, executor, curator, head.
    reason: Mapped[str] = mapped_column(String(16), default="duty")
    name: Mapped[str] = mapped_column(String(255), default="")
    telegram_chat_id: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(320))
    telegram_thread_id: Mapped[str | None] = mapped_column(String(32))
    email_thread_id: Mapped[str | None] = mapped_column(String(255))
    #: A random salt: the acknowledgement token is an HMAC of it under the secret key.
    token_salt: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    notified_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Delivery(CreatedAtMixin, Base):
    """One message to one target through one channel, tried until sent or given up.

    ``source``/``source_id`` say who it is for (``alert``/recipient or roster, ``webhook``/
    subscription, ``test``); ``dedup_key`` makes a repeated event send nothing twice."""

    __tablename__ = "delivery"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), index=True)
    target: Mapped[str] = mapped_column(String(1000))
    source: Mapped[str] = mapped_column(String(16), index=True)
    source_id: Mapped[int | None] = mapped_column(Integer, index=True)
    alert_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    dedup_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    external_id: Mapped[str | None] = mapped_column(String(255))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DeliveryAttempt(Base):
    """One try of a delivery: when, how long, and what the other side answered."""

    __tablename__ = "delivery_attempt"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("delivery.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[str | None] = mapped_column(String(1000))
    error: Mapped[str | None] = mapped_column(String(1000))


class NotifyState(Base):
    """Small named state of the notifier (the Telegram updates offset of the poll command)."""

    __tablename__ = "notify_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
