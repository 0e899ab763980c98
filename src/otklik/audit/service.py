"""Recording actions in the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from otklik.audit import chain
from otklik.audit.actor import Actor
from otklik.audit.repository import AuditRepository
from otklik.audit.tasks import seal_after_commit
from otklik.db import appends
from otklik.db.base import utcnow
from otklik.models.audit import AuditEntry


def record(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: object | None = None,
    *,
    region_code: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry | None:
    """Append who did what to which object; committed with the caller's unit of work, MAC'd
    now and sealed into the chain after the commit (:mod:`otklik.audit.chain`). Returns the
    entry, or None inside :func:`otklik.db.appends.appending` (a batch's entries are written
    together, as plain rows, in the order recorded)."""
    values: dict[str, Any] = {
        "at": utcnow(),
        "actor_id": actor.user_id,
        "actor": actor.label,
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "region_code": region_code,
        "details": chain.normalized_details(details),
        "ip": actor.ip,
        "nonce": chain.new_nonce(),
    }
    values["mac"] = chain.entry_mac(values)
    seal_after_commit(session)
    if appends.append(session, AuditEntry, values):
        return None
    return AuditRepository(session).add(AuditEntry(**values))


def list_entries(
    session: Session,
    actor: Actor,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[AuditEntry]:
    """Audit entries the actor may read (admins of their regions, or everything)."""
    actor.require("audit")
    return AuditRepository(session).page(
        actor.scope, object_type=object_type, object_id=object_id, limit=limit, offset=offset
    )


def page_entries(session: Session, actor: Actor, *, object_type: str | None = None,
                 object_id: str | None = None, action: str | None = None, limit: int = 50,
                 offset: int = 0) -> tuple[Sequence[AuditEntry], int]:
    """A page of the entries :func:`list_entries` reads (``action`` narrows them too) and how
    many match in all."""
    actor.require("audit")
    return AuditRepository(session).counted_page(
        actor.scope, object_type=object_type, object_id=object_id, action=action, limit=limit,
        offset=offset)
