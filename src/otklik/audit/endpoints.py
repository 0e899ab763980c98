"""Audit log routes (read-only: the log is append-only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from otklik.audit import service
from otklik.deps import CurrentActor, SessionDep
from otklik.paging import Limit, Offset, Page

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


class AuditRead(BaseModel):
    """One audit entry."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_id: int | None
    actor: str
    action: str
    object_type: str
    object_id: str | None
    region_code: str | None
    details: dict[str, Any]


class AuditList(Page[AuditRead]):
    """A page of audit entries."""


@router.get("", response_model=AuditList)
def list_audit(
    actor: CurrentActor,
    session: SessionDep,
    object_type: str | None = None,
    object_id: str | None = None,
    action: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> AuditList:
    """Audit entries, newest first; optionally of one object type, object or action."""
    rows, total = service.page_entries(
        session, actor, object_type=object_type, object_id=object_id, action=action,
        limit=limit, offset=offset)
    return AuditList(items=[AuditRead.model_validate(r) for r in rows], total=total,
                     limit=limit, offset=offset)
