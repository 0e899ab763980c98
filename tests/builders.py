"""Builder helpers for tests: small functions that make one valid object each."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from otklik.accounts.schemas import UserCreate
from otklik.accounts.scope import Scope
from otklik.accounts.service import create_user
from otklik.audit.actor import Actor
from otklik.models.account import Role, User
from otklik.models.organization import Organization, OrganizationKind
from otklik.organizations.repository import OrganizationRepository

_counter = itertools.count(1)
PASSWORD = "correct horse battery"


def make_user(
    session: Session,
    role: Role = Role.operator,
    regions: list[str] | None = None,
    *,
    all_regions: bool = False,
    organization_id: int | None = None,
    password: str = PASSWORD,
) -> User:
    """A user of the given role in the given regions (Tambov by default)."""
    return create_user(
        session,
        Actor.system("tests"),
        UserCreate(
            username=f"user{next(_counter)}_{role.value}",
            password=password,
            role=role,
            all_regions=all_regions,
            region_codes=[] if all_regions else (regions or ["68"]),
            organization_id=organization_id,
        ),
    )


def an_organization(session: Session, region: str = "68",
                    kind: OrganizationKind = OrganizationKind.municipal_admin) -> Organization:
    """An existing organization of the region (the reference load made them)."""
    rows, _ = OrganizationRepository(session).page(Scope.system(), region_code=region, kind=kind,
                                                   limit=1)
    return rows[0]
