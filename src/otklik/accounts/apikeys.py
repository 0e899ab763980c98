"""API keys of integrators (a regional portal, a call center, a city app): tokens that belong
to no user, made by an administrator (``otklik apikey``, the admin page), limited to one
region or none, with the scopes the integration needs, rate-limited (accounts/ratelimit.py).
The secret is shown once; only its SHA-256 is stored."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from otklik.accounts.repository import AccountRepository
from otklik.accounts.security import new_api_token
from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.db.base import utcnow
from otklik.errors import Forbidden, InvalidInput, NotFound
from otklik.models.account import ApiToken
from otklik.territories.repository import TerritoryRepository
from otklik.territories.service import resolve_region_code

#: What an integrator's key may carry: Open311 filing, the REST API read or write, the
#: webhooks it subscribes to, and pushing messages. Never admin, users or tokens.
KEY_SCOPES = frozenset({"open311", "read", "write", "webhooks", "intake"})


def _region(session: Session, actor: Actor, region: str | None) -> str | None:
    """A region code from a code ("68") or a name ("Тамбовская область"), in the actor's
    scope; None = every region (only an administrator of every region may)."""
    if region is None or not region.strip():
        if not actor.scope.all_regions:
            raise Forbidden("only an administrator of every region may make a key for every "
                            "region: give --region")
        return None
    code = resolve_region_code(region)
    if TerritoryRepository(session).region(code) is None:
        raise InvalidInput(f"the region {code} is not loaded: otklik territories load {code}")
    if not actor.scope.sees_region(code):
        raise Forbidden(f"the region {code} is outside yours")
    return code


def create_key(session: Session, actor: Actor, *, scopes: Sequence[str], name: str,
               region: str | None) -> tuple[ApiToken, str]:
    """Make a key; returns the row and the secret (shown once, never stored)."""
    actor.require("admin")
    wanted = sorted(set(scopes))
    if not wanted:
        raise InvalidInput(f"give at least one scope: {', '.join(sorted(KEY_SCOPES))}")
    unknown = [s for s in wanted if s not in KEY_SCOPES]
    if unknown:
        raise InvalidInput(f"unknown key scope(s) {', '.join(unknown)}; use "
                           f"{', '.join(sorted(KEY_SCOPES))}")
    label = name.strip()[:255] or "integration"
    region_code = _region(session, actor, region)
    secret, prefix, digest = new_api_token()
    row = AccountRepository(session).add_token(ApiToken(
        user_id=None, name=label, prefix=prefix, token_hash=digest, scopes=wanted,
        region_code=region_code))
    audit.record(session, actor, "apikey.create", "api_token", row.id, region_code=region_code,
                 details={"name": label, "scopes": wanted})
    return row, secret


def list_keys(session: Session, actor: Actor) -> Sequence[ApiToken]:
    """The integrators' keys of the actor's regions, newest first."""
    actor.require("admin")
    return AccountRepository(session).integrator_keys(actor.scope)


def revoke_key(session: Session, actor: Actor, key_id: int) -> ApiToken:
    """Revoke a key at once (the next request with it is refused)."""
    actor.require("admin")
    row = next((k for k in list_keys(session, actor) if k.id == key_id), None)
    if row is None:
        raise NotFound(f"API key {key_id} not found among the keys you administer")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(session, actor, "apikey.revoke", "api_token", row.id,
                     region_code=row.region_code, details={"name": row.name})
    return row
