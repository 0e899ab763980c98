"""Account rules: who may exist with which role and scope, logging in, API tokens."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from otklik.accounts import passwords, ratelimit, throttle
from otklik.accounts.repository import AccountRepository
from otklik.accounts.schemas import TokenCreate, UserCreate
from otklik.accounts.scope import ORGANIZATION_ROLES, PERMISSIONS, Scope
from otklik.accounts.security import (
    dummy_verify,
    hash_password,
    hash_token,
    new_api_token,
    password_needs_rehash,
    verify_password,
)
from otklik.accounts.sessions import end_user_sessions
from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.config import get_settings
from otklik.db.base import utcnow
from otklik.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from otklik.models.account import ApiToken, Role, User
from otklik.organizations.repository import OrganizationRepository
from otklik.territories.repository import TerritoryRepository

#: Token scopes an integration may ask for ("tokens": mint and revoke the user's tokens).
#: "open311": file service requests through Open311 GeoReport v2 (docs/open311.md).
TOKEN_SCOPES = frozenset({"read", "write", "intake", "analytics", "admin", "tokens",
                          "open311", "contests", "contests.score", "webhooks"})


def create_user(session: Session, actor: Actor, data: UserCreate, *, is_demo: bool = False) -> User:
    """Create a user after checking the role's scope makes sense and the actor may grant it."""
    actor.require("users")
    _check_may_grant(actor, data.role)
    if not is_demo:
        passwords.check(data.password, data.username)
    repo = AccountRepository(session)
    if repo.by_username(data.username):
        raise Conflict(f"the username {data.username!r} is taken")
    regions = sorted(set(data.region_codes))
    territories = TerritoryRepository(session)
    unknown = [code for code in regions if territories.region(code) is None]
    if unknown:
        raise InvalidInput(
            f"unknown region code(s) {', '.join(unknown)}: load territories first "
            "(otklik territories load) or use 2-digit OKTMO codes such as 68"
        )
    if data.all_regions and not actor.scope.all_regions:
        raise Forbidden("only a federal administrator can create a user who sees all regions")
    outside = [code for code in regions if not actor.scope.sees_region(code)]
    if outside:
        raise Forbidden(f"you cannot grant regions outside your own: {', '.join(outside)}")
    if not data.all_regions and not regions:
        raise InvalidInput("give the user at least one region (--region) or all regions")
    organization_id = data.organization_id
    if data.role in ORGANIZATION_ROLES:
        if organization_id is None:
            raise InvalidInput(f"an {data.role.value} must belong to an organization "
                               "(--organization)")
        organization = OrganizationRepository(session).get(organization_id)
        if organization is None or organization.region_code not in regions:
            raise InvalidInput(
                f"organization {organization_id} does not exist in the user's regions"
            )
    for territory_id in data.territory_ids:
        territory = territories.get(territory_id)
        if territory is None or territory.region_code not in regions:
            raise InvalidInput(f"territory {territory_id} is not inside the user's regions")
    user = repo.add(
        User(
            username=data.username,
            full_name=data.full_name,
            email=data.email,
            password_hash=hash_password(data.password),
            role=data.role,
            all_regions=data.all_regions,
            region_codes=regions,
            organization_id=organization_id,
            locale=data.locale,
            is_demo=is_demo,
        )
    )
    if data.territory_ids:
        repo.set_territories(user.id, data.territory_ids)
    audit.record(
        session,
        actor,
        "user.create",
        "user",
        user.id,
        region_code=regions[0] if len(regions) == 1 else None,
        details={"username": user.username, "role": user.role.value, "regions": regions},
    )
    return user


def _check_may_grant(actor: Actor, role: Role) -> None:
    """A token narrower than its user's role cannot hand out a login whose role carries what
    the token was narrowed away from (a login session holds its whole role: no limit)."""
    if actor.role is None:
        return
    withheld = sorted((PERMISSIONS[actor.role] - actor.scope.permissions) & PERMISSIONS[role])
    if withheld:
        raise Forbidden(
            f"this API token cannot give a user the role {role.value!r}: the role carries "
            f"{', '.join(withheld)}, which the token does not hold (log in to do this)"
        )


def set_user_active(session: Session, actor: Actor, user_id: int, active: bool) -> User:
    """Deactivate a user (every session of theirs ends, their tokens stop working) or
    reactivate them."""
    actor.require("users")
    user = AccountRepository(session).get(user_id)
    if user is None or not actor.scope.administers(user):
        raise NotFound(f"user {user_id} not found among the users you administer")
    if not active and user.id == actor.user_id:
        raise InvalidInput("you cannot deactivate yourself: ask another administrator")
    if active:
        _check_may_grant(actor, user.role)
    ended = 0
    if user.is_active != active:
        user.is_active = active
        if not active:
            ended = end_user_sessions(session, user.id)
        audit.record(session, actor, "user.activate" if active else "user.deactivate", "user",
                     user.id, details={"username": user.username, "sessions_ended": ended})
    return user


def reset_password(session: Session, actor: Actor, user_id: int, new: str) -> User:
    """Set another user's password (an administrator's reset); every session of theirs ends."""
    actor.require("users")
    user = AccountRepository(session).get(user_id)
    if user is None or not actor.scope.administers(user):
        raise NotFound(f"user {user_id} not found among the users you administer")
    _check_may_grant(actor, user.role)
    passwords.check(new, user.username)
    user.password_hash = hash_password(new)
    ended = end_user_sessions(session, user.id)
    audit.record(session, actor, "user.password_reset", "user", user.id,
                 details={"username": user.username, "sessions_ended": ended})
    return user


def find_user(session: Session, username: str) -> User:
    """A user by login name; NotFound names the login."""
    user = AccountRepository(session).by_username(username.strip())
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def change_password(session: Session, actor: Actor, current: str, new: str) -> User:
    """Change the calling user's own password; every session of theirs ends."""
    if actor.user_id is None or actor.token_id is not None:
        raise Forbidden("change the password from a login session, not with an API token")
    user = AccountRepository(session).get(actor.user_id)
    if user is None:
        raise NotAuthenticated("log in first")
    if not verify_password(user.password_hash, current):
        raise InvalidInput("the current password is wrong")
    passwords.check(new, user.username)
    if new == current:
        raise InvalidInput("the new password is the same as the current one")
    user.password_hash = hash_password(new)
    ended = end_user_sessions(session, user.id)
    audit.record(session, actor, "user.password", "user", user.id,
                 details={"sessions_ended": ended})
    return user


def authenticate(session: Session, username: str, password: str, ip: str | None = None) -> User:
    """Check a login; the same answer for an unknown user and a wrong password. Too many
    failures lock the account and the address for a while (accounts/throttle.py: 429).
    A failure is written in the session: the caller commits it although the login fails."""
    now = utcnow()
    throttle.check(session, username, ip, now)
    repo = AccountRepository(session)
    user = repo.by_username(username.strip())
    if user is None:
        dummy_verify()
        _failed(session, username, ip, now, None)
        raise NotAuthenticated("wrong username or password")
    if not user.is_active or not verify_password(user.password_hash, password):
        _failed(session, username, ip, now, user)
        raise NotAuthenticated("wrong username or password")
    throttle.succeeded(session, username)
    if password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    audit.record(session, actor_for(session, user, ip), "login", "user", user.id)
    return user


def _failed(session: Session, username: str, ip: str | None, now: datetime,
            user: User | None) -> None:
    locked = throttle.failed(session, username, ip, now)
    who = Actor(label=(user.username if user else username.strip()[:64]) or "?",
                user_id=user.id if user else None, ip=ip)
    if user is not None:
        audit.record(session, who, "login.failed", "user", user.id)
    if locked:
        audit.record(session, who, "login.locked", "user", user.id if user else None,
                     details={"locked": locked,
                              "minutes": get_settings().login_lock_minutes})


def actor_for(session: Session, user: User, ip: str | None = None) -> Actor:
    """The acting identity and scope of a logged-in user."""
    territory_ids = AccountRepository(session).territory_ids(user.id)
    return Actor(
        label=user.username,
        scope=Scope.for_user(user, territory_ids),
        user_id=user.id,
        role=user.role,
        ip=ip,
    )


def get_active_user(session: Session, user_id: int) -> User | None:
    """The user behind a session, if still active."""
    user = AccountRepository(session).get(user_id)
    return user if user is not None and user.is_active else None


def list_users(session: Session, actor: Actor, *, role: Role | None = None,
               region_code: str | None = None, is_active: bool | None = None
               ) -> Sequence[User]:
    """Users the actor administers, by username; ``role``, ``is_active`` and ``region_code``
    (a user of that region, or of every region) narrow them."""
    actor.require("users")
    rows = AccountRepository(session).visible(actor.scope, role=role, is_active=is_active)
    if region_code is not None:
        rows = [u for u in rows if u.all_regions or region_code in (u.region_codes or [])]
    return rows


def _require_token_management(actor: Actor) -> None:
    if not actor.scope.can("tokens"):
        raise Forbidden("this API token may not mint or revoke tokens: it lacks the 'tokens' "
                        "scope (log in, or use a token that has it)")


def create_token(session: Session, actor: Actor, data: TokenCreate) -> tuple[ApiToken, str]:
    """Mint an API token for the acting user, never wider than the caller (a login session:
    its role; a token: its own scopes, and it expires no later); the secret is returned once."""
    _require_token_management(actor)
    if actor.user_id is None:
        raise InvalidInput("API tokens belong to a user: log in first")
    requested = frozenset(data.scopes)
    unknown = sorted(requested - TOKEN_SCOPES)
    if unknown:
        raise InvalidInput(
            f"unknown token scope(s) {', '.join(unknown)}; use {', '.join(sorted(TOKEN_SCOPES))}"
        )
    role_permissions = PERMISSIONS[actor.role] if actor.role else frozenset()
    beyond_role = sorted(requested - role_permissions)
    if beyond_role:
        raise Forbidden(f"your role cannot grant the token scope(s) {', '.join(beyond_role)}")
    beyond_caller = sorted((_token_permissions(requested) & role_permissions)
                           - actor.scope.permissions)
    if beyond_caller:
        raise Forbidden("a token can only mint tokens with permissions it holds itself; this "
                        f"one lacks {', '.join(beyond_caller)}")
    repo = AccountRepository(session)
    expires = utcnow() + timedelta(days=data.expires_in_days) if data.expires_in_days else None
    parent = repo.get_token(actor.token_id) if actor.token_id is not None else None
    if parent is not None and parent.expires_at is not None:
        expires = parent.expires_at if expires is None else min(expires, parent.expires_at)
    token, prefix, digest = new_api_token()
    row = repo.add_token(
        ApiToken(
            user_id=actor.user_id,
            name=data.name,
            prefix=prefix,
            token_hash=digest,
            scopes=sorted(requested),
            expires_at=expires,
            parent_id=parent.id if parent is not None else None,
        )
    )
    audit.record(session, actor, "token.create", "api_token", row.id,
                 details={"name": data.name, "scopes": sorted(requested)})
    return row, token


def authenticate_token(session: Session, token: str, ip: str | None = None) -> Actor:
    """The actor behind a bearer token: the user's scope cut down to the token's scopes; an
    integrator's key (no user) acts in its region with its scopes. Each use counts against
    the key's rate limit (accounts/ratelimit.py: 429 when spent)."""
    repo = AccountRepository(session)
    row = repo.token_by_hash(hash_token(token))
    now = utcnow()
    if row is None or row.revoked_at is not None or (row.expires_at and row.expires_at < now):
        raise NotAuthenticated("invalid, expired or revoked API token")
    if row.user_id is None:
        ratelimit.check(f"{row.id}:{row.prefix}")
        row.last_used_at = now
        regions = frozenset({row.region_code}) if row.region_code else frozenset()
        return Actor(label=f"key {row.name} ({row.prefix})"[:128],
                     scope=Scope(all_regions=row.region_code is None, region_codes=regions,
                                 permissions=frozenset(_token_permissions(row.scopes))),
                     ip=ip, token_id=row.id)
    user = get_active_user(session, row.user_id)
    if user is None:
        raise NotAuthenticated("the token's user is disabled")
    ratelimit.check(f"{row.id}:{row.prefix}")
    row.last_used_at = now
    base = actor_for(session, user, ip)
    granted = _token_permissions(row.scopes) & base.scope.permissions
    # Every narrowing of the user's scope stays; only the permissions are cut down.
    scope = replace(base.scope, permissions=frozenset(granted))
    return Actor(label=f"{user.username} (token {row.prefix})", scope=scope, user_id=user.id,
                 role=user.role, ip=ip, token_id=row.id)


def _token_permissions(scopes: Iterable[str]) -> set[str]:
    granted: set[str] = set()
    for scope in scopes:
        granted.add(scope)
        if scope == "write":
            granted |= {"read", "triage", "answer", "moderate"}
        if scope == "admin":
            granted |= {"read", "write", "users", "audit", "reference.write"}
    return granted


def revoke_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    """Revoke one of the actor's own tokens and every token minted from it."""
    _require_token_management(actor)
    repo = AccountRepository(session)
    row = next((t for t in repo.tokens_of(actor.user_id or -1) if t.id == token_id), None)
    if row is None:
        raise NotFound(f"token {token_id} not found among your tokens")
    now = utcnow()
    revoked: list[ApiToken] = []
    seen = {row.id}
    layer = [row]
    while layer:
        revoked.extend(t for t in layer if t.revoked_at is None)
        layer = [t for t in repo.children_of([t.id for t in layer]) if t.id not in seen]
        seen.update(t.id for t in layer)
    for token in revoked:
        token.revoked_at = now
    audit.record(session, actor, "token.revoke", "api_token", row.id,
                 details={"revoked": sorted(t.id for t in revoked)})
    return row
