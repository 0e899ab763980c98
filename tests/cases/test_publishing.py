"""Bulk answering a problem publishes once per linked message, and a retry adds nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.orm import Session
from tests.intake.stubs.http_stub import StubResponse, StubServer, load_fixture

from otklik.audit.actor import Actor
from otklik.cases import answers, publishing
from otklik.channels import service as connectors_service
from otklik.db.base import utcnow
from otklik.models.case import Case, CaseStatus, Problem
from otklik.models.message import Message

TEXT = ("Капитальный ремонт путепровода на ул. Лаврова начнётся 1 апреля 2027 г., первый "
        "этап завершится до 1 октября 2027 г. На время работ организован объезд.")


@pytest.fixture
def stub() -> Iterator[StubServer]:
    with StubServer() as server:
        yield server


def test_bulk_answer_publishes_once_per_message(session: Session, stub: StubServer,
                                                make_case: Callable[..., Case],
                                                make_message: Callable[..., Message],
                                                people: dict[str, Actor]) -> None:
    stub.script("/method/wall.createComment",
                *[StubResponse(load_fixture("vk", "wall_createComment.json"))] * 10)
    connector = connectors_service.add_connector(
        session, Actor.system(), kind="vk", name="vk-bulk-test", region_code="68",
        config={"access_token": "tkn", "group_id": 170000001,
                "base_url": stub.url + "/method/"})
    problem = Problem(region_code="68", title="Путепровод на ул. Лаврова", topic="roads",
                      first_seen=utcnow(), last_seen=utcnow(), size=3)
    session.add(problem)
    session.flush()
    cases = [make_case(author=f"id40{i}") for i in range(3)]
    from otklik.cases.repository import CaseRepository

    first = CaseRepository(session).messages(cases[0].id)[0]
    follow = make_message("У нас тоже разбит асфальт на путепроводе", parent=first,
                          author="id499")
    from otklik.cases.builder import build_cases

    build_cases(session, Actor.system(), [follow.id])
    messages = [m for c in cases for m in CaseRepository(session).messages(c.id)]
    for case in cases:
        case.problem_id = problem.id
    for message in messages:
        message.connector_id = connector.id
    session.flush()

    answer = answers.answer_problem(session, people["operator"], problem, TEXT)
    assert all(c.status == CaseStatus.answered for c in cases)
    summary = publishing.publish(session, answer.id)
    assert summary.published == len(messages) == 4
    assert len(stub.calls("/method/wall.createComment")) == 4
    retry = publishing.publish(session, answer.id)
    assert retry.published == 0 and retry.already == 4
    assert len(stub.calls("/method/wall.createComment")) == 4
    assert answer.published_at is not None


def test_messages_without_a_channel_are_recorded_not_dropped(
        session: Session, make_case: Callable[..., Case], people: dict[str, Actor]) -> None:
    problem = Problem(region_code="68", title="Ямы", topic="roads", first_seen=utcnow(),
                      last_seen=utcnow(), size=1)
    session.add(problem)
    session.flush()
    case = make_case()
    case.problem_id = problem.id
    answer = answers.answer_problem(session, people["operator"], problem, TEXT)
    summary = publishing.publish(session, answer.id)
    assert summary.no_channel == 1 and summary.failed == 0


def test_a_failing_channel_is_retried_later(session: Session, stub: StubServer,
                                            make_case: Callable[..., Case],
                                            people: dict[str, Actor]) -> None:
    stub.script("/method/wall.createComment",
                StubResponse(load_fixture("vk", "error_5.json")),
                StubResponse(load_fixture("vk", "wall_createComment.json")))
    connector = connectors_service.add_connector(
        session, Actor.system(), kind="vk", name="vk-flaky", region_code="68",
        config={"access_token": "tkn", "group_id": 170000001,
                "base_url": stub.url + "/method/"})
    problem = Problem(region_code="68", title="Ямы", topic="roads", first_seen=utcnow(),
                      last_seen=utcnow(), size=1)
    session.add(problem)
    session.flush()
    case = make_case()
    case.problem_id = problem.id
    from otklik.cases.repository import CaseRepository

    for message in CaseRepository(session).messages(case.id):
        message.connector_id = connector.id
    answer = answers.answer_problem(session, people["operator"], problem, TEXT)
    assert publishing.publish(session, answer.id).failed == 1
    assert answer.published_at is None
    assert publishing.publish(session, answer.id).published == 1
    assert answer.published_at is not None


def test_an_ok_comment_is_answered_to_its_author_through_the_group(
        session: Session, stub: StubServer, make_case: Callable[..., Case],
        people: dict[str, Actor]) -> None:
    sent = load_fixture("ok", "graph_user_message_sent.json")
    stub.script("/graph/me/messages", StubResponse(sent))
    connector = connectors_service.add_connector(
        session, Actor.system(), kind="ok", name="ok-michurinsk", region_code="68",
        config={"application_key": "CBA", "application_secret_key": "s", "access_token": "t",
                "bot_token": "tkn-bot", "graph_url": stub.url + "/graph"})
    problem = Problem(region_code="68", title="Ямы", topic="roads", first_seen=utcnow(),
                      last_seen=utcnow(), size=1)
    session.add(problem)
    session.flush()
    case = make_case()
    case.problem_id = problem.id
    from otklik.cases.repository import CaseRepository

    [message] = CaseRepository(session).messages(case.id)
    message.source, message.source_id = "ok", "topic5412_1552_MTczMzEzMTAwMDAwMDoxMjM0NQ=="
    message.author_id, message.connector_id = "578901234567", connector.id
    session.flush()
    answer = answers.answer_problem(session, people["operator"], problem, TEXT)

    assert publishing.publish(session, answer.id).published == 1
    [call] = stub.calls("/graph/me/messages")
    assert call.json["recipient"] == {"user_ids": ["user:578901234567"]}
    assert call.json["message"]["text"].endswith(TEXT)


def test_the_answers_of_one_unit_of_work_are_published_by_one_job_once(
        session: Session, make_case: Callable[..., Case]) -> None:
    from otklik.cases.repository import CaseRepository
    from otklik.cases.tasks import publish_answers
    from otklik.models.case import Answer, Publication
    from otklik.queue import _PENDING_KEY, pending_mark

    repo = CaseRepository(session)
    cases = [make_case(author=f"id50{i}") for i in range(3)]
    mark = pending_mark(session)
    made = [repo.add_answer(Answer(case_id=c.id, kind="interim", text=TEXT, status="approved",
                                   approved_at=utcnow(), quality={})) for c in cases]
    for answer in made:
        answers.queue_publication(session, answer.id)
    jobs = [args for actor, args in session.info[_PENDING_KEY][mark:]
            if actor is publish_answers]
    assert jobs == [([a.id for a in made],)]  # one job for the three answers

    gone = max(a.id for a in made) + 1000  # rolled back with a SAVEPOINT: skipped
    summary = publishing.publish_many(session, [*jobs[0][0], gone])
    assert summary.no_channel == 3 and summary.failed == 0
    assert all(a.status == "published" and a.published_at is not None for a in made)
    again = publishing.publish_many(session, [a.id for a in made])
    assert again.already == 3 and again.no_channel == 0
    rows = session.query(Publication).filter(Publication.answer_id.in_([a.id for a in made]))
    assert sorted(r.answer_id for r in rows) == sorted(a.id for a in made)


def test_replies_with_no_channel_are_stored_at_once_and_answers_marked_together(
        session: Session, make_case: Callable[..., Case]) -> None:
    """A reply to a message that came through no connector is inserted as ``no_channel``
    (no UPDATE of the row after its INSERT; with nothing to send, the rows go out in one
    statement, a COPY on PostgreSQL), and the answers published are marked in one UPDATE:
    the rows are those the run wrote before (status, attempts, a publishing time)."""
    from sqlalchemy import event

    from otklik.cases.repository import CaseRepository
    from otklik.models.case import Answer, Publication

    repo = CaseRepository(session)
    cases = [make_case(author=f"id60{i}") for i in range(3)]
    made = [repo.add_answer(Answer(case_id=c.id, kind="interim", text=TEXT, status="approved",
                                   approved_at=utcnow(), quality={})) for c in cases]
    session.flush()
    statements: list[str] = []

    def listen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(" ".join(statement.split()).upper())

    event.listen(session.get_bind(), "before_cursor_execute", listen)
    try:
        summary = publishing.publish_many(session, [a.id for a in made])
        session.flush()
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", listen)
    assert summary.no_channel == 3 and summary.already == 0 and summary.failed == 0
    assert not [s for s in statements if s.startswith("UPDATE PUBLICATION")]
    written = "COPY" if session.get_bind().dialect.name == "postgresql" else "INSERT INTO"
    assert len([s for s in statements if s.startswith(f"{written} PUBLICATION")]) == 1
    assert len([s for s in statements if s.startswith("UPDATE ANSWER")]) == 1
    rows = session.query(Publication).filter(Publication.answer_id.in_([a.id for a in made]))
    assert sorted((r.status, r.attempts, r.published_at is not None) for r in rows) == [
        ("no_channel", 0, True)] * 3
    session.expire_all()  # as the database has them
    assert all(a.status == "published" and a.published_at is not None for a in made)


def test_answers_published_together_each_at_its_own_moment(
        session: Session, make_case: Callable[..., Case]) -> None:
    """``at`` publishes each answer as if its own job ran at its moment (the demo replays
    months of work): its publication rows and its mark carry that moment, in one call with
    one UPDATE of the answers; an answer not in ``at`` is published now."""
    from datetime import timedelta

    from sqlalchemy import event, select

    from otklik.cases.repository import CaseRepository
    from otklik.models.case import Answer, Publication

    repo = CaseRepository(session)
    cases = [make_case(author=f"id70{i}") for i in range(3)]
    made = [repo.add_answer(Answer(case_id=c.id, kind="interim", text=TEXT, status="approved",
                                   approved_at=utcnow(), quality={})) for c in cases]
    session.flush()
    start = utcnow()
    at = {made[0].id: start - timedelta(days=30), made[1].id: start - timedelta(days=2)}
    statements: list[str] = []

    def listen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(" ".join(statement.split()).upper())

    event.listen(session.get_bind(), "before_cursor_execute", listen)
    try:
        summary = publishing.publish_many(session, [a.id for a in made], at=at)
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", listen)
    assert summary.no_channel == 3 and summary.failed == 0
    assert len([s for s in statements if s.startswith("UPDATE ANSWER")]) == 1
    session.expire_all()  # as stored
    for answer in made[:2]:
        stored = session.get(Answer, answer.id)
        assert stored is not None and stored.status == "published"
        assert stored.published_at == at[answer.id]
        assert session.scalars(select(Publication.published_at).where(
            Publication.answer_id == answer.id)).all() == [at[answer.id]]
    last = session.get(Answer, made[2].id)
    assert last is not None and last.published_at is not None and last.published_at >= start
