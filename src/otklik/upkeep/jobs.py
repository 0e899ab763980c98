"""The periodic work as queue jobs, so that any worker on any host runs it and the
scheduler only sends (each job is idempotent: sending it twice does the work once)."""

from __future__ import annotations

from datetime import timedelta

import dramatiq

from otklik.db.session import session_scope
from otklik.queue import broker


@dramatiq.actor(broker=broker, queue_name="connectors", max_retries=0, time_limit=600_000)
def poll_connector(connector_id: int) -> None:
    """Fetch from one connector from its saved cursor (the cursor moves in the same
    transaction as the stored messages, so a killed poll fetches the same page again and
    stores nothing twice). Not retried: the next tick polls again."""
    from otklik.intake.receiving import run_connector

    run_connector(connector_id)


@dramatiq.actor(broker=broker, queue_name="reports", max_retries=3, time_limit=1_800_000)
def run_due_reports() -> None:
    """Generate the scheduled briefs that are due (each period once)."""
    from otklik.reports.schedule import run_due

    with session_scope() as session:
        run_due(session)


@dramatiq.actor(broker=broker, queue_name="upkeep", max_retries=0, time_limit=600_000)
def reconcile_job(full: bool = False) -> None:
    """Queue again what is stored but unfinished (:mod:`otklik.upkeep.reconcile`): over the
    last ``reconcile_window_hours`` of enrichments, or over everything when ``full``."""
    from otklik.config import get_settings
    from otklik.upkeep.reconcile import reconcile

    window = None if full else timedelta(hours=get_settings().reconcile_window_hours)
    with session_scope() as session:
        reconcile(session, window=window)


def send_full_reconcile() -> None:
    """The scheduler's daily full sweep (:func:`reconcile_job` over everything)."""
    reconcile_job.send(full=True)
