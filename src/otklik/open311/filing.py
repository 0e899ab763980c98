"""GeoReport v2 ``POST requests`` and ``GET tokens/{token}``: a service request filed by an
integrator's key becomes a message of source ``open311`` stored through the intake path
(enriched, made a case, routed, in the operator queue like any other).

open311 does not import intake (the ``new-domains`` contract): the function that stores a
report is handed in by the composition root (``app.py`` puts intake's ``store_report`` in
``app.state``), as :data:`StoreReport`."""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from otklik.accounts import service as accounts
from otklik.audit.actor import Actor
from otklik.channels.schemas import Attachment, IncomingMessage, Source
from otklik.errors import Forbidden, NotAuthenticated, NotFound
from otklik.media.photos import MAX_PHOTOS, CleanPhoto, PhotoRefused, clean
from otklik.models.open311 import Open311Request
from otklik.open311.repository import Open311Repository
from otklik.open311.service import SUBTOPIC_ATTRIBUTE, Open311Error, Service, find_service
from otklik.open311.service import jurisdiction as region_of
from otklik.pd.consent import record as record_consent

#: Stores a report (message + cleaned photos) through intake; returns the message id.
StoreReport = Callable[[Session, IncomingMessage, Sequence[CleanPhoto]], int]

MAX_DESCRIPTION = 4000
MIN_DESCRIPTION = 5
#: A re-post of the same text by the same key and device/account inside this window is the
#: request already filed (an app retrying after a timeout), not a new one.
DEDUPE_WINDOW = timedelta(minutes=10)
#: How far from the nearest known settlement (km) a point may be and still be in the region.
MAX_DISTANCE_KM = 120.0
REPORTER_FIELDS = ("email", "first_name", "last_name", "phone", "device_id", "account_id")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,63}")


@dataclass
class Filing:
    """What a POST requests carried: single fields, ``attribute[code]`` values, files."""

    fields: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, list[str]] = field(default_factory=dict)
    media: list[bytes] = field(default_factory=list)


@dataclass(frozen=True)
class Filed:
    """The answer to a POST: the case id when it exists already, else the token."""

    token: str
    service_request_id: int | None
    account_id: str


def key_actor(session: Session, api_key: str | None) -> Actor:
    """The integrator behind ``api_key``; 403 when it is missing, unknown, revoked or lacks
    the ``open311`` scope (429 when its rate limit is spent)."""
    if not api_key:
        raise Forbidden("api_key is required to file a service request "
                        "(ask the center for a key: docs/open311.md)")
    try:
        actor = accounts.authenticate_token(session, api_key.strip()[:200])
    except NotAuthenticated:
        raise Forbidden("api_key is invalid, expired or revoked") from None
    if not actor.scope.can("open311"):
        raise Forbidden("this api_key has no open311 scope")
    return actor


def _float(name: str, raw: str, low: float, high: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise Open311Error(f"{name} must be a number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise Open311Error(f"{name} must be a number from {low:g} to {high:g}")
    return value


def _distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(h)))


def region_at(session: Session, lat: float, lon: float) -> str | None:
    """The region of the nearest known settlement (or municipality) within reach, or None."""
    places = Open311Repository(session).places_near(lat, lon, MAX_DISTANCE_KM / 111.0)
    best = min(places, key=lambda p: _distance_km((lat, lon), (p[1], p[2])), default=None)
    if best is None or _distance_km((lat, lon), (best[1], best[2])) > MAX_DISTANCE_KM:
        return None
    return best[0]


def _check_attributes(service: Service, given: dict[str, list[str]]) -> dict[str, list[str]]:
    """The attributes as the definition allows them; 400 naming the first problem."""
    defined = {a["code"]: a for a in service.attributes}
    for code in given:
        if code not in defined:
            raise Open311Error(f"attribute[{code[:64]}] is not an attribute of service "
                               f"{service.code} (see services/{service.code})")
    out: dict[str, list[str]] = {}
    for code, attribute in defined.items():
        values = [v.strip() for v in given.get(code, []) if v.strip()]
        if not values:
            if attribute.get("required"):
                raise Open311Error(f"attribute[{code}] is required for service {service.code}")
            continue
        datatype = attribute.get("datatype", "string")
        keys = {v["key"] for v in attribute.get("values", [])}
        if datatype in ("singlevaluelist", "multivaluelist"):
            if datatype == "singlevaluelist" and len(values) > 1:
                raise Open311Error(f"attribute[{code}] takes one value")
            wrong = [v for v in values if v not in keys]
            if wrong:
                raise Open311Error(f"attribute[{code}]: {wrong[0][:64]!r} is not one of its "
                                   f"values (see services/{service.code})")
        elif datatype == "number":
            for value in values:
                _float(f"attribute[{code}]", value, -1e12, 1e12)
        elif any(len(v) > 1000 for v in values):
            raise Open311Error(f"attribute[{code}] is longer than 1000 characters")
        out[code] = values
    return out


def _media_url(raw: str) -> str | None:
    value = raw.strip()
    if not value:
        return None
    if len(value) > 1000 or not re.fullmatch(r"https?://[^\s<>\"']+", value):
        raise Open311Error("media_url must be an http(s) URL of at most 1000 characters")
    return value


def _reporter(fields: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in REPORTER_FIELDS:
        value = fields.get(name, "").strip()
        if len(value) > 255:
            raise Open311Error(f"{name} is longer than 255 characters")
        if value:
            out[name] = value
    if "email" in out and not _EMAIL.fullmatch(out["email"]):
        raise Open311Error("email is not an e-mail address")
    return out


def _consent(fields: dict[str, str]) -> bool | None:
    """The resident's consent to the processing of their personal data, as the app asked
    it: true/false, or None when the field is absent."""
    value = fields.get("consent", "").strip().lower()
    if not value:
        return None
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise Open311Error("consent must be true or false (the resident's consent to the "
                       "processing of their personal data)")


def submit(session: Session, actor: Actor, filing: Filing, store: StoreReport, *,
           now: datetime | None = None) -> Filed:
    """File one service request (validated as the spec and the service definition say)."""
    now = now or datetime.now(UTC)
    fields = filing.fields
    code = fields.get("service_code", "").strip()
    if not code:
        raise Open311Error("service_code is required (see services.json)")
    service = find_service(session, code)
    if service is None:
        raise NotFound(f"unknown service_code {code[:64]!r} (see services.json)")
    description = fields.get("description", "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(f"description is longer than {MAX_DESCRIPTION} characters "
                           f"({len(description)})")
    if len(description) < MIN_DESCRIPTION:
        raise Open311Error("description is required: say what is wrong and where")
    attributes = _check_attributes(service, filing.attributes)
    if len(filing.media) > MAX_PHOTOS:
        raise Open311Error(f"at most {MAX_PHOTOS} photos (media) per request")
    try:
        photos = [clean(data) for data in filing.media]
    except PhotoRefused as exc:
        raise Open311Error(f"media: {exc.message}") from None
    lat_raw, lon_raw = fields.get("lat", "").strip(), fields.get("long", "").strip()
    if bool(lat_raw) != bool(lon_raw):
        raise Open311Error("lat and long go together")
    point = ((_float("lat", lat_raw, -90, 90), _float("long", lon_raw, -180, 180))
             if lat_raw else None)
    address = fields.get("address_string", "").strip()
    address_id = fields.get("address_id", "").strip()
    if len(address) > 255 or len(address_id) > 64:
        raise Open311Error("address_string (255) or address_id (64 characters) is too long")
    gps = next((p.gps for p in photos if p.gps), None)
    if point is None and not address and not address_id and gps is None:
        raise Open311Error("a location is required: lat and long, address_string or "
                           "address_id")
    region = _region(session, actor, fields.get("jurisdiction_id"), point or gps)
    if point is not None and region_at(session, *point) != region:
        raise Open311Error(f"lat/long {point[0]:.5f}, {point[1]:.5f} is outside the region "
                           f"{region} (jurisdiction_id)")
    reporter = _reporter(fields)
    consent = _consent(fields)
    if reporter and consent is False:
        raise Open311Error("consent is false: send no reporter data (email, names, phone, "
                           "device_id, account_id) without the resident's consent")
    media_url = _media_url(fields.get("media_url", ""))
    repository = Open311Repository(session)
    who = reporter.get("account_id") or reporter.get("device_id") or ""
    dedupe_key = hashlib.sha256("\x1f".join(
        (str(actor.token_id), who, code, description)).encode("utf-8", "surrogatepass")
    ).hexdigest()
    earlier = repository.filed_again(dedupe_key, now - DEDUPE_WINDOW)
    if earlier is not None:
        return Filed(earlier.token, repository.case_of_message(earlier.message_id),
                     reporter.get("account_id", ""))
    subtopic = attributes.get(SUBTOPIC_ATTRIBUTE, [""])[0]
    text = description + (f"\n\nАдрес: {address}" if address else "")
    name = " ".join(p for p in (reporter.get("first_name"), reporter.get("last_name")) if p)
    contact = ", ".join(p for p in (reporter.get("phone"), reporter.get("email")) if p)
    bucket = int(now.timestamp() // DEDUPE_WINDOW.total_seconds())
    item = IncomingMessage(
        source=Source.open311, source_id=f"{dedupe_key[:48]}:{bucket}", text=text,
        created_at=now, author_id=f"{actor.token_id}:{who}" if who else None,
        author_name=name or None, region=region, channel=f"Open311: {actor.label}"[:255],
        attachments=[Attachment(url=media_url, type="photo")] if media_url else [],
        lat=point[0] if point else None, lon=point[1] if point else None,
        raw={"open311": {"service_code": subtopic or code, "attributes": attributes,
                         "address_string": address, "address_id": address_id},
             "name": name, "contact": contact})
    message_id = store(session, item, photos)
    filed = repository.filed_for_message(message_id)
    if filed is None:
        filed = repository.add_filed(Open311Request(
            token=secrets.token_urlsafe(24), message_id=message_id,
            api_token_id=actor.token_id, dedupe_key=dedupe_key, service_code=code,
            region_code=region, attributes=attributes, reporter=reporter,
            address_string=address or None, address_id=address_id or None,
            lat=point[0] if point else None, lon=point[1] if point else None,
            media_url=media_url, photos=len(photos)))
        if consent is not None:
            record_consent(session, message_id, "open311", given=consent)
    return Filed(filed.token, repository.case_of_message(message_id),
                 reporter.get("account_id", ""))


def _region(session: Session, actor: Actor, jurisdiction_id: str | None,
            point: tuple[float, float] | None) -> str:
    """The region of the request: jurisdiction_id, else the key's own region, else where
    the point is; a key bound to a region files only there."""
    region = region_of(session, jurisdiction_id)
    own = next(iter(actor.scope.region_codes), None) if not actor.scope.all_regions else None
    if own is not None and region is not None and region != own:
        raise Forbidden(f"this api_key files requests for the region {own} only")
    region = region or own
    if region is None and point is not None:
        region = region_at(session, *point)
        if region is None:
            raise Open311Error("lat/long is outside every region Otklik serves")
    if region is None:
        raise Open311Error("jurisdiction_id is required when the location is an address "
                           "(a region code such as 68)")
    return region


def token_status(session: Session, token: str) -> tuple[str, int | None]:
    """The case id a token's request became (None: not yet); 404 for an unknown token."""
    repository = Open311Repository(session)
    filed = repository.filed(token) if re.fullmatch(r"[A-Za-z0-9_-]{8,64}", token) else None
    if filed is None:
        raise NotFound(f"unknown token {token[:64]!r}")
    return filed.token, repository.case_of_message(filed.message_id)
