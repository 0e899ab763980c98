"""Background jobs of incidents: take ids, reload, idempotent. (What incidents do on other
domains' events is :mod:`otklik.incidents.consumers`.)"""

from __future__ import annotations

import dramatiq

from otklik.db.session import session_scope
from otklik.incidents import informing
from otklik.queue import broker


@dramatiq.actor(broker=broker, queue_name="publish", max_retries=8, min_backoff=5_000,
                time_limit=300_000)
def publish_update_job(update_id: int) -> None:
    """Publish a public update to the region's channels; raise to retry the failed ones."""
    with session_scope() as session:
        deliveries = informing.deliver_update(session, update_id)
    failed = [k for k, v in deliveries.items() if v.get("status") == "failed"]
    if failed:
        raise RuntimeError(f"incident update {update_id}: channels {', '.join(failed)} failed; "
                           "the job retries with back-off")
