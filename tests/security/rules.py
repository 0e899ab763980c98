"""The vocabulary of the access matrix (tests/security/matrix.py) and the app's routes.

A :class:`Rule` says who passes a route's gate:

- ``PUBLIC``: everybody, logged in or not, gets the same answer;
- ``ANY``: any logged-in user or token (nobody: 401 or the login form);
- ``USER``: a user (a session or a user's token), not an integrator's key;
- ``perm("read")``, ``any_of("triage", "answer")``: whoever holds that permission (a
  role's PERMISSIONS in accounts/scope.py, a token's scopes); the others 403;
- ``roles(Role.admin, ...)``: exactly those roles, whatever their permissions.

``scope`` names the kind of object the path addresses (:data:`SCOPES`); a caller who passes
the gate but does not see the object gets 404, exactly like a missing id. ``hides`` says a
caller without the permission gets 404 too (the object's existence is not confirmed).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from otklik.models.account import Role


@dataclass(frozen=True)
class Rule:
    """Who may call one (method, path) and about which object."""

    who: str  # "public" | "any" | "user" | "perm" | "roles"
    permission: str | None = None
    roles: frozenset[Role] = frozenset()
    scope: str | None = None
    hides: bool = False
    #: path parameters that are not objects (an action, a format, a language) and their value
    params: dict[str, str] = field(default_factory=dict)
    #: the JSON or form body an unsafe request sends (default: a minimal valid one made
    #: from the route's schema, so a refusal is not hidden behind a 422)
    body: dict[str, Any] | None = None
    #: why, in the doc (one short line)
    note: str = ""
    #: roles that pass the gate but see nothing there (404): an executor has no message list
    hidden_for: frozenset[Role] = frozenset()
    #: the walk cannot make a request that passes the gate and succeeds (a file upload, an
    #: object the world lacks): only "nobody is refused" and "no 5xx" are checked; first try
    #: params, query or a body (say why in ``note`` when it must stay)
    unchecked: bool = False
    #: query parameters every call sends (a required ``region_code``, a confirmation); values
    #: may name the world's objects like a body's ("{home:organization_id}")
    query: dict[str, str] = field(default_factory=dict)

    def at(self, scope: str | None = None, *, hides: bool | None = None,
           note: str | None = None, body: dict[str, Any] | None = None,
           hidden_for: frozenset[Role] | None = None, unchecked: bool | None = None,
           query: dict[str, str] | None = None, **params: str) -> Rule:
        """The same rule about an object of kind ``scope`` (and with fixed parameters)."""
        return Rule(self.who, self.permission, self.roles, scope or self.scope,
                    self.hides if hides is None else hides, {**self.params, **params},
                    self.body if body is None else body, self.note if note is None else note,
                    self.hidden_for if hidden_for is None else hidden_for,
                    self.unchecked if unchecked is None else unchecked,
                    self.query if query is None else query)

    def label(self) -> str:
        """How the doc names the gate."""
        if self.who == "perm":
            return " or ".join(f"`{p}`" for p in str(self.permission).split("|"))
        if self.who == "roles":
            return ", ".join(sorted(r.value for r in self.roles))
        return {"public": "public", "any": "any login",
                "user": "any user (not an integrator's key)"}[self.who]


PUBLIC = Rule("public")
ANY = Rule("any")
USER = Rule("user")


def perm(permission: str, scope: str | None = None, **kw: Any) -> Rule:
    """Whoever holds ``permission``."""
    return Rule("perm", permission=permission).at(scope, **kw)


def any_of(*permissions: str, scope: str | None = None, **kw: Any) -> Rule:
    """Whoever holds one of ``permissions`` (e.g. an operator's triage or an executor's
    answer)."""
    return Rule("perm", permission="|".join(permissions)).at(scope, **kw)


def roles(*names: Role, scope: str | None = None, **kw: Any) -> Rule:
    """Exactly these roles."""
    return Rule("roles", roles=frozenset(names)).at(scope, **kw)


#: Kinds of scoped objects and what seeing one takes (accounts/scope.py):
#: region: a user of its region; case: also its district and organization (an executor),
#: not an expert; region_wide: its region, not narrowed (district, organization, expert);
#: contest: its region, an expert only their tracks'; own: the caller's own (a token, a
#: saved view); administered: a user or key an administrator of its region manages.
SCOPES = ("region", "case", "region_wide", "contest", "own", "administered")

#: Prefixes served as files, not routes of their own (the rule is PUBLIC).
MOUNTS = ("/static",)


def app_routes(app: Any) -> Iterator[tuple[str, str, Any]]:
    """Every (method, path template, endpoint) the app serves, HEAD folded into GET;
    mounts as ("*", prefix, None)."""
    from starlette.routing import Mount

    try:
        from fastapi.routing import iter_route_contexts
        contexts: Any = iter_route_contexts(app.routes)
    except ImportError:  # FastAPI before route contexts: the routes themselves
        contexts = app.routes
    for context in contexts:
        original = getattr(context, "original_route", context)
        if isinstance(original, Mount):
            yield "*", original.path, None
            continue
        for method in sorted(getattr(context, "methods", None) or ()):
            if method != "HEAD":
                yield method, context.path, getattr(context, "endpoint", None)
