"""Background jobs of reports: e-mail a generated brief to one recipient (at most once).

Jobs take ids, reload, and are idempotent: a delivery already sent, failed or skipped is left
alone (see ``reports/delivery.py`` for the statuses and the retry rules).
"""

from __future__ import annotations

import logging

import dramatiq

from otklik.config import get_settings
from otklik.db.session import session_scope
from otklik.queue import broker
from otklik.reports import delivery

log = logging.getLogger(__name__)


@dramatiq.actor(broker=broker, queue_name="reports", max_retries=delivery.MAX_ATTEMPTS,
                min_backoff=30_000, max_backoff=3_600_000, time_limit=300_000)
def deliver_report(delivery_id: int) -> None:
    """Send a brief to one recipient; raise on a temporary error so the queue retries."""
    settings = get_settings()
    with session_scope() as session:
        message = delivery.claim(session, delivery_id, settings)
    if message is None:
        return
    try:
        delivery.send_email(settings, message)
    except delivery.TemporaryError as exc:
        with session_scope() as session:
            retry = delivery.record_failure(session, delivery_id, str(exc), temporary=True)
        log.warning("brief delivery %s: %s%s", delivery_id, exc, " (will retry)" if retry else "")
        if retry:
            raise
        return
    except Exception as exc:  # permanent, or unexpected: the e-mail may be out, do not resend
        with session_scope() as session:
            delivery.record_failure(session, delivery_id, f"{exc}" or type(exc).__name__,
                                    temporary=False)
        log.warning("brief delivery %s failed: %s", delivery_id, exc)
        return
    with session_scope() as session:
        delivery.record_sent(session, delivery_id)
