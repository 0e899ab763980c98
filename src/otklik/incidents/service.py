"""Running an incident: open (from a signal or by hand), link, acknowledge, work, merge, close.

Every step is an entry on the incident's timeline (author and time), a line in the audit log
and, where an alert thread should hear it, an event (:class:`otklik.events.IncidentOpened`,
``IncidentUpdated``, ``IncidentClosed``) announced after commit. Services never commit.
Residents are informed by :mod:`otklik.incidents.informing` (public updates, bulk answers).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from otklik import events
from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.cases import service as cases
from otklik.cases.repository import CaseRepository
from otklik.db.base import utcnow
from otklik.errors import Conflict, InvalidInput, NotFound
from otklik.events import AlertAcknowledged, IncidentClosed, IncidentOpened, IncidentUpdated
from otklik.incidents.repository import IncidentRepository
from otklik.models.case import Case, Problem
from otklik.models.incident import (
    ACTIVE_INCIDENT_STATUSES,
    Incident,
    IncidentEntry,
    IncidentStatus,
)
from otklik.models.territory import Territory
from otklik.territories.repository import TerritoryRepository

SEVERITIES = ("normal", "high", "critical")
#: The moves a person makes by hand (closing and merging have their own functions).
MOVES: dict[str, tuple[IncidentStatus, ...]] = {
    "acknowledged": (IncidentStatus.open,),
    "in_work": (IncidentStatus.open, IncidentStatus.acknowledged),
    "resolved": (IncidentStatus.open, IncidentStatus.acknowledged, IncidentStatus.in_work),
}
HAZARD_TITLES = {
    "no_water": "Нет воды", "no_heating": "Нет отопления", "no_power": "Нет электричества",
    "no_gas": "Нет газа", "sewage": "Авария канализации", "flood": "Подтопление",
    "fire": "Пожар", "explosion": "Взрыв", "gas_smell": "Запах газа",
    "collapse": "Обрушение", "people_trapped": "Люди заблокированы",
    "threat_to_life": "Угроза жизни", "live_wire": "Оборванный провод",
    "children_at_risk": "Дети в опасности",
}


def url_path(incident_id: int) -> str:
    """The incident room."""
    return f"/incidents/{incident_id}"


def get_incident(session: Session, actor: Actor, incident_id: int) -> Incident:
    """An incident in the actor's scope (404 otherwise)."""
    actor.require("read")
    incident = IncidentRepository(session).visible(actor.scope, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} not found")
    return incident


def list_incidents(session: Session, actor: Actor, *, status: str | None = None,
                   region_code: str | None = None, limit: int = 50, offset: int = 0
                   ) -> tuple[Sequence[Incident], int]:
    """Incidents in the actor's scope, newest first."""
    actor.require("read")
    if status and status not in IncidentStatus.__members__:
        raise InvalidInput(f"unknown status {status!r}")
    return IncidentRepository(session).page(actor.scope, status=status, region_code=region_code,
                                            limit=limit, offset=offset)


def add_entry(session: Session, incident: Incident, kind: str, author: str, text: str = "", *,
              author_id: int | None = None, details: dict[str, Any] | None = None,
              dedup_key: str | None = None, at: datetime | None = None) -> IncidentEntry | None:
    """A step on the timeline (None: that step, by its dedup key, is already there)."""
    incident.updated_at = utcnow()
    return IncidentRepository(session).add_entry(IncidentEntry(
        incident_id=incident.id, kind=kind, author=author[:255], author_id=author_id,
        text=text, details=details or {}, dedup_key=dedup_key, at=at or utcnow()))


def _entry_by(session: Session, actor: Actor, incident: Incident, kind: str, text: str = "",
              **details: Any) -> IncidentEntry | None:
    return add_entry(session, incident, kind, actor.label, text, author_id=actor.user_id,
                     details=details)


def territories_of(session: Session, incident: Incident) -> list[Territory]:
    """The incident's territories, as stored."""
    found = TerritoryRepository(session).many(incident.territory_ids or [])
    return [found[i] for i in incident.territory_ids or [] if i in found]


def estimate_people(session: Session, incident: Incident) -> int | None:
    """The territories' population: the settlement's if one is named, else the municipality's
    (an estimate; the detector's own estimate wins when it has one)."""
    places = TerritoryRepository(session).many(
        t for t in (incident.settlement_id, incident.municipality_id) if t is not None)
    for territory_id in (incident.settlement_id, incident.municipality_id):
        place = places.get(territory_id or 0)
        if place is not None and place.population:
            return int(place.population)
    return None


def opened_event(session: Session, incident: Incident) -> IncidentOpened:
    """What the alert threads are told when the incident opens."""
    region = (TerritoryRepository(session).region(incident.region_code)
              if incident.region_code else None)
    return IncidentOpened(
        incident_id=incident.id, title=incident.title, severity=incident.severity,
        region_id=region.id if region else None, territory_ids=list(incident.territory_ids or []),
        people_affected=incident.people_affected, url_path=url_path(incident.id))


def announce_opened(session: Session, incident: Incident) -> None:
    """Tell the alert threads (after commit) that the incident is open."""
    events.announce(session, opened_event(session, incident))


def link(session: Session, incident: Incident, message_ids: Iterable[int],
         case_ids: Iterable[int] = ()) -> tuple[list[int], list[int]]:
    """Link messages (their cases follow them) and these cases to the incident; idempotent."""
    repo = IncidentRepository(session)
    messages = repo.add_messages(incident.id, message_ids)
    # The cases of these messages are the incident's through them (see the repository):
    # only cases named here are linked themselves.
    linked_cases = repo.add_cases(incident.id, case_ids)
    if messages or linked_cases:
        incident.updated_at = utcnow()
    return messages, linked_cases


def open_by_hand(session: Session, actor: Actor, *, case_id: int | None = None,
                 problem_id: int | None = None, title: str | None = None,
                 severity: str = "high", hq_person: str | None = None) -> Incident:
    """Open an incident from a case or a problem (its cases and messages join it)."""
    actor.require("write")
    if severity not in SEVERITIES:
        raise InvalidInput(f"severity is one of {', '.join(SEVERITIES)}")
    if (case_id is None) == (problem_id is None):
        raise InvalidInput("open an incident from one case or one problem")
    found: list[Case]
    problem: Problem | None = None
    base: Case | Problem
    if case_id is not None:
        base = cases.get_case(session, actor, case_id)
        found, origin = [base], f"case:{base.id}"
    else:
        problem = base = cases.get_problem(session, actor, problem_id or 0)
        found = list(CaseRepository(session).cases_of_problem(actor.scope, problem.id))
        origin = f"problem:{problem.id}"
    incident = IncidentRepository(session).add(Incident(
        title=(title or base.title or "Происшествие").strip()[:300], kind="manual",
        topic=base.topic, subtopic=base.subtopic, region_code=base.region_code,
        municipality_id=base.municipality_id, settlement_id=base.settlement_id,
        street=base.street,
        territory_ids=[t for t in (base.municipality_id, base.settlement_id) if t is not None],
        severity=severity, status=IncidentStatus.open, hq_person=hq_person,
        opened_by=f"{actor.label} ({origin})", problem_id=problem.id if problem else None,
        organization_ids=sorted({c.executor_id for c in found if c.executor_id}),
        started_at=min((c.received_at for c in found), default=utcnow())))
    incident.people_affected = estimate_people(session, incident)
    message_ids = [m.id for c in found for m in CaseRepository(session).messages(c.id)]
    link(session, incident, message_ids, [c.id for c in found])
    _entry_by(session, actor, incident, "opened", f"Открыто вручную ({origin})", origin=origin)
    audit.record(session, actor, "incident.open", "incident", incident.id,
                 region_code=incident.region_code, details={"from": origin})
    announce_opened(session, incident)
    return incident


def acknowledge(session: Session, event: AlertAcknowledged) -> bool:
    """The person on duty acknowledged the alert: on the timeline once, the incident marked
    acknowledged (if it was open). False when the incident is unknown or already had it."""
    incident = IncidentRepository(session).get(event.subject_id)
    if incident is None or event.subject != "incident":
        return False
    by = event.by or (f"user {event.user_id}" if event.user_id else "дежурный")
    via = f" через {event.channel}" if event.channel else ""
    entry = add_entry(session, incident, "acknowledged", by, f"Оповещение принято: {by}{via}",
                      author_id=event.user_id, dedup_key=f"ack:{event.alert_id}",
                      details={"alert_id": event.alert_id, "channel": event.channel})
    if entry is None:
        return False
    if incident.status == IncidentStatus.open:
        incident.status = IncidentStatus.acknowledged
    incident.acknowledged_at = incident.acknowledged_at or entry.at
    audit.record(session, Actor.system(f"alert:{event.channel or 'notify'}"),
                 "incident.acknowledge", "incident", incident.id,
                 region_code=incident.region_code,
                 details={"alert_id": event.alert_id, "by": by, "channel": event.channel})
    return True


def move(session: Session, actor: Actor, incident: Incident, status: str) -> Incident:
    """acknowledged / in_work / resolved by hand."""
    actor.require("write")
    sources = MOVES.get(status)
    if sources is None:
        raise InvalidInput(f"status is one of {', '.join(MOVES)}")
    if incident.status not in sources:
        raise Conflict(f"incident {incident.id} is {incident.status.value}: cannot move to "
                       f"{status}")
    previous = incident.status
    incident.status = IncidentStatus(status)
    if status == "acknowledged":
        incident.acknowledged_at = utcnow()
    _entry_by(session, actor, incident, status, f"{previous.value} → {status}")
    audit.record(session, actor, f"incident.{status}", "incident", incident.id,
                 region_code=incident.region_code)
    events.announce(session, IncidentUpdated(incident_id=incident.id, kind="status",
                                             text=status))
    return incident


def edit(session: Session, actor: Actor, incident: Incident, changes: dict[str, Any]
         ) -> Incident:
    """Change title, severity, people affected, HQ person or responsible organizations."""
    actor.require("write")
    allowed = {"title", "severity", "people_affected", "hq_person", "organization_ids"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(f"cannot change {', '.join(sorted(unknown))}")
    if "severity" in changes and changes["severity"] not in SEVERITIES:
        raise InvalidInput(f"severity is one of {', '.join(SEVERITIES)}")
    if changes.get("people_affected") is not None and int(changes["people_affected"]) < 0:
        raise InvalidInput("people affected cannot be negative")
    if "organization_ids" in changes:
        from otklik.organizations.repository import OrganizationRepository

        orgs = OrganizationRepository(session)
        ids = sorted({int(i) for i in changes["organization_ids"] or []})
        if any(orgs.get(i) is None for i in ids):
            raise InvalidInput("unknown organization")
        changes["organization_ids"] = ids
    done = {k: v for k, v in changes.items() if getattr(incident, k) != v}
    for name, value in done.items():
        setattr(incident, name, value)
    if done:
        _entry_by(session, actor, incident, "edited",
                  "; ".join(f"{k}: {v}" for k, v in done.items()), changes=done)
        audit.record(session, actor, "incident.edit", "incident", incident.id,
                     region_code=incident.region_code, details={"changes": done})
        if "severity" in done:
            events.announce(session, IncidentUpdated(incident_id=incident.id, kind="severity",
                                                     text=str(done["severity"])))
    return incident


def add_measure(session: Session, actor: Actor, incident: Incident, text: str) -> IncidentEntry:
    """A measure taken (a regime declared, tankers sent) on the timeline."""
    actor.require("write")
    text = text.strip()
    if len(text) < 3:
        raise InvalidInput("describe the measure")
    _active(incident)
    entry = _entry_by(session, actor, incident, "measure", text[:5000])
    assert entry is not None
    audit.record(session, actor, "incident.measure", "incident", incident.id,
                 region_code=incident.region_code)
    events.announce(session, IncidentUpdated(incident_id=incident.id, kind="measure",
                                             text=text[:500]))
    return entry


def _active(incident: Incident) -> None:
    if incident.status not in ACTIVE_INCIDENT_STATUSES and \
            incident.status != IncidentStatus.resolved:
        raise Conflict(f"incident {incident.id} is {incident.status.value}")


def merge(session: Session, actor: Actor, target: Incident, source: Incident) -> Incident:
    """Fold ``source`` into ``target``: its messages and cases join, it is marked merged."""
    actor.require("write")
    if target.id == source.id:
        raise InvalidInput("an incident cannot be merged into itself")
    if source.status in (IncidentStatus.closed, IncidentStatus.merged):
        raise Conflict(f"incident {source.id} is {source.status.value}")
    _active(target)
    messages, linked_cases = IncidentRepository(session).move_links(source.id, target.id)
    target.territory_ids = sorted({*(target.territory_ids or []), *(source.territory_ids or [])})
    target.organization_ids = sorted({*(target.organization_ids or []),
                                      *(source.organization_ids or [])})
    if (source.people_affected or 0) > (target.people_affected or 0):
        target.people_affected = source.people_affected
    if SEVERITIES.index(source.severity) > SEVERITIES.index(target.severity):
        target.severity = source.severity
    target.started_at = min(target.started_at, source.started_at)
    source.status, source.merged_into_id, source.closed_at = (
        IncidentStatus.merged, target.id, utcnow())
    _entry_by(session, actor, target, "merged", f"Присоединено происшествие № {source.id}",
              source=source.id, messages=messages, cases=linked_cases)
    _entry_by(session, actor, source, "merged", f"Объединено с происшествием № {target.id}",
              target=target.id)
    audit.record(session, actor, "incident.merge", "incident", target.id,
                 region_code=target.region_code, details={"source": source.id})
    events.announce(session, IncidentUpdated(incident_id=target.id, kind="merged",
                                             text=f"+ № {source.id}"))
    events.announce(session, IncidentClosed(incident_id=source.id,
                                            summary=f"объединено с № {target.id}"))
    return target


def close(session: Session, actor: Actor, incident: Incident, summary: str) -> Incident:
    """Close with a summary (what happened, what was done, when it ended)."""
    actor.require("write")
    summary = summary.strip()
    if len(summary) < 10:
        raise InvalidInput("write a summary of the incident (at least 10 characters)")
    if incident.status in (IncidentStatus.closed, IncidentStatus.merged):
        raise Conflict(f"incident {incident.id} is already {incident.status.value}")
    incident.status, incident.summary, incident.closed_at = (
        IncidentStatus.closed, summary[:10000], utcnow())
    _entry_by(session, actor, incident, "closed", summary[:10000])
    audit.record(session, actor, "incident.close", "incident", incident.id,
                 region_code=incident.region_code)
    events.announce(session, IncidentClosed(incident_id=incident.id, summary=summary[:2000]))
    return incident
