"""Organization routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from otklik.bounds import DbInt, RefId
from otklik.deps import CurrentActor, SessionDep
from otklik.models.organization import OrganizationKind
from otklik.organizations import service
from otklik.organizations.schemas import OrganizationCreate, OrganizationList, OrganizationRead

router = APIRouter(prefix="/api/v1/organizations", tags=["organizations"])


@router.get("", response_model=OrganizationList)
def list_organizations(
    actor: CurrentActor,
    session: SessionDep,
    region_code: str | None = Query(default=None, pattern=r"^\d{2,3}$"),
    kind: OrganizationKind | None = None,
    q: str | None = Query(default=None, max_length=100),
    limit: Annotated[DbInt, Query(ge=1, le=1000)] = 100,
    offset: Annotated[DbInt, Query()] = 0,
) -> OrganizationList:
    """Organizations in the caller's scope."""
    rows, total = service.list_organizations(
        session, actor, region_code=region_code, kind=kind, q=q, limit=limit, offset=offset
    )
    items = [OrganizationRead.model_validate(o) for o in rows]
    return OrganizationList(items=items, total=total, limit=limit, offset=offset)


@router.post("", response_model=OrganizationRead, status_code=201)
def create_organization(
    data: OrganizationCreate, actor: CurrentActor, session: SessionDep
) -> OrganizationRead:
    """Create an organization (admins)."""
    return OrganizationRead.model_validate(service.create_organization(session, actor, data))


@router.get("/{organization_id}", response_model=OrganizationRead)
def get_organization(
    organization_id: RefId, actor: CurrentActor, session: SessionDep
) -> OrganizationRead:
    """One organization."""
    return OrganizationRead.model_validate(
        service.get_organization(session, actor, organization_id)
    )
