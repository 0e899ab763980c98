"""Every query of photos."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from otklik.models.media import Photo


class PhotoRepository:
    """Photo rows (the files are in the photo store)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, photo: Photo) -> Photo:
        """Insert a row."""
        self.session.add(photo)
        self.session.flush()
        return photo

    def by_key(self, key: str) -> Photo | None:
        """A photo by its key."""
        return self.session.scalar(select(Photo).where(Photo.key == key))

    def known_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of these keys a photo row still names."""
        if not keys:
            return set()
        return set(self.session.scalars(select(Photo.key).where(Photo.key.in_(list(keys)))))

    def of_messages(self, message_ids: Sequence[int]) -> Sequence[Photo]:
        """The photos of these messages, in the order they were sent."""
        if not message_ids:
            return []
        return self.session.scalars(select(Photo).where(Photo.message_id.in_(list(message_ids)))
                                    .order_by(Photo.message_id, Photo.id)).all()

    def count_of(self, message_id: int) -> int:
        """How many photos a message has."""
        return int(self.session.scalar(select(func.count()).select_from(Photo)
                                       .where(Photo.message_id == message_id)) or 0)

    def count(self) -> int:
        """How many photos are stored."""
        return int(self.session.scalar(select(func.count()).select_from(Photo)) or 0)
