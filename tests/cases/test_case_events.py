"""Cases announce their steps for other domains (otklik.events): routed, answered, closed,
overdue — after the commit, to whoever subscribed, without cases knowing them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from otklik import events
from otklik.audit.actor import Actor
from otklik.cases import service
from otklik.events import CaseAnswered, CaseClosed, CaseOverdue, CaseRouted, Event, consumer
from otklik.models.case import Case
from otklik.queue import pending_mark

from .test_workflow import answered, in_work

CASE_EVENTS: tuple[type[Event], ...] = (CaseRouted, CaseAnswered, CaseClosed, CaseOverdue)


def _listener(kind: type[Event]) -> Any:
    def listen(event: Event) -> None:
        """A subscriber; the test reads what was queued for it."""

    listen.__name__ = f"case_events_test_{kind.__name__}"  # its job's name
    return consumer(kind, queue_name="cases")(listen)


listeners = {kind: _listener(kind) for kind in CASE_EVENTS}
for _kind, _job in listeners.items():  # declaring subscribes: they listen only in these tests
    events.unsubscribe(_kind, _job)


@pytest.fixture
def subscribed() -> Iterator[None]:
    for kind, job in listeners.items():
        events.subscribe(kind, job)
    yield
    for kind, job in listeners.items():
        events.unsubscribe(kind, job)


def _announced(session: Session, mark: int) -> list[tuple[str, dict[str, Any]]]:
    names = {job.actor_name: kind.__name__ for kind, job in listeners.items()}
    return [(names[job.actor_name], args[0])
            for job, args in session.info.get("otklik_pending_jobs", [])[mark:]
            if job.actor_name in names]


def test_routed_answered_closed_and_overdue_are_announced(
        session: Session, make_case: Callable[..., Case], people: dict[str, Actor],
        subscribed: None) -> None:
    case = make_case()
    mark = pending_mark(session)
    in_work(session, case, people)
    assert _announced(session, mark) == [("CaseRouted", {
        "case_id": case.id, "executor_id": case.executor_id, "reason": "operator"})]

    mark = pending_mark(session)
    assert case.resolution_due is not None
    service.escalate_due(session, Actor.system("sla"),
                         now=case.resolution_due + timedelta(minutes=1))
    assert _announced(session, mark) == [("CaseOverdue", {"case_id": case.id, "level": 2})]

    done = make_case()
    mark = pending_mark(session)
    answered(session, done, people)
    service.close(session, people["operator"], done)
    kinds = [kind for kind, _ in _announced(session, mark)]
    assert kinds == ["CaseRouted", "CaseAnswered", "CaseClosed"]
    assert _announced(session, mark)[-1][1] == {"case_id": done.id, "reason": "close"}


def test_nothing_is_sent_without_a_subscriber(session: Session,
                                              make_case: Callable[..., Case],
                                              people: dict[str, Actor]) -> None:
    case = make_case()
    mark = pending_mark(session)
    in_work(session, case, people)
    assert _announced(session, mark) == []
