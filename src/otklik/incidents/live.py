"""The detector on the live stream: a batch of enriched messages in, incidents opened or fed.

The state is rebuilt, not kept: for each region of the batch the detector replays the
region's stored messages of the last :data:`HISTORY` (at most :data:`MAX_HISTORY` of them) in
time order, so a job that runs twice, two workers, or a restart see the same thing. Only the
signals that hold a message of this batch are acted on; a signal opens an incident once (its
key is unique), or feeds the open incident of the same subject and place. The batch's other
messages join an open incident of their place when they share its hazard (or its topic, for
one without a hazard).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session

from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.incidents import service
from otklik.incidents.detector import TRACKED_HAZARDS, Detector, Observation, Place, Signal
from otklik.incidents.repository import IncidentRepository, StreamEnrichment, StreamMessage
from otklik.incidents.thresholds import detector_settings
from otklik.models.incident import Incident, IncidentStatus
from otklik.models.message import Message, MessageEnrichment
from otklik.models.territory import Territory
from otklik.nlp.taxonomy import load_taxonomy
from otklik.territories.repository import TerritoryRepository

log = logging.getLogger(__name__)

#: How much of a region's stream the detector replays for each batch (its baselines learn
#: from it; spikes need ``warmup`` of it, hazards and bursts fire from the first hour).
HISTORY = timedelta(days=3)
#: ... and at most this many messages of it (a large region's three days).
MAX_HISTORY = 20_000
SYSTEM = "детектор"


@dataclass
class LiveResult:
    """What one batch did."""

    opened: list[int] = field(default_factory=list)
    fed: dict[int, int] = field(default_factory=dict)  # incident id -> messages linked


def observation(message: Message | StreamMessage, enrichment: MessageEnrichment | StreamEnrichment,
                places: dict[int, Territory], topic_names: dict[str, str]) -> Observation:
    """What the detector needs of a stored message: its stored place (the thread's or the
    channel's when the text named none) wins over the stages' raw answer."""
    result = enrichment.result or {}
    urgency = result.get("urgency") or {}
    matched = ((result.get("explain") or {}).get("urgency") or {}).get("matched") or {}
    hazards = tuple(s for s in urgency.get("signals") or () if s in TRACKED_HAZARDS)
    municipality = places.get(enrichment.municipality_id or 0)
    settlement = places.get(enrichment.settlement_id or 0)
    topic = enrichment.topic or "other"
    return Observation(
        id=str(message.id), at=message.created_at,
        author=message.author_key or message.author_id
        or f"?{enrichment.duplicate_of_id or message.id}",
        topic_code=topic, topic_name=topic_names.get(topic, topic),
        region_code=enrichment.region_code or message.region_code,
        municipality=Place(municipality.name, municipality.oktmo) if municipality else None,
        settlement=Place(settlement.name, settlement.oktmo) if settlement else None,
        street=enrichment.street, hazards=hazards,
        words=tuple(str(matched[h]) for h in hazards if h in matched),
        duplicate_of=str(enrichment.duplicate_of_id) if enrichment.duplicate_of_id else None,
        critical=(enrichment.urgency or urgency.get("level")) == "critical")


def detect(session: Session, message_ids: Sequence[int]) -> LiveResult:
    """Run the detector for a live batch and open or feed incidents (never commits)."""
    repo = IncidentRepository(session)
    batch = repo.enriched(message_ids)
    result = LiveResult()
    if not batch:
        return result
    settings = detector_settings(session)
    taxonomy = load_taxonomy()
    topic_names = {code: taxonomy.name(code) for code in taxonomy.topic_codes}
    regions = sorted({(e.region_code or m.region_code or "") for m, e in batch})
    for region in regions:
        in_region = [(m, e) for m, e in batch if (e.region_code or m.region_code or "") == region]
        since = min(m.created_at for m, _ in in_region) - HISTORY
        stored = repo.stream(region or None, since, MAX_HISTORY)
        present = {m.id for m, _ in stored}
        stream: list[tuple[Message | StreamMessage, MessageEnrichment | StreamEnrichment]] = [
            *stored, *((m, e) for m, e in in_region if m.id not in present)]
        places = TerritoryRepository(session).many(
            t for _, e in stream for t in (e.municipality_id, e.settlement_id) if t is not None)
        observations = sorted((observation(m, e, places, topic_names) for m, e in stream),
                              key=lambda o: (o.at, int(o.id)))
        detector = Detector(settings)
        detector.run(observations)
        ours = {str(m.id) for m, _ in in_region}
        handled: set[int] = set()
        for signal in detector.signals:
            if ours.isdisjoint(signal.message_ids):
                continue
            incident = _incident_for(session, signal, region, places, result)
            ids = [int(i) for i in signal.message_ids]
            new, _ = service.link(session, incident, ids)
            grown = signal.people_affected()
            if grown and grown > (incident.people_affected or 0):  # more authors, more people
                incident.people_affected = grown
            if new:
                result.fed[incident.id] = result.fed.get(incident.id, 0) + len(new)
            handled.update(ids)
        rest = [(m, e) for m, e in in_region if m.id not in handled]
        _join_open(session, region, rest, result)
    return result


def _signal_key(region: str, signal: Signal) -> str:
    place = signal.municipality or signal.settlement
    where = (place.key if place else None) or "-"
    return f"{region}:{where}:{signal.topic['code']}:{signal.first_message_id}"[:255]


def _territory(session: Session, place: Place | None, places: dict[int, Territory]
               ) -> Territory | None:
    if place is None:
        return None
    for territory in places.values():
        if (place.oktmo and territory.oktmo == place.oktmo) or (
                not place.oktmo and territory.name == place.name):
            return territory
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
                  places: dict[int, Territory], result: LiveResult) -> Incident:
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
    for incident in repo.active_in(region or None):
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


def _join_open(session: Session, region: str,
               rows: Sequence[tuple[Message, MessageEnrichment]], result: LiveResult) -> None:
    """Messages of the batch no signal took: they join an open incident of their place and
    subject (messages written after it began)."""
    if not rows:
        return
    active = IncidentRepository(session).active_in(region or None)
    if not active:
        return
    for message, enrichment in rows:
        hazards = set((enrichment.result or {}).get("urgency", {}).get("signals") or ())
        for incident in active:
            if message.created_at < incident.started_at - timedelta(hours=3):
                continue
            if _matches(incident, enrichment.municipality_id, enrichment.street, hazards,
                        enrichment.topic):
                new, _ = service.link(session, incident, [message.id])
                if new:
                    result.fed[incident.id] = result.fed.get(incident.id, 0) + 1
                break
