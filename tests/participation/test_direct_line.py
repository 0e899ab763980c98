"""The direct line: questions from messages and the hotline's list, near-duplicates as
supporters, late questions kept, grouping and picks with reasons, answers, promises on the
production calendar (cases на контроле), overdue promises, promise → decision, unanswered
questions → cases на контроле, the question sheet, scope."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.participation.conftest import ANNOUNCEMENT, SYSTEM

from otklik.audit.actor import Actor
from otklik.cases import service as cases
from otklik.errors import Conflict, InvalidInput, NotFound
from otklik.models.case import Case, CaseStatus
from otklik.models.decision import Decision
from otklik.models.message import Message
from otklik.models.participation import Campaign, CampaignQuestion
from otklik.nlp.dedup import signature
from otklik.participation import campaigns, exports, grouping, promises
from otklik.participation.grouping import Group, QuestionView
from otklik.participation.schemas import PromiseCreate, PromiseDecision, StageIn
from otklik.sla.calendar import ProductionCalendar

OVERPASS = "Когда отремонтируют путепровод на улице Лаврова в Мичуринске? Ездить страшно, трещины"
MOSCOW = ZoneInfo("Europe/Moscow")


def _ask(session: Session, campaign: Campaign, text: str, author: str | None = None,
         topic: str | None = "roads", municipality: int | None = None, **kw: object
         ) -> CampaignQuestion:
    return campaigns.add_question(
        session, campaign, text=text, channel="hotline", received_at=datetime.now(UTC),
        author_key=author, topic=topic, municipality_id=municipality, **kw)  # type: ignore[arg-type]


# -- grouping and picks (pure) -----------------------------------------------------------------


def test_pick_reasons_name_why_each_question_was_chosen() -> None:
    # signatures of the dedup stage, as questions store them
    overpass = [QuestionView(i, OVERPASS + f" {i}", "roads", 1, 7, supporters=s,
                             signature=signature(OVERPASS + f" {i}"))
                for i, s in ((1, 2), (2, 9), (3, 0))]
    urgent = QuestionView(10, "Прорвало трубу, кипяток на улице", "utilities", 2,
                          urgency="critical")
    answered = QuestionView(20, "Где справка о составе семьи", "social", 3,
                            answered_elsewhere=True)
    groups = grouping.group_questions([*overpass, urgent, answered])
    assert [g.key for g in groups][0] == "problem:7"
    assert groups[0].count == 3 and groups[0].supporters == 11 and groups[0].weight == 14
    picks = {p.question_id: p for p in grouping.pick_representatives(groups, limit=10)}
    # the overpass group stands for most residents: its most supported question represents it
    assert picks[2].reasons == ("most_supported", "most_typical", "not_answered_elsewhere")
    assert 1 not in picks and 3 not in picks
    assert picks[10].reasons[0] == "most_urgent"
    assert "группа из 3" in picks[2].note
    # a lone question answered elsewhere, neither urgent nor supported: no reason to ask it
    assert 20 not in picks


def test_urgent_questions_are_picked_beyond_the_leading_groups() -> None:
    groups = [Group(f"place:t:{i}", "t", i, None, [QuestionView(i, f"вопрос {i}", "t", i,
                                                                  supporters=5 - i)])
              for i in range(1, 4)]
    groups.append(Group("place:u:9", "u", 9, None, [QuestionView(9, "срочно", "u", 9,
                                                                 urgency="high")]))
    picks = grouping.pick_representatives(groups, limit=2)
    assert [p.question_id for p in picks] == [1, 2]
    picks = grouping.pick_representatives(groups, limit=5)
    assert picks[-1].question_id == 9 and picks[-1].reasons[0] == "most_urgent"


# -- questions in ------------------------------------------------------------------------------


def test_near_duplicates_are_supporters_and_grouping_counts_them(
        session: Session, make_campaign: Callable[..., Campaign]) -> None:
    campaign = make_campaign()
    first = _ask(session, campaign, OVERPASS, author="a1")
    again = _ask(session, campaign, OVERPASS + "!", author="a2")
    same_person = _ask(session, campaign, OVERPASS + "!!", author="a1")
    other = _ask(session, campaign, "Почему в Тамбове не вывозят мусор с площадки на Мичуринской",
                 author="a3", topic="waste")
    assert again.duplicate_of_id == first.id and same_person.duplicate_of_id == first.id
    assert other.duplicate_of_id is None
    assert first.supporters == 1  # the same person asking twice supports nobody
    found = campaigns.groups(session, SYSTEM, campaign.id)
    assert [(g.topic, g.questions, g.supporters) for g in found] == [("roads", 1, 1),
                                                                    ("waste", 1, 0)]
    assert found[0].question_ids == [first.id]


def test_messages_of_the_window_become_questions_and_late_ones_are_kept(
        session: Session, make_campaign: Callable[..., Campaign],
        make_message: Callable[..., Message]) -> None:
    now = datetime.now(UTC)
    campaign = make_campaign(opens=now - timedelta(days=3), closes=now - timedelta(hours=5),
                             air=now + timedelta(hours=1))
    post = make_message("Задайте свой вопрос губернатору на прямой линии", author="gov",
                        created_at=now - timedelta(days=2))
    post.url = ANNOUNCEMENT
    comment = make_message("Когда починят дорогу на Советской?", parent=post, author="r1",
                           created_at=now - timedelta(days=1))
    thanks = make_message("Спасибо!", parent=post, author="r2", relevant=False,
                          created_at=now - timedelta(days=1))
    mention = make_message("Хочу спросить на прямой линии про свалку у Рассказово",
                           author="r3", created_at=now - timedelta(days=1))
    late = make_message("Вопрос на прямую линию: когда отремонтируют путепровод?",
                        author="r4", created_at=now - timedelta(hours=1))
    unrelated = make_message("Яма на дороге у дома 5", author="r5",
                             created_at=now - timedelta(days=1))
    session.flush()
    ids = [post.id, comment.id, thanks.id, mention.id, late.id, unrelated.id]
    from otklik.models.message import MessageEnrichment

    enrichment = session.get(MessageEnrichment, thanks.id)
    assert enrichment is not None
    enrichment.kind = "gratitude"
    assert campaigns.collect_messages(session, ids) == 3
    assert campaigns.collect_messages(session, ids) == 0  # idempotent
    got = {q.message_id: q for q in campaigns.questions(session, SYSTEM, campaign.id)}
    assert set(got) == {comment.id, mention.id, late.id}
    assert got[comment.id].channel == "comment" and got[mention.id].channel == "mention"
    assert got[late.id].late and not got[comment.id].late
    # after the air a mention is a reaction; what the bot sends for the line is a question
    campaign.air_at = now - timedelta(minutes=30)
    reaction = make_message("После прямой линии так ничего и не сделали", author="r6",
                            created_at=now - timedelta(minutes=10))
    bot = make_message("Вопрос губернатору про автобус до Сосновки", author="r7",
                       created_at=now - timedelta(minutes=5))
    bot.raw = {"campaign_id": campaign.id}
    form = make_message("Вопрос губернатору: когда откроют детский сад в Котовске?",
                        author="r8", created_at=now - timedelta(minutes=4))
    form.source, form.raw = "web", {"campaign_id": str(campaign.id)}  # the web form
    assert campaigns.collect_messages(session, [reaction.id, bot.id, form.id]) == 2
    *_, from_bot, from_form = campaigns.questions(session, SYSTEM, campaign.id)
    assert from_bot.message_id == bot.id and from_bot.channel == "bot" and from_bot.late
    assert from_form.message_id == form.id and from_form.channel == "form" and from_form.late


def test_import_of_the_hotline_list_reports_each_row(
        session: Session, make_campaign: Callable[..., Campaign], tmp_path: Path) -> None:
    campaign = make_campaign()
    path = tmp_path / "hotline.csv"
    path.write_text(
        "id;Дата;Текст;Тема;Район;Срочность\n"
        f"1;01.12.2026 10:00;{OVERPASS};roads;Мичуринск;\n"
        "2;01.12.2026 11:00;;roads;;\n"
        "3;01.12.2026 12:00;Нет горячей воды третий день;ЖКХ;Тамбов;high\n"
        "4;99.99.2026;Когда построят школу;;;\n", encoding="utf-8")
    report = campaigns.import_hotline(session, SYSTEM, campaign.id, path)
    assert report.rows == 4 and report.added == 2
    assert {e.row for e in report.errors} == {3, 5}
    rows = campaigns.questions(session, SYSTEM, campaign.id)
    first = next(q for q in rows if q.text == OVERPASS)
    assert first.topic == "roads" and first.municipality_id is not None
    assert next(q for q in rows if "воды" in q.text).urgency == "high"
    again = campaigns.import_hotline(session, SYSTEM, campaign.id, path)
    assert again.added == 0 and "уже импортирована" in {e.reason for e in again.errors}


def test_picks_are_stored_with_reasons_and_confirmed_by_an_editor(
        session: Session, make_campaign: Callable[..., Campaign],
        people: dict[str, Actor]) -> None:
    campaign = make_campaign()
    first = _ask(session, campaign, OVERPASS, author="a1")
    for n in range(3):
        _ask(session, campaign, OVERPASS + "?" * (n + 1), author=f"b{n}")
    lone = _ask(session, campaign, "Когда откроют поликлинику в Котовске после ремонта",
                author="c", topic="health")
    picks = campaigns.propose_picks(session, people["operator"], campaign.id)
    assert picks[0].question_id == first.id
    assert "most_supported" in picks[0].reasons and "most_typical" not in picks[0].reasons
    assert first.picked and first.pick_reasons == picks[0].reasons and first.pick_note
    campaigns.confirm(session, people["operator"], first.id)
    assert first.confirmed and first.confirmed_by_id == people["operator"].user_id
    lone.picked = False
    campaigns.propose_picks(session, people["operator"], campaign.id, limit=1)
    assert first.picked and first.confirmed and not lone.picked
    with pytest.raises(InvalidInput):
        duplicate = campaigns.questions(session, SYSTEM, campaign.id)[1]
        campaigns.confirm(session, people["operator"], duplicate.id)


# -- after the air -----------------------------------------------------------------------------


def _aired(make_campaign: Callable[..., Campaign]) -> Campaign:
    now = datetime.now(UTC)
    return make_campaign(opens=now - timedelta(days=20), closes=now - timedelta(days=10),
                         air=now - timedelta(days=9))


def test_promise_is_a_case_on_control_due_on_the_production_calendar(
        session: Session, make_campaign: Callable[..., Campaign],
        people: dict[str, Actor]) -> None:
    from tests.cases.conftest import michurinsk

    municipality, org = michurinsk(session)
    campaign = _aired(make_campaign)
    question = _ask(session, campaign, OVERPASS, municipality=municipality)
    promise = promises.make_promise(session, people["curator"], question.id, PromiseCreate(
        text="Капремонт путепровода в два этапа", organization_id=org.id,
        due_on=date(2027, 1, 5), stages=[StageIn(title="Первый этап"),
                                         StageIn(title="Второй этап")]))
    calendar = ProductionCalendar()
    local = promise.due_at.astimezone(MOSCOW).date()
    # 5 January is within the New Year holidays: due at the close of the last working day
    assert local < date(2027, 1, 1) and calendar.is_working_day(local)
    assert all(not calendar.is_working_day(local + timedelta(days=d))
               for d in range(1, (date(2027, 1, 5) - local).days + 1))
    assert promise.due_at.astimezone(MOSCOW).hour >= 16
    case = session.get(Case, promise.case_id)
    assert case is not None and case.kind == "promise" and case.executor_id == org.id
    assert case.status == CaseStatus.routed and case.resolution_due == promise.due_at
    assert question.status == "promised"
    in_days = promises.make_promise(session, people["curator"], question.id, PromiseCreate(
        text="Ответить письменно", organization_id=org.id, working_days=5))
    start = max(campaign.air_at, question.received_at).astimezone(MOSCOW).date()
    end = in_days.due_at.astimezone(MOSCOW).date()
    # 5 working days of working time from the start: counted with the start's own day, 5
    # when the start is before its day's work (a night, a weekend), 6 when it is within or
    # after it (that day's rest is the part of the sixth); `start + 1 day` failed at night
    assert calendar.working_days(start, end) in (5, 6)
    # the report's late promises, and the cases' escalation of the overdue one
    report = promises.report(session, people["curator"], campaign.id,
                             now=promise.due_at + timedelta(days=1))
    assert report.promises == 2 and report.promises_overdue == 2
    assert promises.state(promise, promise.due_at - timedelta(days=1)) == "open"
    promises.stage_done(session, people["curator"], promise.id, 0)
    assert promise.done_at is None
    promises.stage_done(session, people["curator"], promise.id, 1)
    assert promises.state(promise, promise.due_at + timedelta(days=1)) == "done"
    escalated = cases.escalate_due(session, SYSTEM, now=in_days.due_at + timedelta(hours=1))
    assert in_days.case_id in escalated


def test_promise_done_when_its_case_is_answered_and_turned_into_a_decision(
        session: Session, make_campaign: Callable[..., Campaign],
        people: dict[str, Actor]) -> None:
    from tests.cases.conftest import michurinsk

    municipality, org = michurinsk(session)
    campaign = _aired(make_campaign)
    question = _ask(session, campaign, OVERPASS, municipality=municipality)
    promise = promises.make_promise(session, people["curator"], question.id, PromiseCreate(
        text="Выделить средства на ремонт", organization_id=org.id, working_days=20))
    assert promises.done_by_case(session, promise.case_id or 0)
    assert not promises.done_by_case(session, promise.case_id or 0)  # idempotent
    analyst = Actor.system("analyst")
    promises.to_decision(session, analyst, promise.id, PromiseDecision(
        title="Капитальный ремонт путепровода", decided_on=date(2026, 11, 20),
        decided_by="Губернатор", budget_rub=278_000_000))
    decision = session.get(Decision, promise.decision_id)
    assert decision is not None and decision.budget_rub == 278_000_000
    other = session.scalar(select(Decision).where(Decision.region_code != "68").limit(1))
    if other is not None:
        with pytest.raises(InvalidInput):
            promises.to_decision(session, analyst, promise.id,
                                 PromiseDecision(decision_id=other.id))
    with pytest.raises(InvalidInput):
        promises.make_promise(session, people["curator"], question.id, PromiseCreate(
            text="Чужая организация", organization_id=999_999, working_days=3))


def test_finish_sends_unanswered_questions_to_executors_on_control(
        session: Session, make_campaign: Callable[..., Campaign],
        make_message: Callable[..., Message], people: dict[str, Actor]) -> None:
    from tests.cases.conftest import make_case  # noqa: F401

    collecting = make_campaign()
    with pytest.raises(Conflict):
        campaigns.finish(session, people["curator"], collecting.id)
    campaign = _aired(make_campaign)
    answered = _ask(session, campaign, "Когда отремонтируют дорогу на Мичуринской улице")
    waiting = _ask(session, campaign, "Почему нет автобуса до Сосновки по выходным дням",
                   topic="transport")
    message = make_message("Нет света в подъезде уже неделю", author="z1")
    from otklik.models.message import MessageEnrichment

    enrichment = session.get(MessageEnrichment, message.id)
    assert enrichment is not None
    existing = cases.case_from_message(session, SYSTEM, message, enrichment)
    in_case = _ask(session, campaign, message.text, topic="utilities", case_id=existing.id)
    campaigns.record_answer(session, people["curator"], answered.id, "Ремонт будет летом")
    assert campaigns.finish(session, people["curator"], campaign.id) == 1
    assert answered.status == "answered" and in_case.status == "in_case"
    assert waiting.status == "control"
    control = session.get(Case, waiting.control_case_id)
    assert control is not None and control.kind == "control"
    assert "прямая линия" in control.title
    report = promises.report(session, people["curator"], campaign.id)
    assert report.to_control == 1 and report.answered == 1 and report.questions == 3
    assert report.top_topics[0].count >= 1
    with pytest.raises(Conflict):
        campaigns.finish(session, people["curator"], campaign.id)


def test_question_sheet_opens_and_holds_the_questions(
        session: Session, make_campaign: Callable[..., Campaign]) -> None:
    from docx import Document
    from openpyxl import load_workbook

    campaign = make_campaign()
    first = _ask(session, campaign, OVERPASS, author="a")
    _ask(session, campaign, OVERPASS + "!", author="b")
    hostile = _ask(session, campaign, "=HYPERLINK(\"http://x\",\"клик\") почему нет света",
                   author="c", topic="utilities")
    campaigns.propose_picks(session, SYSTEM, campaign.id)
    sheet = exports.build(session, SYSTEM, campaign.id)
    assert sheet.picks[0][0].id == first.id
    doc = Document(io.BytesIO(exports.render(sheet, "docx")))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert OVERPASS in text and "больше всего поддержавших" in text
    book = load_workbook(io.BytesIO(exports.render(sheet, "xlsx")))
    air = [row for row in book["Вопросы для эфира"].iter_rows(values_only=True)]
    assert any(OVERPASS in str(cell) for row in air for cell in row)
    every = [row for row in book["Все вопросы"].iter_rows(values_only=True)]
    assert len(every) == 1 + 3
    cells = [c for row in every for c in row if isinstance(c, str) and "HYPERLINK" in c]
    assert cells and not cells[0].startswith("=")
    assert hostile.id in {row[0] for row in every}


def test_scope_other_regions_and_narrowed_users_do_not_see_a_line(
        session: Session, make_campaign: Callable[..., Campaign],
        people: dict[str, Actor]) -> None:
    campaign = make_campaign()
    question = _ask(session, campaign, OVERPASS)
    for who in ("samara_operator", "executor"):
        with pytest.raises(NotFound):
            campaigns.get_campaign(session, people[who], campaign.id)
        with pytest.raises(NotFound):
            campaigns.get_question(session, people[who], question.id)
    assert campaigns.list_campaigns(session, people["samara_operator"])[1] == 0
    assert campaigns.get_campaign(session, people["head"], campaign.id).id == campaign.id
    with pytest.raises(Exception, match="triage"):
        campaigns.propose_picks(session, people["head"], campaign.id)


def test_a_batch_looked_at_again_asks_which_messages_were_taken_once(
        session: Session, make_campaign: Callable[..., Campaign],
        make_message: Callable[..., Message]) -> None:
    """Whether a line took a message already is read for the whole batch at once: a batch
    looked at again adds nothing, with as many statements for three mentions as for one."""
    from sqlalchemy import event

    now = datetime.now(UTC)
    make_campaign(opens=now - timedelta(days=3), closes=now + timedelta(days=1),
                  air=now + timedelta(days=2))

    def again(count: int) -> int:
        ids = [make_message(f"Хочу спросить на прямой линии про свалку номер {count}-{k}",
                            author=f"q{count}-{k}", created_at=now - timedelta(hours=5)).id
               for k in range(count)]
        assert campaigns.collect_messages(session, ids) == count
        session.flush()  # (a near-copy's supporters count) not part of what is counted
        seen: list[str] = []

        def listen(*args: object) -> None:
            seen.append(str(args[2]))

        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", listen)
        try:
            assert campaigns.collect_messages(session, ids) == 0  # idempotent
        finally:
            event.remove(engine, "before_cursor_execute", listen)
        return len(seen)

    assert again(1) == again(3)
