"""What the webhooks do on others' events: one queued, idempotent job per subscribable event
(registry.py builds its payload), fanning it out to the subscriptions that hear it. While no
subscription is on, no job is queued at all (``service.anyone_listening``)."""

from __future__ import annotations

from otklik.db.session import session_scope
from otklik.events import (
    CaseAnswered,
    CaseClosed,
    CaseCreated,
    CaseOverdue,
    CaseRouted,
    Event,
    consumer,
)
from otklik.webhooks import service


def _fan_out(event: Event) -> None:
    with session_scope() as session:
        service.fan_out(session, event)


@consumer(CaseCreated, queue_name="webhooks", wanted=service.anyone_listening)
def webhook_case_created(event: CaseCreated) -> None:
    """case.created to its subscribers."""
    _fan_out(event)


@consumer(CaseRouted, queue_name="webhooks", wanted=service.anyone_listening)
def webhook_case_routed(event: CaseRouted) -> None:
    """case.routed to its subscribers."""
    _fan_out(event)


@consumer(CaseAnswered, queue_name="webhooks", wanted=service.anyone_listening)
def webhook_case_answered(event: CaseAnswered) -> None:
    """case.answered to its subscribers."""
    _fan_out(event)


@consumer(CaseClosed, queue_name="webhooks", wanted=service.anyone_listening)
def webhook_case_closed(event: CaseClosed) -> None:
    """case.closed to its subscribers."""
    _fan_out(event)


@consumer(CaseOverdue, queue_name="webhooks", wanted=service.anyone_listening)
def webhook_case_overdue(event: CaseOverdue) -> None:
    """case.overdue to its subscribers."""
    _fan_out(event)
