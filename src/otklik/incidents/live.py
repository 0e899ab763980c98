"""The detector on the live stream: a batch of enriched messages in, incidents opened or fed.

For each region of the batch the detector runs over the region's window of the stream (the
last :data:`~otklik.incidents.window.HISTORY`, from a start that moves once a day), kept in
the worker process between batches and fed only what is new, or replayed from the database
when the kept one is missing or stale (:mod:`otklik.incidents.window`): its signals are
exactly those of a replay, so a job that runs twice, two workers, or a restart see the same
thing. Only the signals that hold a message of this batch are acted on; a signal opens an
incident once (its key is unique), or feeds the open incident of the same subject and place.
The batch's other messages join an open incident of their place when they share its hazard
(or its topic, for one without a hazard).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session

from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.incidents import service, window
from otklik.incidents.detector import Place, Signal
from otklik.incidents.repository import (
    IncidentRepository,
    StreamEnrichment,
    StreamMessage,
    stream_region,
)
from otklik.incidents.thresholds import detector_settings
from otklik.incidents.window import HISTORY, MAX_HISTORY, observation
from otklik.models.incident import Incident, IncidentStatus
from otklik.models.territory import Territory
from otklik.nlp.taxonomy import load_taxonomy
from otklik.territories.repository import TerritoryRepository

__all__ = ["HISTORY", "MAX_HISTORY", "LiveResult", "detect", "observation"]

log = logging.getLogger(__name__)

SYSTEM = "детектор"


@dataclass
class LiveResult:
    """What one batch did."""

    opened: list[int] = field(default_factory=list)
    fed: dict[int, int] = field(default_factory=dict)  # incident id -> messages linked


def detect(session: Session, message_ids: Sequence[int]) -> LiveResult:
    """Run the detector for a live batch and open or feed incidents (never commits)."""
    repo = IncidentRepository(session)
    batch = repo.stream_rows(message_ids)
    result = LiveResult()
    if not batch:
        return result
    settings = detector_settings(session)
    taxonomy = load_taxonomy()
    topic_names = {code: taxonomy.name(code) for code in taxonomy.topic_codes}
    by_region: dict[str | None, list[tuple[StreamMessage, StreamEnrichment]]] = {}
    for m, e in batch:
        by_region.setdefault(stream_region(m, e), []).append((m, e))
    work: list[tuple[str | None, list[Signal], dict[int, Place]]] = []
    with window.memory_of(session) as memory:  # the windows are this process's, one at a time
        new = window.read_new(session, memory, batch)
        if new is not None:  # (a backlog rebuilds every window: no digest is checked)
            window.read_digests(session, memory, by_region, settings, str(taxonomy.version))
        try:
            for region, in_region in sorted(by_region.items(), key=lambda kv: kv[0] or ""):
                kept = window.window_for(session, memory, region, in_region, new, settings,
                                         str(taxonomy.version), topic_names)
                ours = {str(m.id) for m, _ in in_region}
                # Copies: the kept detector goes on attaching to its signals in other threads.
                signals = [copy.deepcopy(s) for s in kept.detector.signals
                           if not ours.isdisjoint(s.message_ids)]
                work.append((region, signals, kept.places(memory)))
        finally:
            memory.digests.clear()
    # the incidents still being run in the batch's regions, read at once (oldest first); one
    # a signal opens here joins its region's list
    active = repo.active_in_regions([region for region, _, _ in work])
    for region, signals, places in work:
        handled: set[int] = set()
        for signal in signals:
            incident = _incident_for(session, signal, region or "", places, result,
                                     active.setdefault(region or None, []))
            ids = [int(i) for i in signal.message_ids]
            linked, _ = service.link(session, incident, ids)
            grown = signal.people_affected()
            if grown and grown > (incident.people_affected or 0):  # more authors, more people
                incident.people_affected = grown
            if linked:
                result.fed[incident.id] = result.fed.get(incident.id, 0) + len(linked)
            handled.update(ids)
        rest = [(m, e) for m, e in by_region[region] if m.id not in handled]
        _join_open(session, rest, active.get(region or None, []), result)
    return result


def _signal_key(region: str, signal: Signal) -> str:
    place = signal.municipality or signal.settlement
    where = (place.key if place else None) or "-"
    return f"{region}:{where}:{signal.topic['code']}:{signal.first_message_id}"[:255]


def _territory(session: Session, place: Place | None, places: Mapping[int, Place]
               ) -> Territory | None:
    if place is None:
        return None
    for territory_id, known in places.items():
        if (place.oktmo and known.oktmo == place.oktmo) or (
                not place.oktmo and known.name == place.name):
            return TerritoryRepository(session).get(territory_id)
    return None


def _matches(incident: Incident, municipality_id: int | None, street: str | None,
             hazards: set[str], topic: str | None) -> bool:
    """Same place (municipality, or street when neither names one) and same subject."""
    if incident.municipality_id != municipality_id:
        return False
    if municipality_id is None and (incident.street or "").lower() != (street or "").lower():
        return False
    if incident.hazard:
        return incident.hazard in hazards
    return not hazards and incident.topic == topic


def _incident_for(session: Session, signal: Signal, region: str,
                  places: Mapping[int, Place], result: LiveResult, active: list[Incident]
                  ) -> Incident:
    """The incident of a signal: the one it opened, else an active one of its place and
    subject (``active``: the region's, oldest first), else a new one (added to ``active``)."""
    repo = IncidentRepository(session)
    key = _signal_key(region, signal)
    found = repo.by_signal(key)
    if found is not None:
        if found.status == IncidentStatus.merged and found.merged_into_id:
            return repo.get(found.merged_into_id) or found
        return found
    municipality = _territory(session, signal.municipality, places)
    settlement = _territory(session, signal.settlement, places)
    hazard = _main_hazard(signal)
    street = next(iter(signal.streets), None) or (
        signal.settlement.name if signal.settlement and not signal.settlement.oktmo else None)
    for incident in active:
        if _matches(incident, municipality.id if municipality else None, street,
                    set(signal.hazards), signal.topic["code"]):
            service.add_entry(session, incident, "signal", SYSTEM,
                              signal.reason.get("text", ""), details=_details(signal),
                              dedup_key=f"signal:{key}"[:128], at=signal.fired_at)
            return incident
    incident = repo.add(Incident(
        title=_title(signal, hazard, settlement or municipality), kind=signal.kind,
        hazard=hazard, topic=signal.topic["code"], region_code=region or None,
        municipality_id=municipality.id if municipality else None,
        settlement_id=settlement.id if settlement else None, street=street,
        territory_ids=[t.id for t in (municipality, settlement) if t is not None],
        severity=signal.severity(), status=IncidentStatus.open,
        opened_by=f"{SYSTEM}: {signal.kind}", signal_key=key, signal=signal.as_dict(),
        started_at=min((o for o in [signal.fired_at]), default=signal.fired_at)))
    incident.people_affected = signal.people_affected() or service.estimate_people(
        session, incident)
    service.add_entry(session, incident, "signal", SYSTEM, signal.reason.get("text", ""),
                      details=_details(signal), dedup_key=f"signal:{key}"[:128],
                      at=signal.fired_at)
    audit.record(session, Actor.system("incidents"), "incident.open", "incident", incident.id,
                 region_code=incident.region_code, details={"signal": key})
    service.announce_opened(session, incident)
    result.opened.append(incident.id)
    active.append(incident)  # the newest: the list stays oldest first
    return incident


def _details(signal: Signal) -> dict[str, object]:
    return {"kind": signal.kind, "confidence": signal.confidence,
            "observed_authors": signal.reason.get("observed_authors"),
            "expected": signal.reason.get("expected"), "words": signal.reason.get("words"),
            "authors": len(signal.authors), "first_message_id": signal.first_message_id}


def _main_hazard(signal: Signal) -> str | None:
    if signal.reason.get("hazard"):
        return str(signal.reason["hazard"])
    return sorted(signal.hazards)[0] if signal.hazards else None


def _title(signal: Signal, hazard: str | None, place: Territory | None) -> str:
    what = service.HAZARD_TITLES.get(hazard or "") or signal.topic.get("name") or "Всплеск"
    where = place.name if place else (next(iter(signal.streets), None) or "")
    return f"{what} — {where}"[:300] if where else what[:300]


def _join_open(session: Session, rows: Sequence[tuple[StreamMessage, StreamEnrichment]],
               active: Sequence[Incident], result: LiveResult) -> None:
    """Messages of the batch no signal took: they join an open incident of their place and
    subject (messages written after it began; ``active``: the region's, oldest first)."""
    if not rows or not active:
        return
    for message, enrichment in rows:
        hazards = set(((enrichment.result or {}).get("urgency") or {}).get("signals") or ())
        for incident in active:
            if message.created_at < incident.started_at - timedelta(hours=3):
                continue
            if _matches(incident, enrichment.municipality_id, enrichment.street, hazards,
                        enrichment.topic):
                new, _ = service.link(session, incident, [message.id])
                if new:
                    result.fed[incident.id] = result.fed.get(incident.id, 0) + 1
                break
