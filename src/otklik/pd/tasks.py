"""The retention job, for the scheduler (daily) and any worker."""

from __future__ import annotations

import dramatiq

from otklik.queue import broker


@dramatiq.actor(broker=broker, queue_name="upkeep", max_retries=3, time_limit=3_600_000)
def retention_job() -> None:
    """Anonymise what is past retention (idempotent: a second run finds nothing due)."""
    from otklik.audit.actor import Actor
    from otklik.db.session import session_scope
    from otklik.pd.service import run_retention

    with session_scope() as session:
        run_retention(session, Actor.system("retention"))
