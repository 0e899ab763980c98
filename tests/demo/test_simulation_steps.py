"""A step of a simulated life that is not possible for its case does not happen: nothing of
it is stored. Steps run without a SAVEPOINT (the services check before they write); one
that failed after writing stops the demo instead of leaving half of itself, and an
``atomic`` step (it can fail after writing) is rolled back to its SAVEPOINT."""

# ruff: noqa: F811  (fixtures imported from tests/cases/conftest.py are parameters here)

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.cases.conftest import make_case, make_message  # noqa: F401

from otklik.audit.actor import Actor
from otklik.cases import service
from otklik.demo import simulation
from otklik.errors import InvalidInput
from otklik.models.audit import AuditEntry
from otklik.models.case import Case, CaseEvent

ACTOR = Actor.system("tests")


def _life(session: Session, case: Case) -> simulation._Life:
    return simulation._Life(session, case, random.Random(1), datetime.now(UTC),
                            simulation._Cast())


def _stored(session: Session, case: Case) -> tuple[int, int]:
    return (session.scalar(select(func.count(CaseEvent.id))
                           .where(CaseEvent.case_id == case.id)) or 0,
            session.scalar(select(func.count(AuditEntry.id))
                           .where(AuditEntry.object_id == str(case.id))) or 0)


def test_a_step_that_fails_before_writing_does_not_happen(
        session: Session, make_case: Callable[..., Case]) -> None:
    case = make_case()
    session.flush()
    before = _stored(session, case)
    life = _life(session, case)
    moment = datetime.now(UTC) - timedelta(hours=1)
    with simulation._playing(session):
        assert not life.step(moment, lambda: service.reject(session, ACTOR, case, "nonsense"))
        assert life.step(moment, lambda: service.record_event(
            session, ACTOR, case, "feedback", None, value="next"))
    assert _stored(session, case) == (before[0] + 1, before[1] + 1)


def test_a_step_that_fails_after_writing_stops_the_demo(
        session: Session, make_case: Callable[..., Case]) -> None:
    case = make_case()
    session.flush()

    def half() -> None:
        service.record_event(session, ACTOR, case, "feedback", None, value="half")
        raise InvalidInput("too late")

    life = _life(session, case)
    with pytest.raises(RuntimeError, match="atomic"), simulation._playing(session):
        life.step(datetime.now(UTC) - timedelta(hours=1), half)


def test_an_atomic_step_that_fails_after_writing_leaves_nothing(
        session: Session, make_case: Callable[..., Case]) -> None:
    case = make_case()
    session.flush()
    before = _stored(session, case)
    status = case.status

    def half() -> None:
        service.record_event(session, ACTOR, case, "feedback", None, value="half")
        raise InvalidInput("too late")

    life = _life(session, case)
    moment = datetime.now(UTC) - timedelta(hours=1)
    with simulation._playing(session):
        service.record_event(session, ACTOR, case, "feedback", None, value="kept")
        assert not life.step(moment, half, atomic=True)
    assert _stored(session, case) == (before[0] + 1, before[1] + 1)
    assert case.status == status


def test_a_step_planned_after_now_does_not_happen(
        session: Session, make_case: Callable[..., Case]) -> None:
    case = make_case()
    session.flush()
    done: list[int] = []
    life = _life(session, case)
    assert not life.step(datetime.now(UTC) + timedelta(hours=1), lambda: done.append(1))
    assert done == []
