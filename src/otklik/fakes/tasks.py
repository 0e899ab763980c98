"""Background jobs of fakes. Jobs take ids, reload, and are idempotent. (What fakes do on
other domains' events is :mod:`otklik.fakes.consumers`.)"""

from __future__ import annotations

import dramatiq

from otklik.db.session import session_scope
from otklik.fakes import refuting
from otklik.queue import broker


@dramatiq.actor(broker=broker, queue_name="publish", max_retries=8, min_backoff=5_000,
                time_limit=300_000)
def publish_refutation(fake_id: int) -> None:
    """Reply with the approved refutation under the fake's copies; raise to retry failures."""
    with session_scope() as session:
        summary = refuting.publish(session, fake_id)
    if summary.failed:
        raise RuntimeError(f"{summary.failed} replies with the refutation of fake {fake_id} "
                           "failed; the job retries with back-off")
