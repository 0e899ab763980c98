"""Who is acting: a user with their scope, or the system (CLI, jobs)."""

from __future__ import annotations

from dataclasses import dataclass, field

from otklik.accounts.scope import Scope
from otklik.errors import Forbidden
from otklik.models.account import Role


@dataclass(frozen=True)
class Actor:
    """The caller of a service: identity for the audit log, scope for every query."""

    label: str
    scope: Scope = field(default_factory=Scope.system)
    user_id: int | None = None
    role: Role | None = None
    ip: str | None = None
    #: The API token the caller authenticated with (None: a login session, the CLI, a job).
    token_id: int | None = None

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        """An actor for CLI commands and background jobs, seeing everything."""
        return cls(label=label)

    def require(self, permission: str) -> None:
        """Refuse with a clear message when the actor lacks the permission."""
        if not self.scope.can(permission):
            role = self.role.value if self.role else "this caller"
            raise Forbidden(f"the role {role!r} may not do this ({permission!r} is needed)")
