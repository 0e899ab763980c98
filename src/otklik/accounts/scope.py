"""What part of the country a user may see: the one place scoping rules live."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, false, true

from otklik.models.account import Role, User

#: Permissions by role. Repositories filter by scope; services check these.
#: Every role has "tokens" (managing one's own API tokens); a token has it only when minted
#: with that scope.
PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.admin: frozenset(
        {"read", "write", "admin", "audit", "users", "reference.write", "intake", "analytics",
         "tokens"}
    ),
    Role.operator: frozenset({"read", "write", "intake", "triage", "moderate", "tokens"}),
    Role.curator: frozenset(
        {"read", "write", "triage", "approve_extension", "moderate", "tokens"}
    ),
    Role.executor: frozenset({"read", "answer", "tokens"}),
    Role.analyst: frozenset({"read", "analytics", "tokens"}),
    Role.head: frozenset({"read", "analytics", "tokens"}),
    Role.deputy: frozenset({"read", "analytics", "tokens"}),
}


@dataclass(frozen=True)
class Scope:
    """A user's view of the data: all regions, or some, maybe narrowed to an organization."""

    all_regions: bool = False
    region_codes: frozenset[str] = field(default_factory=frozenset)
    territory_ids: frozenset[int] = field(default_factory=frozenset)
    organization_id: int | None = None
    permissions: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def for_user(cls, user: User, territory_ids: frozenset[int] = frozenset()) -> Scope:
        """The scope of a user from their role and assignments."""
        return cls(
            all_regions=user.all_regions,
            region_codes=frozenset(user.region_codes or ()),
            territory_ids=territory_ids,
            organization_id=user.organization_id if user.role == Role.executor else None,
            permissions=PERMISSIONS[user.role],
        )

    @classmethod
    def system(cls) -> Scope:
        """Everything: for CLI commands and background jobs."""
        return cls(all_regions=True, permissions=frozenset().union(*PERMISSIONS.values()))

    def can(self, permission: str) -> bool:
        """True when the scope carries the permission."""
        return permission in self.permissions

    def sees_region(self, region_code: str | None) -> bool:
        """True when objects of that region are visible."""
        return self.all_regions or (region_code is not None and region_code in self.region_codes)

    def administers(self, user: User) -> bool:
        """True when an admin of this scope manages ``user``: a federal admin everybody,
        a regional admin the regional users who share one of their regions."""
        if self.all_regions:
            return True
        return not user.all_regions and bool(set(user.region_codes or ()) & self.region_codes)

    def region_filter(self, column: Any) -> ColumnElement[bool]:
        """A WHERE clause restricting ``column`` (a region_code column) to the scope."""
        if self.all_regions:
            return true()
        if not self.region_codes:
            return false()
        return column.in_(sorted(self.region_codes))
