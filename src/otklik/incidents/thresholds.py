"""The detector's thresholds as stored (``incident_threshold``): an admin edits them per
region, per topic or both; :func:`detector_settings` turns them into the pure
:class:`otklik.incidents.settings.DetectorSettings` the detector takes."""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.db.base import utcnow
from otklik.errors import Forbidden, InvalidInput
from otklik.incidents.repository import IncidentRepository
from otklik.incidents.settings import DetectorSettings, Thresholds
from otklik.models.incident import IncidentThreshold
from otklik.nlp.taxonomy import load_taxonomy


def detector_settings(session: Session) -> DetectorSettings:
    """The stored overrides over the defaults (a stored row with a bad name fails here)."""
    data: dict[str, Any] = {"default": {}, "regions": {}, "topics": {}, "region_topics": {}}
    for row in IncidentRepository(session).thresholds():
        if row.region_code and row.topic:
            data["region_topics"][f"{row.region_code}/{row.topic}"] = dict(row.values)
        elif row.region_code:
            data["regions"][row.region_code] = dict(row.values)
        elif row.topic:
            data["topics"][row.topic] = dict(row.values)
        else:
            data["default"] = dict(row.values)
    return DetectorSettings.from_dict(data)


def defaults() -> dict[str, float | int]:
    """The default thresholds, durations in minutes (the admin page shows them)."""
    out: dict[str, float | int] = {}
    for name, value in asdict(Thresholds()).items():
        out[name] = value.total_seconds() / 60 if isinstance(value, timedelta) else value
    return out


def set_thresholds(session: Session, actor: Actor, region_code: str, topic: str,
                   values: dict[str, Any]) -> IncidentThreshold | None:
    """Store the overrides of a region and/or topic ('' for any); empty values remove the
    row. Unknown names and non-numbers are refused before anything is stored."""
    actor.require("admin")
    if region_code and not actor.scope.sees_region(region_code):
        raise InvalidInput(f"region {region_code} is not yours")
    if not region_code and not actor.scope.all_regions:
        raise Forbidden("the thresholds of every region are a federal administrator's: "
                        "choose your region")
    if region_code and not (region_code.isdigit() and len(region_code) in (2, 3)):
        raise InvalidInput(f"region code {region_code!r}: two or three digits (85)")
    if topic and topic not in load_taxonomy().topic_codes:
        raise InvalidInput(f"unknown topic {topic!r}")
    known = {f.name for f in fields(Thresholds)}
    clean: dict[str, float] = {}
    for name, value in values.items():
        if name not in known:
            raise InvalidInput(f"unknown threshold {name!r}")
        if value in (None, ""):
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"{name}: a number is needed") from None
        if number < 0 or number != number:
            raise InvalidInput(f"{name}: must be a non-negative number")
        clean[name] = number
    try:
        Thresholds().merged(clean)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(str(exc)) from exc
    repo = IncidentRepository(session)
    row = repo.threshold(region_code, topic)
    before = dict(row.values) if row is not None else {}
    if not clean:
        if row is not None:
            session.delete(row)
            session.flush()
        row = None
    elif row is None:
        row = IncidentThreshold(region_code=region_code, topic=topic, values=clean)
        session.add(row)
        session.flush()
    else:
        row.values, row.updated_at = clean, utcnow()
    audit.record(session, actor, "incident.thresholds", "incident_threshold",
                 f"{region_code or '*'}/{topic or '*'}", region_code=region_code or None,
                 details={"values": clean, "before": before})
    return row


def visible_thresholds(session: Session, actor: Actor) -> list[IncidentThreshold]:
    """The stored overrides an administrator sees: every region's own and the shared ones."""
    actor.require("admin")
    return [row for row in IncidentRepository(session).thresholds()
            if not row.region_code or actor.scope.sees_region(row.region_code)]
