"""Deliveries of generated briefs by e-mail: one row per (brief file, recipient)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from otklik.db.base import Base, utcnow
from otklik.db.types import UTCDateTime

#: ``pending`` (to send or being retried), ``sending`` (an attempt is under way), ``sent``,
#: ``failed`` (permanent error or attempts used up), ``skipped`` (SMTP not configured).
DELIVERY_STATUSES = ("pending", "sending", "sent", "failed", "skipped")


class ReportDelivery(Base):
    """A brief e-mailed to one recipient: sent at most once, with the last error."""

    __tablename__ = "report_delivery"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_file_id: Mapped[int] = mapped_column(
        ForeignKey("report_file.id", ondelete="CASCADE"), index=True)
    recipient: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("report_file_id", "recipient"),
        # The deliveries still to send, by age: the reconciler's look every few minutes reads
        # these few rows, not every brief ever e-mailed.
        Index("ix_report_delivery_pending", "updated_at",
              postgresql_where=sql_text("status = 'pending'"),
              sqlite_where=sql_text("status = 'pending'")),
    )
