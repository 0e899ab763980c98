"""One case through every status, and the refusals that keep the process honest."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from otklik.audit.actor import Actor
from otklik.cases import answers, service
from otklik.cases.builder import build_cases
from otklik.cases.repository import CaseRepository
from otklik.db.base import utcnow
from otklik.errors import Conflict, Forbidden, InvalidInput, NotFound
from otklik.models.audit import AuditEntry
from otklik.models.case import Case, CaseMessage, CaseStatus, Label
from otklik.models.message import Message
from otklik.queue import broker

from .conftest import SYSTEM, michurinsk

GOOD_ANSWER = ("Выполнен ямочный ремонт покрытия путепровода на ул. Лаврова 12 декабря 2026 г. "
               "Капитальный ремонт путепровода включён в программу: первый этап — до 1 июля "
               "2027 г., подрядчик определён. Администрация города Мичуринска.")


def in_work(session: Session, case: Case, people: dict[str, Actor]) -> Case:
    """Route a case to Michurinsk's administration and have its executor accept it."""
    _, org = michurinsk(session)
    service.route(session, people["operator"], case, org.id)
    service.accept(session, people["executor"], case)
    return case


def answered(session: Session, case: Case, people: dict[str, Actor]) -> Case:
    """Take a case into work, answer it well and have an operator approve it."""
    in_work(session, case, people)
    answers.draft(session, people["executor"], case, GOOD_ANSWER)
    answers.submit(session, people["executor"], case)
    answers.approve(session, people["operator"], case)
    return case


def statuses(session: Session, case: Case) -> list[str]:
    return [e.to_status for e in CaseRepository(session).events(case.id) if e.to_status]


def test_one_case_through_every_status(session: Session, make_case: Callable[..., Case],
                                       make_message: Callable[..., Message],
                                       people: dict[str, Actor]) -> None:
    case = make_case()
    assert case.status == CaseStatus.triage  # no routing rule: the curator's triage queue
    _, org = michurinsk(session)
    service.route(session, people["operator"], case, org.id)
    assert case.status == CaseStatus.routed and case.resolution_due and case.first_response_due
    assert case.resolution_due > case.first_response_due
    service.accept(session, people["executor"], case)
    assert case.status == CaseStatus.in_work and case.first_response_at is not None

    # escalation: the deadline nears, the executor is warned
    assert case.warn_at is not None
    service.escalate_due(session, Actor.system("sla"), now=case.warn_at + timedelta(minutes=1))
    assert case.escalation_level == 1

    # clarification: the clock stops, the resident answers in the thread, the clock runs on
    due_before = case.resolution_due
    service.request_clarification(session, people["executor"], case,
                                  "Уточните, пожалуйста, номер дома рядом с ямой?")
    assert case.status == CaseStatus.clarification and case.paused_since is not None
    primary = CaseRepository(session).messages(case.id)[0]
    reply = make_message("Дом 24, прямо напротив остановки", parent=primary)
    build_cases(session, SYSTEM, [reply.id])
    assert case.status == CaseStatus.in_work and case.paused_since is None
    assert case.pauses and case.resolution_due >= due_before

    # extension: the executor asks, a curator approves, the deadline moves
    extension = service.request_extension(session, people["executor"], case,
                                          case.resolution_due + timedelta(days=7),
                                          "Нужна экспертиза конструкций путепровода")
    service.decide_extension(session, people["curator"], extension.id, approve=True)
    assert case.resolution_due == extension.requested_until

    # answer, moderation (returned once), approval, publication
    answers.draft(session, people["executor"], case, "Информация принята к сведению.")
    answer = answers.submit(session, people["executor"], case)
    assert {f["code"] for f in answer.quality["flags"]} & {"no_action", "generic_phrases",
                                                         "too_short"}
    answers.return_answer(session, people["operator"], case, "Нет конкретных действий и срока")
    assert case.status == CaseStatus.in_work
    answers.draft(session, people["executor"], case, GOOD_ANSWER)
    answers.submit(session, people["executor"], case)
    answers.approve(session, people["operator"], case)
    assert case.status == CaseStatus.answered and case.answered_at is not None

    # the resident says nothing was done: reopened; then the case is answered and closed
    feedback = make_message("Ничего не сделано, как были ямы так и есть!", parent=primary)
    build_cases(session, SYSTEM, [feedback.id])
    assert case.status == CaseStatus.in_work and case.reopen_count == 1
    answers.draft(session, people["executor"], case, GOOD_ANSWER + " Повторно проверено.")
    answers.submit(session, people["executor"], case)
    answers.approve(session, people["operator2"], case)
    thanks = make_message("Спасибо, починили!", parent=primary)
    build_cases(session, SYSTEM, [thanks.id])
    assert case.status == CaseStatus.closed

    seen = statuses(session, case)
    for status in ("triage", "routed", "in_work", "clarification", "answer_drafted",
                   "on_moderation", "answered", "closed"):
        assert status in seen, status
    assert session.scalars(select(AuditEntry).where(AuditEntry.object_type == "case",
                                                    AuditEntry.object_id == str(case.id))).all()


def test_escalation_warns_then_curator_then_head(session: Session,
                                                 make_case: Callable[..., Case],
                                                 people: dict[str, Actor]) -> None:
    case = in_work(session, make_case(), people)
    assert case.warn_at and case.resolution_due
    system = Actor.system("sla")
    service.escalate_due(session, system, now=case.warn_at + timedelta(minutes=1))
    assert case.escalation_level == 1
    service.escalate_due(session, system, now=case.resolution_due + timedelta(minutes=1))
    assert case.escalation_level == 2
    service.escalate_due(session, system, now=case.resolution_due + timedelta(days=2))
    assert case.escalation_level == 3
    kinds = [e.details.get("to") for e in CaseRepository(session).events(case.id)
             if e.kind == "escalate"]
    assert kinds == ["executor", "curator", "head"]


def test_clarification_window_closes_the_case(session: Session,
                                              make_case: Callable[..., Case],
                                              people: dict[str, Actor]) -> None:
    case = in_work(session, make_case(), people)
    service.request_clarification(session, people["executor"], case,
                                  "Пришлите, пожалуйста, фото места и точный адрес")
    assert case.clarification_due is not None
    service.escalate_due(session, Actor.system("sla"),
                         now=case.clarification_due + timedelta(minutes=1))
    assert case.status == CaseStatus.closed


def test_invalid_transitions_are_refused_with_a_reason(session: Session,
                                                       make_case: Callable[..., Case],
                                                       people: dict[str, Actor]) -> None:
    case = make_case()
    with pytest.raises(Conflict, match="cannot accept a case that is triage"):
        service.accept(session, people["curator"], case)
    with pytest.raises(NotFound):  # an executor does not even see an unrouted case
        service.accept(session, people["executor"], case)
    service.reject(session, people["operator"], case, "spam")
    assert case.status == CaseStatus.rejected and case.reject_reason == "spam"
    done = answered(session, make_case(), people)
    service.close(session, people["operator"], done)
    with pytest.raises(Conflict, match="cannot draft answer a case that is closed"):
        answers.draft(session, people["executor"], done, GOOD_ANSWER)
    with pytest.raises(InvalidInput, match="reason must be one of"):
        service.reject(session, people["operator"], make_case(), "надоело")


def test_routing_outside_the_territory_is_refused(session: Session,
                                                  make_case: Callable[..., Case],
                                                  people: dict[str, Actor]) -> None:
    case = make_case()
    tambov = [o for o in _orgs(session, "68") if "Тамбова" in o.name][0]
    with pytest.raises(InvalidInput, match="does not cover"):
        service.route(session, people["operator"], case, tambov.id)
    samara = _orgs(session, "36")[0]
    with pytest.raises(InvalidInput, match="another region"):
        service.route(session, people["operator"], case, samara.id)


def _orgs(session: Session, region: str):  # type: ignore[no-untyped-def]
    from otklik.accounts.scope import Scope
    from otklik.organizations.repository import OrganizationRepository

    return OrganizationRepository(session).page(Scope.system(), region_code=region,
                                                limit=500)[0]


def test_nobody_approves_their_own_answer(session: Session, make_case: Callable[..., Case],
                                          people: dict[str, Actor]) -> None:
    case = in_work(session, make_case(), people)
    answers.draft(session, people["executor"], case, GOOD_ANSWER)
    answers.submit(session, people["executor"], case)
    with pytest.raises(Forbidden):
        answers.approve(session, people["executor"], case)  # executors do not moderate
    answer = CaseRepository(session).answers(case.id)[-1]
    answer.author_id = people["operator"].user_id  # an operator wrote it on their behalf
    with pytest.raises(Forbidden, match="your own answer"):
        answers.approve(session, people["operator"], case)
    answers.approve(session, people["operator2"], case)


def test_executors_never_see_another_organizations_case(session: Session,
                                                        make_case: Callable[..., Case],
                                                        people: dict[str, Actor]) -> None:
    case = make_case()
    _, org = michurinsk(session)
    service.route(session, people["operator"], case, org.id)
    assert service.get_case(session, people["executor"], case.id).id == case.id
    with pytest.raises(NotFound):
        service.get_case(session, people["other_executor"], case.id)
    with pytest.raises(NotFound):
        service.accept(session, people["other_executor"], case)
    with pytest.raises(NotFound):
        service.get_case(session, people["samara_operator"], case.id)


def test_concurrent_edits_are_detected(session: Session, make_case: Callable[..., Case],
                                       people: dict[str, Actor]) -> None:
    case = make_case()
    version = case.version
    service.edit(session, people["operator"], case, {"topic": "housing"}, version=version)
    session.flush()
    with pytest.raises(Conflict, match="changed by someone else"):
        service.edit(session, people["operator2"], case, {"urgency": "high"}, version=version)


def test_corrections_become_training_labels(session: Session, make_case: Callable[..., Case],
                                            people: dict[str, Actor]) -> None:
    case = make_case()
    service.edit(session, people["operator"], case, {"topic": "housing",
                                                     "subtopic": "housing.elevator"})
    labels = session.scalars(select(Label).where(Label.case_id == case.id)).all()
    assert {(label.field, label.value, label.previous) for label in labels} == {
        ("topic", "housing", "roads"), ("subtopic", "housing.elevator", "roads.bridges")}
    with pytest.raises(InvalidInput, match="cannot be edited"):
        service.edit(session, people["operator"], case, {"status": "closed"})


def test_merge_and_split(session: Session, make_case: Callable[..., Case],
                         make_message: Callable[..., Message],
                         people: dict[str, Actor]) -> None:
    a, b = make_case(author="id201"), make_case(author="id202")
    service.merge(session, people["operator"], a, [b])
    repo = CaseRepository(session)
    assert len(repo.messages(a.id)) == 2 and b.status == CaseStatus.closed
    assert b.merged_into_id == a.id
    moved = repo.messages(a.id)[-1].id
    new = service.split(session, people["operator"], a, [moved])
    assert [m.id for m in repo.messages(new.id)] == [moved]
    with pytest.raises(InvalidInput, match="at least one message"):
        service.split(session, people["operator"], new, [moved])


def test_enrichment_queue_hands_over_to_case_building(session: Session,
                                                      make_message: Callable[..., Message]
                                                      ) -> None:
    message = make_message()
    touched = build_cases(session, SYSTEM, [message.id])
    again = build_cases(session, SYSTEM, [message.id])
    assert len(touched) == 1 and again == []  # idempotent
    noise = make_message("Продам гараж недорого", relevant=False)
    assert build_cases(session, SYSTEM, [noise.id]) == []
    broker.flush_all()


def test_repeat_message_reopens_a_closed_case(session: Session,
                                              make_case: Callable[..., Case],
                                              make_message: Callable[..., Message],
                                              people: dict[str, Actor]) -> None:
    municipality_id, _ = michurinsk(session)
    case = answered(session, make_case(author="id300"), people)
    service.close(session, people["operator"], case)
    again = make_message("Опять ямы на Лаврова, никто ничего не сделал",
                         municipality_id=municipality_id, author="id300",
                         created_at=utcnow())
    build_cases(session, SYSTEM, [again.id])
    assert case.status == CaseStatus.in_work and case.reopen_count == 1


def test_another_residents_own_matter_under_a_post_gets_its_own_case(
        session: Session, make_message: Callable[..., Message]) -> None:
    repo = CaseRepository(session)
    post = make_message("Прямая линия с губернатором: задавайте вопросы в комментариях",
                        topic="government", subtopic=None, author="club-gov")
    [post_case] = build_cases(session, SYSTEM, [post.id])
    question = make_message("А когда отремонтируют путепровод на Лаврова? Ямы огромные",
                            parent=post, author="id501")
    plus_one = make_message("Поддерживаю вопрос о приёме у главы", topic="government",
                            subtopic=None, parent=post, author="id502")
    follow_up = make_message("И ещё: когда будет ответ про путепровод?", parent=question,
                             author="id501")
    build_cases(session, SYSTEM, [question.id, plus_one.id, follow_up.id])
    own = repo.case_of_message(question.id)
    assert own is not None and own.id != post_case and own.topic == "roads"
    assert repo.case_of_message(plus_one.id).id == post_case  # type: ignore[union-attr]
    assert repo.case_of_message(follow_up.id).id == own.id  # type: ignore[union-attr]


def test_comments_placed_before_their_thread_had_a_case_join_it(
        session: Session, make_message: Callable[..., Message]) -> None:
    """A resident's reply and a "+1" enriched and placed before the post's batch (another
    worker was faster) had no case to join; the post's batch opens the thread's case and
    takes them in, and placing them again stores nothing."""
    repo = CaseRepository(session)
    post = make_message("На Лаврова огромные ямы на дороге, когда отремонтируют?",
                        author="id701")
    reply = make_message("Дом 24, напротив остановки", parent=post, author="id701",
                         relevant=False)
    plus_one = make_message("+1, то же самое", parent=post, author="id702", relevant=False)
    under_reply = make_message("Да, и там же", parent=reply, author="id703", relevant=False)
    for message in (post, reply, plus_one, under_reply):
        message.enrich_status = "done"
    session.flush()
    comments = [reply.id, plus_one.id, under_reply.id]
    assert build_cases(session, SYSTEM, comments) == []  # no thread case yet: none placed
    [case_id] = set(build_cases(session, SYSTEM, [post.id]))
    members = [m.id for m in repo.messages(case_id)]
    assert members == [post.id, *comments]
    assert build_cases(session, SYSTEM, comments) == []
    assert [m.id for m in repo.messages(case_id)] == members


def test_a_copy_written_before_its_original_in_one_batch_joins_its_case(
        session: Session, make_message: Callable[..., Message]) -> None:
    """A batch places its messages by the time they were written: a copy stamped earlier
    than its original (another page's clock) had no case to join when its turn came; the
    original's case, opened later in the same batch, takes it in."""
    repo = CaseRepository(session)
    now = utcnow()
    original = make_message("На Лаврова огромные ямы на дороге, когда отремонтируют?",
                            author="id711", created_at=now - timedelta(hours=1))
    copy = make_message("На Лаврова огромные ямы на дороге, когда отремонтируют?!",
                        author="id712", relevant=False, duplicate_of=original.id,
                        created_at=now - timedelta(hours=2))
    touched = set(build_cases(session, SYSTEM, [original.id, copy.id]))
    [case_id] = touched
    assert {m.id for m in repo.messages(case_id)} == {original.id, copy.id}
    assert build_cases(session, SYSTEM, [original.id, copy.id]) == []


def test_an_original_seen_late_brings_its_waiting_copies_into_the_case_it_joins(
        session: Session, make_message: Callable[..., Message]) -> None:
    """An original enriched after its copies joins the case one of them opened; another
    copy, not relevant on its own, that found no case when it was placed joins it too."""
    from otklik.cases.builder import originals_seen_late

    repo = CaseRepository(session)
    original = make_message("Во дворе дома 3 по улице Садовой не вывозят мусор",
                            author="id721", relevant=False)
    opened = make_message("Во дворе дома 3 по улице Садовой не вывозят мусор!!",
                          author="id722", duplicate_of=original.id)
    waiting = make_message("во дворе дома 3 по улице садовой не вывозят мусор",
                           author="id723", duplicate_of=original.id, relevant=False)
    for message in (original, opened, waiting):
        message.enrich_status = "done"
    session.flush()
    [case_id] = set(build_cases(session, SYSTEM, [opened.id]))
    assert build_cases(session, SYSTEM, [waiting.id]) == []  # the original is in no case
    originals_seen_late(session, SYSTEM, {original.id: [opened.id]})
    assert {m.id for m in repo.messages(case_id)} == {original.id, opened.id, waiting.id}
    assert originals_seen_late(session, SYSTEM, {original.id: [opened.id]}) == []


def test_originals_seen_late_and_their_batch_are_one_pass(
        session: Session, make_message: Callable[..., Message],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The originals a batch's copies name, in no case yet (relevant copy written before its
    relevant original), are placed first and the batch after them, in one pass: the original
    opens the case and stays its primary, the copy joins it, and the ids of the new cases
    are reserved once for both, not in a second batch of a few originals."""
    from otklik.cases.builder import originals_seen_late

    repo = CaseRepository(session)
    now = utcnow()
    original = make_message("На Садовой 3 неделю не вывозят мусор, контейнеры переполнены",
                            author="id731", created_at=now - timedelta(hours=1))
    copy = make_message("На Садовой 3 неделю не вывозят мусор, контейнеры переполнены!!",
                        author="id732", duplicate_of=original.id,
                        created_at=now - timedelta(hours=2))  # another page's clock
    other = make_message("Во дворе дома 5 по улице Мира нет освещения", author="id733")
    for message in (original, copy, other):
        message.enrich_status = "done"
    session.flush()
    reserved: list[int] = []
    reserve = CaseRepository.reserve

    def counted(self: CaseRepository, *args: object) -> object:
        reserved.append(1)
        return reserve(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(CaseRepository, "reserve", counted)
    touched = originals_seen_late(session, SYSTEM, {original.id: [copy.id]},
                                  [copy.id, other.id])
    assert len(reserved) == 1
    case, others = repo.case_of_message(original.id), repo.case_of_message(other.id)
    assert case is not None and others is not None and set(touched) == {case.id, others.id}
    assert {m.id for m in repo.messages(case.id)} == {original.id, copy.id}
    primary = session.scalar(select(CaseMessage.message_id).where(
        CaseMessage.case_id == case.id, CaseMessage.is_primary.is_(True)))
    assert primary == original.id
    assert originals_seen_late(session, SYSTEM, {original.id: [copy.id]},
                               [copy.id, other.id]) == []
