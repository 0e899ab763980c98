"""Every query of organizations."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from otklik.accounts.scope import Scope
from otklik.models.organization import Organization, OrganizationKind, OrganizationTerritory


class OrganizationRepository:
    """Organizations within a scope and their coverage."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, organization_id: int) -> Organization | None:
        """An organization by id."""
        return self.session.get(Organization, organization_id)

    def by_name(self, region_code: str, name: str) -> Organization | None:
        """An organization of a region by its exact name."""
        return self.session.scalar(
            select(Organization).where(
                Organization.region_code == region_code, Organization.name == name
            )
        )

    def page(
        self,
        scope: Scope,
        *,
        region_code: str | None = None,
        kind: OrganizationKind | None = None,
        q: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[Sequence[Organization], int]:
        """A page of organizations in the scope and the total count."""
        query = select(Organization).where(scope.region_filter(Organization.region_code))
        if scope.organization_id is not None:
            query = query.where(Organization.id == scope.organization_id)
        if region_code:
            query = query.where(Organization.region_code == region_code)
        if kind:
            query = query.where(Organization.kind == kind)
        if q:
            query = query.where(func.lower(Organization.name).contains(q.lower()))
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(
            query.order_by(Organization.region_code, Organization.kind, Organization.name)
            .limit(limit)
            .offset(offset)
        ).all()
        return rows, total

    def add(self, organization: Organization) -> Organization:
        """Insert and get an id."""
        self.session.add(organization)
        self.session.flush()
        return organization

    def set_territories(self, organization_id: int, territory_ids: Sequence[int]) -> None:
        """Replace what an organization covers."""
        self.session.execute(
            delete(OrganizationTerritory).where(
                OrganizationTerritory.organization_id == organization_id
            )
        )
        self.session.add_all(
            OrganizationTerritory(organization_id=organization_id, territory_id=t)
            for t in sorted(set(territory_ids))
        )

    def covering(self, territory_ids: Sequence[int]) -> set[int]:
        """Ids of the organizations that cover any of these territories, in one query."""
        if not territory_ids:
            return set()
        return set(self.session.scalars(
            select(OrganizationTerritory.organization_id).where(
                OrganizationTerritory.territory_id.in_(list(territory_ids)))))

    def territory_ids(self, organization_id: int) -> list[int]:
        """What an organization covers."""
        return list(
            self.session.scalars(
                select(OrganizationTerritory.territory_id).where(
                    OrganizationTerritory.organization_id == organization_id
                )
            )
        )

    def count(self, scope: Scope | None = None) -> int:
        """How many organizations exist (in the scope)."""
        query = select(func.count(Organization.id))
        if scope is not None:
            query = query.where(scope.region_filter(Organization.region_code))
        return self.session.scalar(query) or 0
