"""Personal data: residents' consents and the messages whose personal data was removed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from otklik.db.base import Base, utcnow
from otklik.db.types import UTCDateTime
from otklik.models.message import BigId


class PdConsent(Base):
    """A resident's consent to the processing of their personal data, as given: where
    (``channel``: web_form, open311, bot), to which version of the operator's policy, when."""

    __tablename__ = "pd_consent"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("message.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[str] = mapped_column(String(32))
    #: The pseudonymous key of the author who consented (the message's ``author_key``).
    author_key: Mapped[str | None] = mapped_column(String(32), index=True)
    policy_version: Mapped[str] = mapped_column(String(32))
    policy_url: Mapped[str] = mapped_column(String(1000))
    given: Mapped[bool] = mapped_column(Boolean, default=True)
    given_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PdAnonymization(Base):
    """A message whose personal data was removed: by the retention job or on a resident's
    request. What is counted (time, place, topic, case) stays; who and how to reach them
    does not."""

    __tablename__ = "pd_anonymization"

    message_id: Mapped[int] = mapped_column(
        ForeignKey("message.id", ondelete="CASCADE"), primary_key=True
    )
    reason: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    request_id: Mapped[int | None] = mapped_column(Integer)


class PdAnonymizedRow(Base):
    """A row of a later domain (a direct-line question, a proposal, a supporter, a fake
    suspect, a contest application) whose residents' data was removed, so retention does it
    once. Messages are marked in :class:`PdAnonymization`; photos and attachments are deleted
    instead."""

    __tablename__ = "pd_anonymized_row"

    table_name: Mapped[str] = mapped_column(String(32), primary_key=True)
    row_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reason: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
