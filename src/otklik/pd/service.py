"""The personal-data rules: retention, and a resident's requests to see or erase their data.
Never commits (the CLI command or the job does); every run and request is audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.config import get_settings
from otklik.db.base import utcnow
from otklik.errors import InvalidInput, NotFound
from otklik.models.message import Message
from otklik.pd.anonymize import anonymize
from otklik.pd.repository import PdRepository

BATCH = 500


@dataclass(frozen=True)
class RetentionRun:
    """What a retention run found due (and anonymised, unless it was a dry run)."""

    cutoff: datetime
    due: int
    anonymized: int
    dry_run: bool


def retention_cutoff(now: datetime, days: int | None = None) -> datetime:
    """Data older than this (received, or its case closed) is past retention."""
    return now - timedelta(days=days if days is not None else get_settings().pd_retention_days)


def run_retention(session: Session, actor: Actor, *, now: datetime | None = None,
                  days: int | None = None, dry_run: bool = False) -> RetentionRun:
    """Anonymise every message past retention (:func:`retention_cutoff`); idempotent."""
    actor.require("admin")
    now = now or utcnow()
    cutoff = retention_cutoff(now, days)
    repo = PdRepository(session)
    due = done = 0
    if dry_run:
        due = repo.count_due(cutoff)
    else:
        while batch := repo.due_for_retention(cutoff, BATCH):
            due += len(batch)
            done += anonymize(session, batch, "retention", now)
            session.flush()
    audit.record(session, actor, "pd.retention", "message", None,
                 details={"cutoff": cutoff.isoformat(), "due": due, "anonymized": done,
                          "dry_run": dry_run})
    return RetentionRun(cutoff, due, done, dry_run)


@dataclass(frozen=True)
class Resident:
    """Whose data a request is about: a pseudonymous author key (from a source and the
    author's id there), or the author of one message."""

    author_key: str | None = None
    message_id: int | None = None

    def describe(self) -> dict[str, Any]:
        """For the audit log: never the author's id or name, only the key or message."""
        return {"author_key": self.author_key, "message_id": self.message_id}


def _messages(session: Session, actor: Actor, resident: Resident) -> list[Message]:
    """The resident's messages in the actor's scope (a regional administrator answers for
    the region's data)."""
    repo = PdRepository(session)
    if resident.author_key:
        found = list(repo.messages_of_author(resident.author_key, actor.scope))
    elif resident.message_id is not None:
        message = repo.message(resident.message_id, actor.scope)
        if message is None:
            raise NotFound(f"message {resident.message_id} not found")
        found = (list(repo.messages_of_author(message.author_key, actor.scope))
                 if message.author_key else [message])
    else:
        raise InvalidInput("name the resident: --author KEY, --source and --author-id, or "
                           "--message ID")
    if not found:
        raise NotFound("nothing is stored about this resident")
    return found


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def export(session: Session, actor: Actor, resident: Resident) -> dict[str, Any]:
    """Everything stored about one resident: their messages, the cases they are in, the
    answers of those cases, their consents, Open311 requests and photos (152-FZ art. 14)."""
    actor.require("admin")
    messages = _messages(session, actor, resident)
    ids = [m.id for m in messages]
    repo = PdRepository(session)
    cases = repo.cases_of(ids)
    anonymized = repo.anonymized(ids)
    data = {
        "resident": resident.describe(),
        "exported_at": utcnow().isoformat(),
        "messages": [{
            "id": m.id, "source": m.source, "source_id": m.source_id, "channel": m.channel,
            "author_id": m.author_id, "author_name": m.author_name, "text": m.text,
            "url": m.url, "attachments": m.attachments, "lat": m.lat, "lon": m.lon,
            "raw": m.raw, "created_at": _iso(m.created_at), "received_at": _iso(m.received_at),
            "region_code": m.region_code, "anonymized": m.id in anonymized,
        } for m in messages],
        "cases": [{
            "id": c.id, "title": c.title, "status": c.status.value, "topic": c.topic,
            "region_code": c.region_code, "received_at": _iso(c.received_at),
            "closed_at": _iso(c.closed_at),
        } for c in cases],
        "answers": [{
            "id": a.id, "case_id": a.case_id, "kind": a.kind, "status": a.status,
            "text": a.text, "published_at": _iso(a.published_at),
        } for a in repo.answers_of([c.id for c in cases])],
        "consents": [{
            "message_id": c.message_id, "channel": c.channel, "given": c.given,
            "policy_version": c.policy_version, "policy_url": c.policy_url,
            "given_at": _iso(c.given_at),
        } for c in repo.consents_of(ids)],
        "open311_requests": [{
            "message_id": r.message_id, "service_code": r.service_code,
            "reporter": r.reporter, "address_string": r.address_string,
            "lat": r.lat, "lon": r.lon,
        } for r in repo.open311_of(ids)],
        "photos": [{"message_id": p.message_id, "key": p.key, "content_type": p.content_type}
                   for p in repo.photos_of(ids)],
    }
    audit.record(session, actor, "pd.export", "message", ids[0],
                 details={**resident.describe(), "messages": len(ids)})
    return data


def erase(session: Session, actor: Actor, resident: Resident) -> int:
    """Anonymise everything stored about one resident now (as retention would later);
    how many messages were anonymised."""
    actor.require("admin")
    ids = [m.id for m in _messages(session, actor, resident)]
    done = anonymize(session, ids, "erasure", utcnow())
    audit.record(session, actor, "pd.erase", "message", ids[0],
                 details={**resident.describe(), "messages": len(ids), "anonymized": done})
    return done
