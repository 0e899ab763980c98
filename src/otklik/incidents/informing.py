"""Informing residents: public updates and one answer to every linked case.

* A **public update** ("подвоз воды: ул. Ленина, 10:00-12:00") is stored, shown on the
  public incident page and published after commit (:mod:`otklik.incidents.tasks`) through the
  region's configured connectors (``incident_channel``: a connector and the post or thread it
  is published under), once per channel whatever the retries.
* A **bulk answer** takes the cases' own path with four eyes: one person proposes the text,
  another approves it; on approval each linked case is answered through
  :mod:`otklik.cases.answers` (draft by the proposer, submitted, approved by the approver —
  the cases' rule that nobody approves their own answer holds) and published under each of
  its messages by the cases' publishing job. A linked case already answered, closed or
  rejected is left as it is (its resident has their answer, and answering again would
  reopen a finished case behind its executor's back); one still in triage has no executor
  to answer for and is left to the operators. The timeline's line counts each kind, so
  nobody reads "0 answered" without knowing why.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from otklik import events
from otklik.accounts.scope import Scope
from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.cases import answers
from otklik.cases import service as cases
from otklik.channels import service as connectors
from otklik.channels.connectors.base import ConnectorError, Reply
from otklik.channels.repository import ConnectorRepository
from otklik.db.base import utcnow
from otklik.errors import Conflict, Forbidden, InvalidInput, OtklikError
from otklik.events import IncidentUpdated
from otklik.incidents import service
from otklik.incidents.repository import IncidentRepository
from otklik.models.case import CaseStatus
from otklik.models.incident import Incident, IncidentChannel, IncidentStatus, IncidentUpdate

log = logging.getLogger(__name__)
MAX_UPDATE = 4000


def publish_update(session: Session, actor: Actor, incident: Incident, text: str
                   ) -> IncidentUpdate:
    """A public update: on the public page at once, to the region's channels after commit."""
    actor.require("write")
    text = text.strip()
    if len(text) < 5:
        raise InvalidInput("write the update for residents (at least 5 characters)")
    if len(text) > MAX_UPDATE:
        raise InvalidInput(f"an update is at most {MAX_UPDATE} characters")
    if incident.status in (IncidentStatus.closed, IncidentStatus.merged):
        raise Conflict(f"incident {incident.id} is {incident.status.value}")
    update = IncidentRepository(session).add_update(IncidentUpdate(
        incident_id=incident.id, text=text, author=actor.label[:255], author_id=actor.user_id))
    service.add_entry(session, incident, "public_update", actor.label, text,
                      author_id=actor.user_id, details={"update_id": update.id})
    audit.record(session, actor, "incident.update", "incident", incident.id,
                 region_code=incident.region_code, details={"update_id": update.id})
    events.announce(session, IncidentUpdated(incident_id=incident.id, kind="update",
                                             text=text[:500]))
    from otklik.incidents.tasks import publish_update_job
    from otklik.queue import enqueue_after_commit

    enqueue_after_commit(session, publish_update_job, update.id)
    return update


def deliver_update(session: Session, update_id: int) -> dict[str, Any]:
    """Publish an update to each enabled channel of its region not yet published to; a
    channel that fails is recorded and does not stop the others (a retry tries it again)."""
    update = session.get(IncidentUpdate, update_id)
    if update is None:
        return {}
    incident = IncidentRepository(session).get(update.incident_id)
    if incident is None:
        return {}
    deliveries = dict(update.deliveries or {})
    for channel in IncidentRepository(session).channels(incident.region_code):
        key = str(channel.id)
        if (deliveries.get(key) or {}).get("status") == "published":
            continue
        deliveries[key] = _deliver(session, channel, update)
    update.deliveries = deliveries
    return deliveries


def _deliver(session: Session, channel: IncidentChannel, update: IncidentUpdate
             ) -> dict[str, Any]:
    row = ConnectorRepository(session).get(channel.connector_id)
    if row is None or not row.enabled:
        return {"status": "no_channel", "at": utcnow().isoformat()}
    connector = connectors.build(row)
    try:
        external = connector.publish(Reply(
            target_source_id=channel.target_source_id, text=update.text,
            idempotency_key=f"incident-update-{update.id}-channel-{channel.id}"))
    except ConnectorError as exc:
        log.warning("incident update %s to channel %s failed: %s", update.id, channel.id,
                    exc.message)
        return {"status": "failed", "error": exc.message[:500], "at": utcnow().isoformat()}
    finally:
        connector.close()
    return {"status": "published", "external_id": external, "at": utcnow().isoformat()}


def add_channel(session: Session, actor: Actor, region_code: str, connector_id: int,
                target_source_id: str) -> IncidentChannel:
    """An admin names a connector and the post updates of the region go under."""
    actor.require("admin")
    if not actor.scope.sees_region(region_code):
        raise InvalidInput(f"region {region_code} is not yours")
    if ConnectorRepository(session).get(connector_id) is None:
        raise InvalidInput(f"connector {connector_id} not found")
    channel = IncidentRepository(session).add_channel(IncidentChannel(
        region_code=region_code, connector_id=connector_id,
        target_source_id=target_source_id.strip()[:255]))
    audit.record(session, actor, "incident.channel", "incident_channel", channel.id,
                 region_code=region_code)
    return channel


def propose_answer(session: Session, actor: Actor, incident: Incident, text: str) -> None:
    """Propose one answer for every linked case; another person approves it."""
    actor.require("write")
    text = text.strip()
    if len(text) < answers.MIN_ANSWER:
        raise InvalidInput(f"the answer is too short: write at least {answers.MIN_ANSWER} "
                           "characters")
    if not IncidentRepository(session).linked_case_ids(incident.id):
        raise InvalidInput(f"incident {incident.id} has no cases to answer")
    incident.pending_answer = {"text": text[:20000], "by": actor.label,
                               "by_id": actor.user_id, "at": utcnow().isoformat()}
    service.add_entry(session, incident, "answer_proposed", actor.label, text[:20000],
                      author_id=actor.user_id)
    audit.record(session, actor, "incident.answer.propose", "incident", incident.id,
                 region_code=incident.region_code)


def approve_answer(session: Session, actor: Actor, incident: Incident, *,
                   cases_until: datetime | None = None) -> dict[str, int]:
    """Approve the proposed answer: each linked case is answered through the cases' path.
    ``cases_until``: only the cases made by then (a replay of past days, like the demo's,
    answers the cases there were at that moment; live, every linked case is there)."""
    actor.require("moderate")
    if actor.scope.narrowed:
        raise Forbidden("an incident's answer goes to all its cases: approve it from the "
                        "center, not from a district or organization account")
    pending = incident.pending_answer
    if not pending:
        raise InvalidInput(f"incident {incident.id} has no proposed answer")
    if pending.get("by_id") is not None and pending.get("by_id") == actor.user_id:
        raise Forbidden("you cannot approve your own answer: another person must moderate it")
    drafter = Actor(label=str(pending.get("by") or "штаб"), user_id=pending.get("by_id"),
                    scope=Scope.system())
    counts = {"answered": 0, "already": 0, "not_routed": 0, "failed": 0}
    for case in IncidentRepository(session).cases(Scope.system(), incident.id):
        if cases_until is not None and case.created_at > cases_until:
            continue
        counts[_answer_case(session, drafter, actor, case, str(pending["text"]))] += 1
    incident.pending_answer = None
    service.add_entry(session, incident, "bulk_answer", actor.label, _answer_line(counts),
                      author_id=actor.user_id, details={**counts, "proposed_by": drafter.label})
    audit.record(session, actor, "incident.answer.approve", "incident", incident.id,
                 region_code=incident.region_code, details=counts)
    events.announce(session, IncidentUpdated(
        incident_id=incident.id, kind="answer",
        text=f"ответ жителям по {counts['answered']} обращениям"))
    return counts


def _answer_line(counts: dict[str, int]) -> str:
    """The timeline's line: how many cases got the answer, and why the others did not."""
    parts = [f"Ответ одобрен и отправлен: {counts['answered']} обращений"]
    for key, words in (("already", "уже получили ответ раньше"),
                       ("not_routed", "ещё не направлены исполнителю"),
                       ("failed", "не удалось ответить")):
        if counts[key]:
            parts.append(f"{words}: {counts[key]}")
    return "; ".join(parts)


def _answer_case(session: Session, drafter: Actor, approver: Actor, case: Any, text: str
                 ) -> str:
    if case.status in (CaseStatus.answered, CaseStatus.closed, CaseStatus.rejected):
        return "already"
    if case.status in (CaseStatus.new, CaseStatus.triage):
        return "not_routed"
    savepoint = session.begin_nested()
    try:
        if case.status == CaseStatus.routed:
            cases.accept(session, drafter, case)
        answers.draft(session, drafter, case, text)
        answers.submit(session, drafter, case)
        answers.approve(session, approver, case)
    except OtklikError as exc:
        savepoint.rollback()
        log.warning("bulk answer to case %s failed: %s", case.id, exc.message)
        return "failed"
    savepoint.commit()
    return "answered"
