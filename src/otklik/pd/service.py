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
from otklik.pd.anonymize import Rows, anonymize, anonymize_rows
from otklik.pd.pseudonyms import author_key
from otklik.pd.repository import PdRepository

BATCH = 500


@dataclass(frozen=True)
class RetentionRun:
    """What a retention run found due (and anonymised, unless it was a dry run)."""

    cutoff: datetime
    due: int
    anonymized: int
    dry_run: bool
    #: Rows of the later domains (questions, proposals, supports, suspects, page comments,
    #: applications) done on their own, not with a message.
    rows: int = 0


def _due_rows(repo: PdRepository, cutoff: datetime, limit: int) -> Rows:
    return Rows(questions=list(repo.due_questions(cutoff, limit)),
                proposals=list(repo.due_proposals(cutoff, limit)),
                votes=list(repo.due_votes(cutoff, limit)),
                suspects=list(repo.due_suspects(cutoff, limit)),
                comments=list(repo.due_comments(cutoff, limit)),
                applications=list(repo.due_applications(cutoff, limit)))


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
    due = done = rows = 0
    if dry_run:
        due = repo.count_due(cutoff)
    else:
        while batch := repo.due_for_retention(cutoff, BATCH):
            due += len(batch)
            done += anonymize(session, batch, "retention", now)
            session.flush()
        while batch_rows := _due_rows(repo, cutoff, BATCH):
            rows += anonymize_rows(session, batch_rows, "retention", now)
    audit.record(session, actor, "pd.retention", "message", None,
                 details={"cutoff": cutoff.isoformat(), "due": due, "anonymized": done,
                          "rows": rows, "dry_run": dry_run})
    return RetentionRun(cutoff, due, done, dry_run, rows)


@dataclass(frozen=True)
class Resident:
    """Whose data a request is about: a pseudonymous author key (from a source and the
    author's id there), the author of one message, or the contact a contest application
    gave (applicants write no messages)."""

    author_key: str | None = None
    message_id: int | None = None
    contact: str | None = None

    def describe(self) -> dict[str, Any]:
        """For the audit log: never the author's id, name or contact, only the key or
        message (a contact is logged as given, not what it was)."""
        return {"author_key": self.author_key, "message_id": self.message_id,
                "contact": bool(self.contact)}


def _messages(session: Session, actor: Actor, resident: Resident) -> list[Message]:
    """The resident's messages in the actor's scope (a regional administrator answers for
    the region's data)."""
    repo = PdRepository(session)
    if resident.contact:
        return []
    if resident.author_key:
        found = list(repo.messages_of_author(resident.author_key, actor.scope))
    elif resident.message_id is not None:
        message = repo.message(resident.message_id, actor.scope)
        if message is None:
            raise NotFound(f"message {resident.message_id} not found")
        found = (list(repo.messages_of_author(message.author_key, actor.scope))
                 if message.author_key else [message])
    else:
        raise InvalidInput("name the resident: --author KEY, --source and --author-id, "
                           "--message ID or --contact")
    return found


def _rows(session: Session, actor: Actor, resident: Resident, messages: list[Message]
          ) -> Rows:
    """The resident's rows of the later domains: those of their messages and those found by
    their author key (hotline questions, supports, page comments) or contact (contest
    applications)."""
    repo = PdRepository(session)
    ids = [m.id for m in messages]
    keys = {k for k in [resident.author_key, *(m.author_key for m in messages)] if k}
    rows = Rows.of_messages(repo, ids)
    if keys:
        authors = [(p, a) for p, a in repo.comment_authors(actor.scope)
                   if author_key(p, a) in keys]
        for platform, author in authors:
            rows.comments.extend(repo.comments_by(platform, author, actor.scope))
    for key in sorted(keys):
        rows.questions.extend(repo.author_questions(key, actor.scope))
        rows.votes.extend(repo.author_votes(key, actor.scope))
    if resident.contact:
        rows.applications.extend(repo.applications_by_contact(resident.contact, actor.scope))
    return rows


def _found(session: Session, actor: Actor, resident: Resident) -> tuple[list[Message], Rows]:
    messages = _messages(session, actor, resident)
    rows = _rows(session, actor, resident, messages)
    if not messages and not len(rows):
        raise NotFound("nothing is stored about this resident")
    return messages, rows


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def export(session: Session, actor: Actor, resident: Resident) -> dict[str, Any]:
    """Everything stored about one resident: their messages, the cases they are in, the
    answers of those cases, their consents, Open311 requests and photos (152-FZ art. 14)."""
    actor.require("admin")
    messages, rows = _found(session, actor, resident)
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
        **_export_rows(rows),
    }
    audit.record(session, actor, "pd.export", "message", ids[0] if ids else None,
                 details={**resident.describe(), "messages": len(ids), "rows": len(rows)})
    return data


def _export_rows(rows: Rows) -> dict[str, list[dict[str, Any]]]:
    return {
        "campaign_questions": [{
            "id": q.id, "campaign_id": q.campaign_id, "message_id": q.message_id,
            "channel": q.channel, "text": q.text, "received_at": _iso(q.received_at),
            "status": q.status} for q in {q.id: q for q in rows.questions}.values()],
        "proposals": [{
            "id": p.id, "message_id": p.message_id, "title": p.title, "text": p.text,
            "status": p.status} for p in rows.proposals],
        "supports": [{"proposal_id": v.proposal_id, "source": v.source,
                      "created_at": _iso(v.created_at)}
                     for v in {v.id: v for v in rows.votes}.values()],
        "fake_suspects": [{"id": s.id, "message_id": s.message_id, "text": s.text}
                          for s in rows.suspects],
        "page_comments": [{"page_id": c.page_id, "post_id": c.post_id,
                           "comment_id": c.comment_id, "author_id": c.author_id,
                           "created_at": _iso(c.created_at)} for c in rows.comments],
        "contest_applications": [{
            "id": a.id, "contest_id": a.contest_id, "applicant": a.applicant,
            "contact": a.contact, "title": a.title, "summary": a.summary,
            "submitted_at": _iso(a.submitted_at)} for a in rows.applications],
    }


@dataclass(frozen=True)
class Erasure:
    """What an erasure did: messages anonymised, and rows of the later domains."""

    messages: int
    rows: int


def erase(session: Session, actor: Actor, resident: Resident) -> Erasure:
    """Anonymise everything stored about one resident now (as retention would later)."""
    actor.require("admin")
    messages, rows = _found(session, actor, resident)
    ids = [m.id for m in messages]
    now = utcnow()
    done_rows = anonymize_rows(session, rows, "erasure", now)  # first: all counted here
    done = anonymize(session, ids, "erasure", now)
    audit.record(session, actor, "pd.erase", "message", ids[0] if ids else None,
                 details={**resident.describe(), "messages": len(ids), "anonymized": done,
                          "rows": done_rows})
    return Erasure(done, done_rows)
