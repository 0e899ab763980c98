"""Photos attached to messages: stored once per message, listed for the case card and for
Open311's ``media_url``. Never commits (the caller's unit of work does)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from otklik.media.photos import MAX_PHOTOS, CleanPhoto
from otklik.media.repository import PhotoRepository
from otklik.media.storage import photo_store
from otklik.models.media import Photo

#: Where Otklik serves a stored photo (relative to its base URL).
PHOTO_PATH = "/media/photos/"


@dataclass(frozen=True)
class PhotoView:
    """A photo as a page or an API shows it."""

    message_id: int
    path: str
    width: int
    height: int
    gps: tuple[float, float] | None


def attach(session: Session, message_id: int, photos: Sequence[CleanPhoto], origin: str
           ) -> list[Photo]:
    """Store cleaned photos for a message that has none yet (a re-sent report adds nothing).

    The file is written before the row: a rollback leaves an orphan file with a random name
    (harmless), never a row without its file."""
    repository = PhotoRepository(session)
    if not photos or repository.count_of(message_id):
        return []
    store = photo_store()
    rows: list[Photo] = []
    for photo in photos[:MAX_PHOTOS]:
        key = f"{secrets.token_urlsafe(24)}.jpg"
        store.put(key, photo.data, photo.content_type)
        rows.append(repository.add(Photo(
            message_id=message_id, key=key, content_type=photo.content_type,
            size=len(photo.data), width=photo.width, height=photo.height, sha256=photo.sha256,
            origin=origin, gps_lat=photo.gps[0] if photo.gps else None,
            gps_lon=photo.gps[1] if photo.gps else None)))
    return rows


def gps_hint(photos: Sequence[CleanPhoto]) -> tuple[float, float] | None:
    """The first GPS position among the photos (the place hint), if any."""
    return next((p.gps for p in photos if p.gps), None)


def photos_by_message(session: Session, message_ids: Sequence[int]
                      ) -> dict[int, list[PhotoView]]:
    """The stored photos of these messages, by message id."""
    out: dict[int, list[PhotoView]] = {}
    for row in PhotoRepository(session).of_messages(message_ids):
        if row.message_id is None:
            continue
        gps = (row.gps_lat, row.gps_lon) if row.gps_lat is not None and row.gps_lon is not None \
            else None
        out.setdefault(row.message_id, []).append(PhotoView(
            message_id=row.message_id, path=PHOTO_PATH + row.key, width=row.width,
            height=row.height, gps=gps))
    return out


def photo_file(session: Session, key: str) -> tuple[bytes, str] | None:
    """The bytes and type of a stored photo, or None (an unknown key is not found)."""
    row = PhotoRepository(session).by_key(key)
    if row is None:
        return None
    data = photo_store().get(key)
    return (data, row.content_type) if data is not None else None


def release(session: Session, keys: Sequence[str]) -> int:
    """Delete the files of these keys that no photo row names any more (their rows went with
    a resident's personal data); how many were released. Idempotent."""
    kept = PhotoRepository(session).known_keys(keys)
    store = photo_store()
    gone = [key for key in dict.fromkeys(keys) if key not in kept]
    for key in gone:
        store.delete(key)
    return len(gone)


def count(session: Session) -> int:
    """How many photos are stored (for ``otklik stats``)."""
    return PhotoRepository(session).count()
