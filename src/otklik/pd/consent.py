"""Consent to the processing of personal data, recorded where a resident gives data to
Otklik directly: the public web form (a required checkbox), Open311 ``POST requests`` (the
``consent`` field an app sends after asking its user). Messages read from social networks
are public posts the center answers where they were written: no consent is asked there
(docs/security.md, the legal basis of each processing)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from otklik.config import get_settings
from otklik.db.base import utcnow
from otklik.models.message import Message
from otklik.models.pd import PdConsent

CHANNELS = ("web_form", "open311", "bot")


def record(session: Session, message_id: int, channel: str, *, given: bool = True
           ) -> PdConsent:
    """Record the consent that came with a message (once per message and channel), to the
    policy version now in force."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown consent channel {channel!r}")
    existing = session.query(PdConsent).filter_by(message_id=message_id,
                                                  channel=channel).one_or_none()
    if existing is not None:
        return existing
    message = session.get(Message, message_id)
    settings = get_settings()
    row = PdConsent(message_id=message_id, channel=channel,
                    author_key=message.author_key if message is not None else None,
                    policy_version=settings.pd_policy_version,
                    policy_url=settings.pd_policy_url, given=given, given_at=utcnow())
    session.add(row)
    session.flush()
    return row
