"""The GeoReport v2 read side: input checked as the spec says, cases as service requests.

Anonymous and public: the actor's scope is applied, then only what a public page may show
(repository.PUBLIC_STATUSES, no reporter data, the description with personal data masked)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from otklik.accounts.scope import Scope
from otklik.audit.actor import Actor
from otklik.errors import InvalidInput, NotFound
from otklik.language.taxonomy_service import active_taxonomy
from otklik.models.case import Case, CaseStatus
from otklik.nlp.pii import PiiStage, mask
from otklik.nlp.taxonomy.taxonomy import Subtopic, Taxonomy, Topic
from otklik.open311.repository import Open311Repository

FORMATS = ("xml", "json")
MAX_DAYS = 90
#: The spec's response volume: "a span of 90 days or first 1000 requests returned, whichever
#: is smallest" (a client that does not page sees what the spec promises).
DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 1000
MAX_PAGE = 100_000
MAX_IDS = 200
KEYWORDS = 5
#: A request's own point (a resident's or a photo's) is published to 2 decimals (~1 km), as
#: the personal-data register coarsens it (pd/fields.py: message.lat "rounded to ~1 km").
POINT_DECIMALS = 2
#: The attribute of a topic's service that names its subtopic (services/{code}).
SUBTOPIC_ATTRIBUTE = "subtopic"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-06T00:00:00+00:00"

#: Case statuses as Open311 sees them: answered (the body has answered) counts as closed.
CLOSED = (CaseStatus.answered, CaseStatus.closed)
OPEN = (CaseStatus.routed, CaseStatus.in_work, CaseStatus.clarification,
        CaseStatus.answer_drafted, CaseStatus.on_moderation)

_PII = PiiStage()


def public_actor() -> Actor:
    """An anonymous reader: every region, no permission (the public filter does the rest)."""
    return Actor(label="open311", scope=Scope(all_regions=True))


class Open311Error(InvalidInput):
    """An error of this API, shown as the spec's error list in the requested format."""


class UnknownFormat(Open311Error):
    """The format extension is neither xml nor json."""


def check_format(fmt: str) -> str:
    """The format extension, or a 400."""
    if fmt not in FORMATS:
        raise UnknownFormat(f"unknown format {fmt[:20]!r}: use .xml or .json")
    return fmt


@dataclass(frozen=True)
class Service:
    """One service: a subtopic of the rubricator (or a topic, for cases without one)."""

    code: str
    name: str
    description: str
    group: str
    keywords: list[str]
    attributes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def metadata(self) -> bool:
        return bool(self.attributes)


@dataclass(frozen=True)
class ServiceRequest:
    """A case as GeoReport v2 shows it to anyone."""

    id: int
    status: str
    status_notes: str
    service_name: str
    service_code: str
    description: str
    agency_responsible: str
    requested: datetime
    updated: datetime
    expected: datetime | None
    address: str
    lat: float | None
    long: float | None
    media_url: str = ""


def _keywords(node: Subtopic) -> list[str]:
    ranked = sorted(node.lexicon.items(), key=lambda kv: (-kv[1], kv[0]))
    return [word for word, _ in ranked[:KEYWORDS]]


def _subtopic_attribute(topic: Topic) -> list[dict[str, Any]]:
    """A topic's one question: which of its subtopics it is (optional; the classifier
    decides when the resident does not say)."""
    if not topic.subtopics:
        return []
    return [{
        "variable": True, "code": SUBTOPIC_ATTRIBUTE, "datatype": "singlevaluelist",
        "required": False, "order": 1,
        "datatype_description": "код подтемы из списка values",
        "description": f"{topic.name_ru}: что именно? (подтема)",
        "values": [{"key": sub.code, "name": sub.name_ru} for sub in topic.subtopics],
    }]


def _services(taxonomy: Taxonomy) -> list[Service]:
    out: list[Service] = []
    for code in taxonomy.topic_codes:
        topic: Topic = taxonomy.topic(code)
        out.append(Service(code=topic.code, name=topic.name_ru,
                           description=f"{topic.name_ru}: прочее (без уточнения подтемы)",
                           group=topic.name_ru, keywords=_keywords(topic),
                           attributes=_subtopic_attribute(topic)))
        for sub in topic.subtopics:
            out.append(Service(code=sub.code, name=sub.name_ru, description=sub.name_ru,
                               group=topic.name_ru, keywords=_keywords(sub)))
    return out


def jurisdiction(session: Session, jurisdiction_id: str | None) -> str | None:
    """The region code a jurisdiction_id names (None: every region), or a 404."""
    if jurisdiction_id is None or jurisdiction_id == "":
        return None
    value = jurisdiction_id.strip()
    region = (Open311Repository(session).region(value)
              if re.fullmatch(r"[A-Za-z0-9-]{1,16}", value) else None)
    if region is None:
        raise NotFound(f"unknown jurisdiction_id {value[:16]!r}: use a region code "
                       "such as 68 or an ISO 3166-2 code such as RU-TAM")
    return region.region_code


def services(session: Session, actor: Actor, jurisdiction_id: str | None = None
             ) -> list[Service]:
    """Every service of the active rubricator (topics, then their subtopics)."""
    jurisdiction(session, jurisdiction_id)
    return _services(active_taxonomy(session))


def find_service(session: Session, code: str) -> Service | None:
    """A service of the active rubricator by its code."""
    return next((s for s in _services(active_taxonomy(session)) if s.code == code), None)


def service_definition(session: Session, actor: Actor, code: str,
                       jurisdiction_id: str | None = None) -> Service:
    """One service with its attributes (a topic asks for its subtopic)."""
    jurisdiction(session, jurisdiction_id)
    service = find_service(session, code)
    if service is None:
        raise NotFound(f"unknown service_code {code[:64]!r}")
    return service


def _date(name: str, raw: str) -> datetime:
    value = raw.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            moment = datetime.combine(datetime.fromisoformat(value).date(), time(), UTC)
        else:
            moment = datetime.fromisoformat(value)
    except ValueError:
        raise Open311Error(f"{name} is not an ISO 8601 date-time "
                           "(e.g. 2026-12-01T00:00:00+03:00)") from None
    if moment.year < 1900 or moment.year > 9000:
        raise Open311Error(f"{name} is out of range")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _int(name: str, raw: str, low: int, high: int) -> int:
    if not re.fullmatch(r"\s*\d{1,19}\s*", raw):
        raise Open311Error(f"{name} must be a whole number from {low} to {high}")
    value = int(raw)
    if not low <= value <= high:
        raise Open311Error(f"{name} must be a whole number from {low} to {high}")
    return value


def _ids(raw: str) -> list[int]:
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    if not parts or len(parts) > MAX_IDS:
        raise Open311Error(f"service_request_id: from 1 to {MAX_IDS} ids, comma-separated")
    return [_int("service_request_id", p, 1, 2**63 - 1) for p in parts]


def _window(start_date: str | None, end_date: str | None, now: datetime
            ) -> tuple[datetime, datetime]:
    start = _date("start_date", start_date) if start_date else None
    end = _date("end_date", end_date) if end_date else None
    if end is None:
        end = min(now, start + timedelta(days=MAX_DAYS)) if start is not None else now
    if start is None:
        start = end - timedelta(days=MAX_DAYS)
    if end < start:
        raise Open311Error("end_date is before start_date")
    if end - start > timedelta(days=MAX_DAYS):
        raise Open311Error(f"start_date and end_date may be at most {MAX_DAYS} days apart")
    return start, end


def _statuses(raw: str | None) -> list[CaseStatus] | None:
    if not raw:
        return None
    wanted: list[CaseStatus] = []
    for part in raw.split(","):
        name = part.strip().lower()
        if name == "open":
            wanted.extend(OPEN)
        elif name == "closed":
            wanted.extend(CLOSED)
        else:
            raise Open311Error("status must be open, closed or open,closed")
    return wanted


def _service_codes(session: Session, raw: str) -> list[str]:
    """The service codes of a filter (comma-separated, as the spec allows); 404 naming the
    first unknown one."""
    parts = list(dict.fromkeys(p.strip() for p in raw.split(",") if p.strip()))
    if not parts or len(parts) > MAX_IDS:
        raise Open311Error(f"service_code: from 1 to {MAX_IDS} codes, comma-separated")
    known = {s.code for s in _services(active_taxonomy(session))}
    unknown = next((p for p in parts if p not in known), None)
    if unknown is not None:
        raise NotFound(f"unknown service_code {unknown[:64]!r} (see services.json)")
    return parts


def requests(session: Session, actor: Actor, *, jurisdiction_id: str | None = None,
             service_request_id: str | None = None, service_code: str | None = None,
             start_date: str | None = None, end_date: str | None = None,
             status: str | None = None, page: str | None = None,
             page_size: str | None = None, now: datetime | None = None,
             base_url: str = "") -> list[ServiceRequest]:
    """Public service requests: by ids (the other filters then do not apply, as the spec
    says) or by services (comma-separated), dates (at most 90 days, the last 90 by default)
    and status."""
    region = jurisdiction(session, jurisdiction_id)
    repository = Open311Repository(session)
    if service_request_id is not None:
        rows = repository.by_ids(actor.scope, region, _ids(service_request_id))
        return _serialize(session, rows, base_url)
    number = _int("page", page, 1, MAX_PAGE) if page is not None else 1
    size = (_int("page_size", page_size, 1, MAX_PAGE_SIZE) if page_size is not None
            else DEFAULT_PAGE_SIZE)
    start, end = _window(start_date, end_date, now or datetime.now(UTC))
    wanted = _statuses(status)
    codes = _service_codes(session, service_code) if service_code else None
    rows = repository.page(actor.scope, region, start=start, end=end,
                           service_codes=codes, statuses=wanted,
                           limit=size, offset=(number - 1) * size)
    return _serialize(session, rows, base_url)


def request(session: Session, actor: Actor, request_id: str,
            jurisdiction_id: str | None = None, base_url: str = "") -> ServiceRequest:
    """One public service request, or a 404."""
    region = jurisdiction(session, jurisdiction_id)
    if not re.fullmatch(r"\d{1,19}", request_id) or not 1 <= int(request_id) < 2**63:
        raise NotFound(f"unknown service_request_id {request_id[:32]!r}")
    rows = Open311Repository(session).by_ids(actor.scope, region, [int(request_id)])
    if not rows:
        raise NotFound(f"unknown service_request_id {request_id[:32]!r}")
    return _serialize(session, rows, base_url)[0]


def public_text(text: str) -> str:
    """Text with the personal data the PII stage finds masked ("[телефон]", "[ФИО]" …)."""
    return mask(text, _PII.find(text)) if text else ""


def _serialize(session: Session, cases: Any, base_url: str) -> list[ServiceRequest]:
    rows: list[Case] = list(cases)
    repository = Open311Repository(session)
    media = repository.media([c.id for c in rows])
    places = repository.territories({i for c in rows
                                     for i in (c.settlement_id, c.municipality_id) if i})
    executors = repository.organization_names({c.executor_id for c in rows if c.executor_id})
    notes = repository.public_answers([c.id for c in rows])
    points = repository.points([c.id for c in rows])
    taxonomy = active_taxonomy(session)
    out: list[ServiceRequest] = []
    for case in rows:
        code = case.subtopic or case.topic or ""
        node = taxonomy.get(code) if code else None
        place = places.get(case.settlement_id or 0) or places.get(case.municipality_id or 0)
        lat: float | None
        lon: float | None
        if case.id in points:  # the request's own point, coarsened (it is personal data)
            point = points[case.id]
            lat, lon = round(point[0], POINT_DECIMALS), round(point[1], POINT_DECIMALS)
        elif place is not None and place.lat is None and case.municipality_id:
            fallback = places.get(case.municipality_id)
            lat, lon = (fallback.lat, fallback.lon) if fallback else (None, None)
        else:
            lat, lon = (place.lat, place.lon) if place else (None, None)
        street = " ".join(p for p in (case.street, case.house) if p)
        address = ", ".join(p for p in (street, place.name if place else "") if p)
        out.append(ServiceRequest(
            id=case.id,
            status="closed" if case.status in CLOSED else "open",
            status_notes=public_text(notes.get(case.id, "")),
            service_name=node.name_ru if node else code,
            service_code=code,
            description=public_text(case.title),
            agency_responsible=executors.get(case.executor_id or 0, ""),
            requested=case.received_at,
            updated=case.updated_at,
            expected=case.resolution_due,
            address=address,
            lat=lat,
            long=lon,
            media_url=_absolute(media.get(case.id, ""), base_url),
        ))
    return out


def _absolute(link: str, base_url: str) -> str:
    """A photo Otklik stores (a path) as a full URL; other links as they are."""
    return base_url.rstrip("/") + link if link.startswith("/") else link
