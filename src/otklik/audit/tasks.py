"""The audit sealer as a queue job: once per committed unit of work that wrote entries."""

from __future__ import annotations

import dramatiq
from sqlalchemy.orm import Session

from otklik.db.session import session_scope
from otklik.queue import broker, enqueue_after_commit

_ASKED = "otklik_audit_seal_asked"


@dramatiq.actor(broker=broker, queue_name="audit", max_retries=10, time_limit=300_000)
def seal_audit() -> None:
    """Seal the committed entries not sealed yet (idempotent; one sealer at a time)."""
    from otklik.audit.chain import SEAL_BATCH, seal

    while True:
        with session_scope() as session:
            if seal(session) < SEAL_BATCH:
                return


def seal_after_commit(session: Session) -> None:
    """Ask for one sealing after this unit of work commits (once per transaction)."""
    transaction = session.get_transaction()
    if transaction is not None and session.info.get(_ASKED) is transaction:
        return
    session.info[_ASKED] = transaction
    enqueue_after_commit(session, seal_audit)
