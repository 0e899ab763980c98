"""The append-only audit log: who did what to which object."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from otklik.db.base import Base, utcnow
from otklik.db.types import JSONType, UTCDateTime


class AuditEntry(Base):
    """One recorded action. Never updated or deleted (a database trigger enforces it)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    region_code: Mapped[str | None] = mapped_column(String(3), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    ip: Mapped[str | None] = mapped_column(String(64))
    #: A random value that makes each entry's MAC its own (a copied row is caught).
    nonce: Mapped[str | None] = mapped_column(String(32))
    #: HMAC-SHA256 of the entry's content under the audit key (otklik/audit/chain.py).
    mac: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id"),
                      Index("uq_audit_log_mac", "mac", unique=True))


class AuditSeal(Base):
    """The chain over the audit log: the ``seq``-th sealed entry, its MAC, and a hash over
    the previous seal's hash, so a deleted, inserted or reordered entry breaks the chain.
    Appended by one sealer at a time; never updated or deleted (a trigger enforces it)."""

    __tablename__ = "audit_seal"
    # the sealer asks, for each entry not sealed yet, whether its MAC is sealed already
    __table_args__ = (Index("ix_audit_seal_entry_mac", "entry_mac"),)

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    entry_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    entry_mac: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def _refuse_change(*_args: Any) -> None:
    raise PermissionError("the audit log is append-only")


for _table in (AuditEntry, AuditSeal):
    event.listen(_table, "before_update", _refuse_change)
    event.listen(_table, "before_delete", _refuse_change)
