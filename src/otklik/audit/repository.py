"""Every query of the audit log."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from otklik.accounts.scope import Scope
from otklik.db.ids import give_id
from otklik.models.audit import AuditEntry
from otklik.paging import page_query


class AuditRepository:
    """Reads and appends audit entries."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, entry: AuditEntry) -> AuditEntry:
        """Append one entry (its id taken ahead on PostgreSQL: :mod:`otklik.db.ids`)."""
        give_id(self.session, entry)
        self.session.add(entry)
        return entry

    def page(
        self,
        scope: Scope,
        *,
        object_type: str | None = None,
        object_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Sequence[AuditEntry]:
        """Newest first, restricted to the scope's regions (system entries only for all)."""
        query = self._query(scope, object_type=object_type, object_id=object_id)
        return self.session.scalars(query.limit(limit).offset(offset)).all()

    def counted_page(self, scope: Scope, *, object_type: str | None = None,
                     object_id: str | None = None, action: str | None = None,
                     limit: int = 100, offset: int = 0) -> tuple[Sequence[AuditEntry], int]:
        """A page as :meth:`page` reads it (``action`` narrows it too) and how many match."""
        return page_query(self.session, self._query(scope, object_type=object_type,
                                                    object_id=object_id, action=action),
                          limit, offset)

    @staticmethod
    def _query(scope: Scope, *, object_type: str | None, object_id: str | None,
               action: str | None = None) -> Select[AuditEntry]:
        query = select(AuditEntry).order_by(AuditEntry.id.desc())
        if not scope.all_regions:
            query = query.where(scope.region_filter(AuditEntry.region_code))
        if object_type:
            query = query.where(AuditEntry.object_type == object_type)
        if object_id:
            query = query.where(AuditEntry.object_id == object_id)
        if action:
            query = query.where(AuditEntry.action == action)
        return query
