"""Replying under a stored message through the connector it came by, the outcome recorded on
the caller's row: an answer's publication (:mod:`otklik.cases.publishing`) or a refutation's
reply under a copy of a fake (:mod:`otklik.fakes.refuting`).

A message with no configured, enabled connector (a file import, the demo) is recorded as
``no_channel`` — visible, never silently dropped; a connector's error is ``failed`` with its
message (the caller's job retries); else ``published`` with the platform's id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from sqlalchemy.orm import Session

from otklik.channels import service as connectors_service
from otklik.channels.connectors.base import ConnectorError, Reply
from otklik.channels.connectors.registry import CONNECTORS
from otklik.channels.repository import ConnectorRepository
from otklik.db.base import utcnow
from otklik.models.message import Message

log = logging.getLogger(__name__)

Outcome = Literal["published", "no_channel", "failed"]


@dataclass
class ReplySummary:
    """What one publishing run did: replies published, already there, with no channel to
    reply through, failed (the caller's job retries the failed ones)."""

    published: int = 0
    already: int = 0
    no_channel: int = 0
    failed: int = 0

    def count(self, outcome: Outcome) -> None:
        """Count one reply's outcome."""
        setattr(self, outcome, getattr(self, outcome) + 1)


class ReplyRecord(Protocol):
    """The row one reply's outcome is kept on."""

    status: str
    external_id: str | None
    attempts: int
    last_error: str | None
    published_at: datetime | None


def reply_under(session: Session, message: Message, record: ReplyRecord, reply: Reply, *,
                what: str, replying_kinds_only: bool = False) -> Outcome:
    """Publish ``reply`` under ``message`` through its connector and record the outcome.

    ``replying_kinds_only``: a connector whose kind cannot publish replies counts as no
    channel (else its refusal is a failure, as for any other error). ``what`` names the
    reply in the log."""
    connector = (ConnectorRepository(session).get(message.connector_id)
                 if message.connector_id else None)
    if connector is None or not connector.enabled or (
            replying_kinds_only and not getattr(CONNECTORS.get(connector.kind),
                                                "supports_publish", False)):
        record.status, record.published_at = "no_channel", utcnow()
        return "no_channel"
    record.attempts += 1
    channel = connectors_service.build(connector)
    try:
        external = channel.publish(reply)
    except ConnectorError as exc:
        record.status, record.last_error = "failed", exc.message
        log.warning("%s failed: %s", what, exc.message)
        return "failed"
    finally:
        channel.close()
    record.status, record.external_id, record.published_at = "published", external, utcnow()
    record.last_error = None
    return "published"
