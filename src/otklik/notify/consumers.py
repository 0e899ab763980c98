"""What the notifier does on others' events: alerts about incidents, and case deadline
warnings and escalations that reach people (each its own queued, idempotent job)."""

from __future__ import annotations

from otklik.db.session import session_scope
from otklik.events import (
    CaseDeadlineNear,
    CaseOverdue,
    IncidentClosed,
    IncidentOpened,
    IncidentUpdated,
    consumer,
)
from otklik.notify import alerts


@consumer(IncidentOpened, queue_name="notify")
def alert_incident_opened(event: IncidentOpened) -> None:
    """Alert the region's duty roster (once per incident)."""
    with session_scope() as session:
        alerts.open_incident_alert(session, event)


@consumer(IncidentUpdated, queue_name="notify")
def alert_incident_updated(event: IncidentUpdated) -> None:
    """A line in the incident's alert thread."""
    with session_scope() as session:
        alerts.incident_updated(session, event)


@consumer(IncidentClosed, queue_name="notify")
def alert_incident_closed(event: IncidentClosed) -> None:
    """The closing line; the alert stops escalating."""
    with session_scope() as session:
        alerts.incident_closed(session, event)


@consumer(CaseDeadlineNear, queue_name="notify")
def warn_case_deadline(event: CaseDeadlineNear) -> None:
    """Warn the executor's people."""
    with session_scope() as session:
        alerts.case_deadline_near(session, event.case_id)


@consumer(CaseOverdue, queue_name="notify")
def escalate_case(event: CaseOverdue) -> None:
    """Tell the region's curators (level 2) or heads (level 3)."""
    with session_scope() as session:
        alerts.case_overdue(session, event.case_id, event.level)
