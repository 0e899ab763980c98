"""The public web form's logic: no login, rate-limited per address, a honeypot against bots.

The page itself is :mod:`otklik.web.form`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sqlalchemy.orm import Session

from otklik.accounts.scope import Scope
from otklik.channels.schemas import IncomingMessage, Source
from otklik.db.base import utcnow
from otklik.intake.resident_reports import store_report
from otklik.media.photos import MAX_PHOTOS, PhotoRefused, clean
from otklik.pd.consent import record as record_consent
from otklik.ratelimit import RateLimiter
from otklik.territories.repository import TerritoryRepository

#: Why a submission was not taken: too many from one address, too short a text, a photo
#: refused (too big, not an image, too many), or no consent to the processing of personal
#: data given.
FormError = Literal["rate", "short", "photo", "consent"]


#: At most 5 submissions per 10 minutes from one address (per process).
limiter = RateLimiter(limit=5, window=600.0)


def regions(session: Session) -> list[tuple[str, str]]:
    """(code, name) of the regions a resident chooses from."""
    return [(r.region_code, r.name) for r in TerritoryRepository(session).regions(Scope.system())]


def submit(session: Session, *, text: str, nonce: str, name: str, contact: str, region: str,
           website: str, ip: str | None, photos: Sequence[bytes] = (),
           consent: bool = False) -> FormError | None:
    """Store a submission once (the nonce makes a double click one message) with its photos
    (cleaned: otklik.media.photos) and the resident's consent to the processing of their
    personal data (required: 152-FZ); None when taken (a bot that filled the honeypot is told
    the same and stores nothing)."""
    if website:  # the hidden honeypot field: a person never fills it
        return None
    if not consent:
        return "consent"
    if not limiter.allow(ip or "unknown"):
        return "rate"
    if len(text.strip()) < 5:
        return "short"
    if len(photos) > MAX_PHOTOS:
        return "photo"
    try:
        cleaned = [clean(data) for data in photos]
    except PhotoRefused:
        return "photo"
    message_id = store_report(session, IncomingMessage(
        source=Source.web, source_id=f"form:{nonce}", text=text, created_at=utcnow(),
        author_name=name or None, region=region if region.isdigit() else None,
        channel="web-form", raw={"name": name, "contact": contact, "region": region},
    ), cleaned, origin="web")
    record_consent(session, message_id, "web_form")
    return None
