"""Every query of the rubricator's versions (table ``taxonomy_version``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from otklik.models.taxonomy import TaxonomyVersion


class TaxonomyRepository:
    """Saved rubricator versions, newest first."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: TaxonomyVersion) -> TaxonomyVersion:
        """Insert a version (flushed, so it has an id)."""
        self.session.add(row)
        self.session.flush()
        return row

    def last_number(self) -> int:
        """The highest version number saved so far (0 when there is none)."""
        return int(self.session.scalar(select(func.max(TaxonomyVersion.number))) or 0)

    def by_number(self, number: int) -> TaxonomyVersion | None:
        """The version with this number."""
        return self.session.scalar(
            select(TaxonomyVersion).where(TaxonomyVersion.number == number)
        )

    def active(self) -> TaxonomyVersion | None:
        """The active version, if an admin activated one."""
        return self.session.scalar(
            select(TaxonomyVersion).where(TaxonomyVersion.active.is_(True))
        )

    def active_key(self) -> tuple[int, datetime] | None:
        """(id, created_at) of the active version: a cheap check for a cached pipeline
        (with the time, an id reused after a rolled-back insert is not mistaken)."""
        row = self.session.execute(
            select(TaxonomyVersion.id, TaxonomyVersion.created_at)
            .where(TaxonomyVersion.active.is_(True))
        ).first()
        return None if row is None else (row[0], row[1])

    def recent(self, limit: int = 50) -> Sequence[TaxonomyVersion]:
        """The newest versions first."""
        return self.session.scalars(
            select(TaxonomyVersion).order_by(TaxonomyVersion.number.desc()).limit(limit)
        ).all()

    def deactivate_all(self) -> None:
        """No version active (flushed before another is activated: one active at a time)."""
        self.session.execute(
            update(TaxonomyVersion).where(TaxonomyVersion.active.is_(True)).values(active=False)
        )
        self.session.flush()
