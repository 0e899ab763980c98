"""Case builders of one region take turns (``CaseRepository.lock_building``): two batches
building at once would both place the same thread's or original's messages, and one of them
failed and was redone by a retry seconds later."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from otklik.cases.repository import BUILDING_LOCK, CaseRepository
from otklik.models.case import Case, CaseMessage
from otklik.models.message import Message


def _try_lock(engine: Engine, region: str) -> bool:
    """Whether another transaction gets the builders' lock of ``region`` within 0.3 s."""
    with engine.connect() as other, other.begin():
        other.execute(text("SET LOCAL lock_timeout = '300ms'"))
        try:
            other.execute(text("SELECT pg_advisory_xact_lock(:key, hashtext(:region))"),
                          {"key": BUILDING_LOCK, "region": region})
        except OperationalError:  # lock_not_available: the lock is held
            return False
        return True


def test_a_builder_holds_its_regions_until_its_transaction_ends(
        session: Session, engine: Engine, make_message: Callable[..., Message]) -> None:
    message = make_message()  # region 68
    CaseRepository(session).lock_building([message.id])
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: no lock to take")
    assert not _try_lock(engine, "68")  # another builder of the region waits
    assert _try_lock(engine, "46")  # a builder of another region does not


def test_no_messages_take_no_lock(session: Session, engine: Engine) -> None:
    CaseRepository(session).lock_building([])
    if engine.dialect.name == "postgresql":
        assert _try_lock(engine, "68") and _try_lock(engine, "")


def test_problem_assignment_waits_for_the_builders_of_its_cases_regions(
        session: Session, engine: Engine, make_case: Callable[..., Case]) -> None:
    """A follow-up joining a case while its problem is being assigned made the assignment
    fail on the case's version and start over; now they take turns."""
    case = make_case()  # region 68
    CaseRepository(session).lock_cases_regions([case.id])
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: no lock to take")
    assert not _try_lock(engine, "68")
    assert _try_lock(engine, "46")


def test_a_reenrichment_follow_up_waits_for_its_messages_and_their_cases_regions(
        session: Session, engine: Engine, make_case: Callable[..., Case]) -> None:
    """A re-enrichment's follow-up builds cases for newly relevant messages and changes the
    cases its messages are in; a message may have moved to another region than its case's:
    it takes the turns of both regions, at once."""
    case = make_case()  # region 68
    message_id = session.scalar(select(CaseMessage.message_id)
                                .where(CaseMessage.case_id == case.id))
    assert message_id is not None
    message = session.get(Message, message_id)
    assert message is not None
    message.region_code = "46"  # re-enrichment placed it elsewhere
    session.flush()
    CaseRepository(session).lock_building([message_id], their_cases=True)
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: no lock to take")
    assert not _try_lock(engine, "46")  # the message's region
    assert not _try_lock(engine, "68")  # its case's
    assert _try_lock(engine, "36")


def test_a_builder_of_messages_alone_leaves_their_cases_regions_free(
        session: Session, engine: Engine, make_case: Callable[..., Case]) -> None:
    case = make_case()
    message_id = session.scalar(select(CaseMessage.message_id)
                                .where(CaseMessage.case_id == case.id))
    message = session.get(Message, message_id)
    assert message is not None
    message.region_code = "46"
    session.flush()
    CaseRepository(session).lock_building([message.id])
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: no lock to take")
    assert not _try_lock(engine, "46")
    assert _try_lock(engine, "68")
