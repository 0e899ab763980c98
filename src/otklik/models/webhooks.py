"""Integrators' webhook subscriptions (their deliveries are the notifier's ``delivery`` rows
with ``source`` = ``webhook``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from otklik.db.base import Base, CreatedAtMixin, utcnow
from otklik.db.types import JSONType, UTCDateTime


class WebhookSubscription(CreatedAtMixin, Base):
    """A URL that hears some events (``case.created`` …), signed with its own secret.

    ``region_code`` None: every region (only for an owner who sees every region). Switched
    off after too many consecutive failed attempts until an admin switches it back on."""

    __tablename__ = "webhook_subscription"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    url: Mapped[str] = mapped_column(String(1000))
    events: Mapped[list[str]] = mapped_column(JSONType, default=list)
    secret: Mapped[str] = mapped_column(String(128))
    region_code: Mapped[str | None] = mapped_column(String(3))
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    #: The integrator's API key that made it (a key belongs to no user): the key sees and
    #: manages it; once the key is revoked or expired, nothing is delivered to it.
    owner_token_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_token.id", ondelete="SET NULL"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
