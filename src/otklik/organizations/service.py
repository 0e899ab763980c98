"""Organization rules: coverage inside the organization's region, scoped reads."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.errors import Forbidden, InvalidInput, NotFound
from otklik.models.organization import Organization, OrganizationKind
from otklik.organizations.repository import OrganizationRepository
from otklik.organizations.schemas import OrganizationCreate
from otklik.territories.repository import TerritoryRepository


def create_organization(session: Session, actor: Actor, data: OrganizationCreate) -> Organization:
    """Create an executor covering territories of its own region."""
    actor.require("reference.write")
    if not actor.scope.sees_region(data.region_code):
        raise Forbidden(f"region {data.region_code} is outside your scope")
    territories = TerritoryRepository(session)
    region = territories.region(data.region_code)
    if region is None:
        raise InvalidInput(f"region {data.region_code} is not loaded: run otklik territories load")
    for territory_id in data.territory_ids:
        territory = territories.get(territory_id)
        if territory is None or territory.region_code != data.region_code:
            raise InvalidInput(
                f"territory {territory_id} is not in region {data.region_code}: an organization "
                "covers territories of its own region"
            )
    organization = OrganizationRepository(session).add(
        Organization(
            region_code=data.region_code,
            name=data.name,
            short_name=data.short_name,
            kind=data.kind,
            timezone=data.timezone or region.timezone or "Europe/Moscow",
            working_hours=data.working_hours,
            email=data.email,
            phone=data.phone,
        )
    )
    OrganizationRepository(session).set_territories(
        organization.id, data.territory_ids or [region.id]
    )
    audit.record(session, actor, "organization.create", "organization", organization.id,
                 region_code=data.region_code, details={"name": data.name})
    return organization


def list_organizations(
    session: Session,
    actor: Actor,
    *,
    region_code: str | None = None,
    kind: OrganizationKind | None = None,
    q: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[Sequence[Organization], int]:
    """Organizations the actor may see (an executor sees only their own)."""
    actor.require("read")
    return OrganizationRepository(session).page(
        actor.scope, region_code=region_code, kind=kind, q=q, limit=limit, offset=offset
    )


def get_organization(session: Session, actor: Actor, organization_id: int) -> Organization:
    """One organization; outside the scope it does not exist."""
    actor.require("read")
    organization = OrganizationRepository(session).get(organization_id)
    if (
        organization is None
        or not actor.scope.sees_region(organization.region_code)
        or (actor.scope.organization_id not in (None, organization.id))
    ):
        raise NotFound(f"organization {organization_id} not found")
    return organization
