"""Incidents API: list, read, timeline, updates; open, change, merge, close; the bulk
answer (propose, approve: four eyes); the detector's thresholds."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from otklik.bounds import RefId
from otklik.deps import CurrentActor, SessionDep
from otklik.incidents import informing, service, thresholds
from otklik.incidents.repository import IncidentRepository
from otklik.incidents.schemas import (
    AnswerPropose,
    AnswerSent,
    IncidentChange,
    IncidentClose,
    IncidentList,
    IncidentMerge,
    IncidentOpen,
    IncidentRead,
    PendingAnswer,
    ThresholdList,
    ThresholdRead,
    ThresholdSet,
    TimelineEntry,
    TimelineList,
    UpdateCreate,
    UpdateList,
    UpdateRead,
)
from otklik.models.incident import Incident
from otklik.paging import Limit, Offset

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])


def read(session: SessionDep, incident: Incident) -> IncidentRead:
    """An incident with its counts."""
    repo = IncidentRepository(session)
    return IncidentRead.model_validate(incident).model_copy(update={
        "messages": repo.count_messages(incident.id),
        "cases": len(repo.linked_case_ids(incident.id))})


@router.get("", response_model=IncidentList)
def list_incidents(
    actor: CurrentActor, session: SessionDep,
    status: Annotated[str | None, Query(pattern=r"^[a-z_]{2,16}$")] = None,
    region_code: Annotated[str | None, Query(pattern=r"^\d{2,3}$")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> IncidentList:
    """Incidents in the caller's scope, newest first."""
    items, total = service.list_incidents(session, actor, status=status,
                                          region_code=region_code, limit=limit, offset=offset)
    return IncidentList(items=[read(session, i) for i in items], total=total, limit=limit,
                        offset=offset)


@router.get("/thresholds", response_model=ThresholdList)
def list_thresholds(
    actor: CurrentActor, session: SessionDep,
    region_code: Annotated[str | None, Query(
        pattern=r"^(\d{2,3})?$", description="a region's overrides; empty: the shared ones")
    ] = None,
    topic: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 50, offset: Offset = 0,
) -> ThresholdList:
    """The detector's default thresholds and a page of the stored overrides (administrators);
    optionally of one region and/or topic."""
    rows = [ThresholdRead.model_validate(r) for r in thresholds.visible_thresholds(session, actor)
            if (region_code is None or r.region_code == region_code)
            and (topic is None or r.topic == topic)]
    return ThresholdList(defaults=thresholds.defaults(), items=rows[offset:offset + limit],
                         total=len(rows), limit=limit, offset=offset)


@router.put("/thresholds", response_model=ThresholdRead | None)
def set_thresholds(payload: ThresholdSet, actor: CurrentActor, session: SessionDep
                   ) -> ThresholdRead | None:
    """Store the overrides of a region and/or topic (validated, audited); empty: remove."""
    row = thresholds.set_thresholds(session, actor, payload.region_code, payload.topic,
                                    dict(payload.values))
    return ThresholdRead.model_validate(row) if row is not None else None


@router.post("", response_model=IncidentRead, status_code=201)
def open_incident(payload: IncidentOpen, actor: CurrentActor, session: SessionDep
                  ) -> IncidentRead:
    """Open an incident by hand from a case or a problem."""
    return read(session, service.open_by_hand(
        session, actor, case_id=payload.case_id, problem_id=payload.problem_id,
        title=payload.title, severity=payload.severity, hq_person=payload.hq_person))


@router.get("/{incident_id}", response_model=IncidentRead)
def get(incident_id: RefId, actor: CurrentActor, session: SessionDep) -> IncidentRead:
    """One incident."""
    return read(session, service.get_incident(session, actor, incident_id))


@router.patch("/{incident_id}", response_model=IncidentRead)
def change(incident_id: RefId, payload: IncidentChange, actor: CurrentActor,
           session: SessionDep) -> IncidentRead:
    """Change severity, people affected, HQ, organizations, or move the status."""
    actor.require("write")  # also for an empty change: a reader learns nothing by writing
    incident = service.get_incident(session, actor, incident_id)
    changes = payload.model_dump(exclude_unset=True)
    status = changes.pop("status", None)
    if changes:
        service.edit(session, actor, incident, changes)
    if status:
        service.move(session, actor, incident, status)
    return read(session, incident)


@router.get("/{incident_id}/timeline", response_model=TimelineList)
def timeline(incident_id: RefId, actor: CurrentActor, session: SessionDep,
             limit: Limit = 50, offset: Offset = 0) -> TimelineList:
    """Every step, in time order, with its author."""
    incident = service.get_incident(session, actor, incident_id)
    rows, total = IncidentRepository(session).timeline_page(incident.id, limit, offset)
    return TimelineList(items=[TimelineEntry.model_validate(e) for e in rows], total=total,
                        limit=limit, offset=offset)


@router.get("/{incident_id}/updates", response_model=UpdateList)
def updates(incident_id: RefId, actor: CurrentActor, session: SessionDep,
            limit: Limit = 50, offset: Offset = 0) -> UpdateList:
    """Public updates, newest first, with where they were published."""
    incident = service.get_incident(session, actor, incident_id)
    return UpdateList.of([UpdateRead.model_validate(u)
                          for u in IncidentRepository(session).updates(incident.id)],
                         limit, offset)


@router.post("/{incident_id}/updates", response_model=UpdateRead, status_code=201)
def add_update(incident_id: RefId, payload: UpdateCreate, actor: CurrentActor,
               session: SessionDep) -> UpdateRead:
    """Publish an update for residents (page and channels)."""
    incident = service.get_incident(session, actor, incident_id)
    return UpdateRead.model_validate(informing.publish_update(session, actor, incident,
                                                              payload.text))


@router.post("/{incident_id}/answer", response_model=PendingAnswer)
def propose_answer(incident_id: RefId, payload: AnswerPropose, actor: CurrentActor,
                   session: SessionDep) -> PendingAnswer:
    """Propose one answer for every linked case; another person approves it."""
    incident = service.get_incident(session, actor, incident_id)
    informing.propose_answer(session, actor, incident, payload.text)
    return PendingAnswer.model_validate(incident.pending_answer)


@router.post("/{incident_id}/answer/approve", response_model=AnswerSent)
def approve_answer(incident_id: RefId, actor: CurrentActor, session: SessionDep
                   ) -> AnswerSent:
    """Approve the proposed answer (not one's own): each linked case is answered."""
    incident = service.get_incident(session, actor, incident_id)
    return AnswerSent(**informing.approve_answer(session, actor, incident))


@router.post("/{incident_id}/merge", response_model=IncidentRead)
def merge(incident_id: RefId, payload: IncidentMerge, actor: CurrentActor,
          session: SessionDep) -> IncidentRead:
    """Fold another incident into this one."""
    target = service.get_incident(session, actor, incident_id)
    source = service.get_incident(session, actor, payload.source_id)
    return read(session, service.merge(session, actor, target, source))


@router.post("/{incident_id}/close", response_model=IncidentRead)
def close(incident_id: RefId, payload: IncidentClose, actor: CurrentActor,
          session: SessionDep) -> IncidentRead:
    """Close with a summary."""
    incident = service.get_incident(session, actor, incident_id)
    return read(session, service.close(session, actor, incident, payload.summary))
