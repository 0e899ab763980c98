"""Removing residents' personal data from stored messages while keeping what is counted.

What stays: the message row, its time, source, channel, region, enrichment (topic, place,
sentiment, urgency), its cases and their deadlines and answers, so every dashboard, rating
and rollup counts the same afterwards. What goes: who wrote it and how to reach them (author
id, name and key, the post's URL, attachments, the raw payload), the personal data the
language stage finds in the text (replaced by placeholders), earlier texts, the Open311
reporter, precise coordinates (rounded to ~1 km). The register is :mod:`otklik.pd.fields`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from otklik.models.message import Message, MessageEnrichment
from otklik.models.pd import PdAnonymization
from otklik.pd.masking import mask_text
from otklik.pd.repository import PdRepository

#: Keys of a raw payload that carry no personal data and are kept.
_RAW_KEPT = ("place_hint",)
#: Decimals coordinates keep (2: about a kilometre).
_COORD_DECIMALS = 2


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, _COORD_DECIMALS)


def _raw(raw: dict[str, Any], reason: str) -> dict[str, Any]:
    kept: dict[str, Any] = {k: raw[k] for k in _RAW_KEPT if k in raw}
    open311 = raw.get("open311")
    if isinstance(open311, dict):
        kept["open311"] = {k: v for k, v in open311.items()
                           if k in ("service_code", "attributes")}
    kept["anonymized"] = reason
    return kept


def _message(message: Message, reason: str) -> None:
    message.author_id = None
    message.author_name = None
    message.author_key = None
    message.url = None
    message.attachments = []
    message.text = mask_text(message.text)
    message.raw = _raw(message.raw or {}, reason)
    message.lat, message.lon = _round(message.lat), _round(message.lon)


def anonymize(session: Session, message_ids: Sequence[int], reason: str, now: datetime,
              *, request_id: int | None = None) -> int:
    """Anonymise these messages (those done already are skipped); how many were done now."""
    repo = PdRepository(session)
    todo = [i for i in message_ids if i not in repo.anonymized(message_ids)]
    if not todo:
        return 0
    messages = repo.messages(todo)
    for message in messages:
        _message(message, reason)
        enrichment = session.get(MessageEnrichment, message.id)
        if enrichment is not None and enrichment.result.get("pii"):
            # The spans point into the text as it was; the text now holds placeholders.
            enrichment.result = {**enrichment.result, "pii": []}
    repo.drop_revisions(todo)
    for request in repo.open311_of(todo):
        request.reporter = {}
        request.address_string = (mask_text(request.address_string)
                                  if request.address_string else None)
        request.media_url = None
        request.lat, request.lon = _round(request.lat), _round(request.lon)
    for photo in repo.photos_of(todo):
        photo.gps_lat, photo.gps_lon = _round(photo.gps_lat), _round(photo.gps_lon)
    cases = repo.cases_of(todo)
    for case in cases:
        case.title = mask_text(case.title)
    for answer in repo.answers_of([c.id for c in cases]):
        answer.text = mask_text(answer.text)
    for consent in repo.consents_of(todo):
        consent.author_key = None
    repo.mark([PdAnonymization(message_id=m.id, reason=reason, at=now, request_id=request_id)
               for m in messages])
    return len(messages)
