"""Audit log routes (read-only: the log is append-only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from otklik.audit import service
from otklik.bounds import DbInt
from otklik.deps import CurrentActor, SessionDep

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


@router.get("", response_model=list[AuditRead])
def list_audit(
    actor: CurrentActor,
    session: SessionDep,
    object_type: str | None = None,
    object_id: str | None = None,
    limit: Annotated[DbInt, Query(ge=1, le=1000)] = 100,
    offset: Annotated[DbInt, Query()] = 0,
) -> list[AuditRead]:
    """Audit entries, newest first."""
    rows = service.list_entries(
        session, actor, object_type=object_type, object_id=object_id, limit=limit, offset=offset
    )
    return [AuditRead.model_validate(r) for r in rows]
