"""A resident's report with photos (the web form, Open311 ``POST requests``): the message
stored through the idempotent store, its cleaned photos beside it, the GPS position of the
first photo that has one kept as the message's place hint (``lat``/``lon``) when the report
gave none. Never commits."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from otklik.channels.schemas import IncomingMessage
from otklik.intake.repository import MessageRepository
from otklik.intake.service import store_messages
from otklik.media import service as media
from otklik.media.photos import CleanPhoto


def store_report(session: Session, item: IncomingMessage, photos: Sequence[CleanPhoto] = (),
                 *, origin: str) -> int:
    """Store the report once (same source and source_id: the message already stored) and
    attach its photos; returns the message id."""
    hint = media.gps_hint(photos)
    if hint is not None and item.lat is None and item.lon is None:
        item = item.model_copy(update={"lat": hint[0], "lon": hint[1],
                                       "raw": {**item.raw, "place_hint": "photo_gps"}})
    store_messages(session, [item])
    message = MessageRepository(session).existing(item.source.value, [item.source_id])
    message_id = message[item.source_id].id
    media.attach(session, message_id, photos, origin)
    return message_id
