"""The registry of fakes with a database (SQLite and PostgreSQL): history of every change,
four eyes on refutations, matching copies and refutations in the wild, reach, suspects,
scope, analytics, the brief's section, replies under copies, ``otklik stats``."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from otklik.audit.actor import Actor
from otklik.errors import Conflict, Forbidden, InvalidInput, NotFound
from otklik.fakes import analytics, live, refuting, service
from otklik.fakes.repository import FakeRepository
from otklik.fakes.schemas import FakeCreate, FakeUpdate
from otklik.models.audit import AuditEntry
from otklik.models.fakes import Fake, FakeCopy, FakeReply, FakeSuspect
from otklik.models.message import Message
from otklik.ops import stats

from .conftest import CLAIM

REWORDED = ("СРОЧНО! Распространите! 😱‼️ Не пейте водичку из крана до пятницы, в Элисте "
            "водичка отравлена кишечной палочкой, а в водопровод попали сточные воды #срочно")
#: The same subject, no copy: a real complaint about water in the same town.
SAME_SUBJECT = ("Третий день нет воды на улице Ленина в Элисте, из крана течет ржавая вода, "
                "когда починят водопровод?")
DENIAL = ("Администрация сообщает: информация о том, что в Элисте в водопровод попали сточные "
          "воды и вода заражена кишечной палочкой, — фейк. Не верьте слухам")


def test_every_change_is_a_revision_and_in_the_audit_log(
        session: Session, people: dict[str, Actor], make_fake: Callable[..., Fake]) -> None:
    fake = make_fake()
    service.update_fake(session, people["writer"], fake.id,
                        FakeUpdate(status="checking", topic="housing"), version=1)
    history = FakeRepository(session).revisions(fake.id)
    assert [r.number for r in history] == [2, 1]
    assert history[0].changes["status"] == ["suspected", "checking"]
    assert history[0].actor == people["writer"].label
    audited = session.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "fake", AuditEntry.object_id == str(fake.id))).all()
    assert set(audited) == {"fake.create", "fake.update"}
    with pytest.raises(Conflict):  # an editor who saw revision 1 does not overwrite revision 2
        service.update_fake(session, people["approver"], fake.id,
                            FakeUpdate(status="fake"), version=1)
    with pytest.raises(InvalidInput, match="unknown topic"):
        service.update_fake(session, people["writer"], fake.id, FakeUpdate(topic="nonsense"))
    with pytest.raises(Forbidden):  # the head reads the registry, does not edit it
        service.update_fake(session, people["head"], fake.id, FakeUpdate(status="fake"))


def test_four_eyes_the_author_cannot_approve_the_refutation(
        session: Session, people: dict[str, Actor], make_fake: Callable[..., Fake]) -> None:
    from otklik.fakes.schemas import RefutationDraft

    fake = make_fake()
    service.draft_refutation(session, people["writer"], fake.id, RefutationDraft(
        text="Вода соответствует нормам, пробы без отклонений, сбросов не было.",
        source_url="https://r08.gov.ru/press/2", date="2026-12-01"))  # type: ignore[arg-type]
    with pytest.raises(Exception, match="waiting for approval"):
        service.approve_refutation(session, people["approver"], fake.id)  # not submitted
    service.submit_refutation(session, people["writer"], fake.id)
    with pytest.raises(Forbidden, match="four eyes"):
        service.approve_refutation(session, people["writer"], fake.id)
    assert fake.refutation_state == "on_approval"
    service.approve_refutation(session, people["approver"], fake.id)
    assert fake.refutation_state == "approved" and fake.status == "fake"
    assert fake.refutation_approver_id == people["approver"].user_id
    assert fake.refutation_author_id == people["writer"].user_id
    assert [f.id for f in FakeRepository(session).refuted("85")] == [fake.id]


def test_a_reworded_copy_is_linked_with_its_reach_and_a_rerun_adds_nothing(
        session: Session, people: dict[str, Actor], make_fake: Callable[..., Fake],
        make_message: Callable[..., Message]) -> None:
    fake = make_fake()
    first = make_message(REWORDED, views=1200, reposts=30, channel="Элиста Инсайд",
                         hours_ago=5)
    second = make_message(CLAIM[:80], views=0, reposts=4, channel="Степные новости",
                          raw={"chat": {"members_count": 800}})
    unrelated = make_message(SAME_SUBJECT)
    done = live.match_messages(session, [first.id, second.id, unrelated.id], suspects=False)
    assert done.copies == 2
    copies, reach, seen = FakeRepository(session).totals([fake.id])[fake.id]
    assert (copies, seen) == (2, 0)
    assert reach == 1200 + 30 + 800 + 4  # views + reposts; subscribers where no views
    row = session.scalars(select(FakeCopy).where(FakeCopy.message_id == first.id)).one()
    assert row.kind == "copy" and row.score >= 0.6 and "копия фейка" in row.reason
    assert fake.first_seen_at == first.created_at
    again = live.match_messages(session, [first.id, second.id, unrelated.id], suspects=False)
    assert again.copies == 0
    assert session.scalar(select(func.count()).select_from(FakeCopy)) == 2
    assert FakeRepository(session).linked([unrelated.id]) == set()
    marked = service.mark_origin(session, people["writer"], fake.id, first.id)
    assert marked.origin and FakeRepository(session).revisions(fake.id)[0].action == "origin"
    with pytest.raises(NotFound):  # not linked: no origin to mark
        service.mark_origin(session, people["writer"], fake.id, unrelated.id)


@pytest.mark.parametrize("text", [
    SAME_SUBJECT,
    "В школе номер 5 в Элисте холодно, дети сидят на уроках в куртках, когда дадут тепло",
    "Вода в Элисте по графику с 6 до 9 утра, когда наладят нормальную подачу воды в дома?",
    "Спасибо водоканалу Элисты: после ремонта водопровода вода из крана чистая",
])
def test_unrelated_messages_about_the_same_subject_are_not_copies(
        session: Session, make_fake: Callable[..., Fake], make_message: Callable[..., Message],
        text: str) -> None:
    make_fake()
    message = make_message(text)
    done = live.match_messages(session, [message.id], suspects=False)
    assert (done.copies, done.refutations) == (0, 0)


def test_a_denial_quoting_the_fake_is_a_refutation_in_the_wild_not_spread(
        session: Session, make_fake: Callable[..., Fake],
        make_message: Callable[..., Message]) -> None:
    fake = make_fake()
    denial = make_message(DENIAL, views=20000)
    done = live.match_messages(session, [denial.id], suspects=False)
    assert (done.copies, done.refutations) == (0, 1)
    row = session.scalars(select(FakeCopy).where(FakeCopy.message_id == denial.id)).one()
    assert row.kind == "refutation" and "опровержение" in row.reason
    assert FakeRepository(session).totals([fake.id])[fake.id] == (0, 0, 1)
    assert fake.first_seen_at is None  # a denial is not the fake seen


def test_the_matcher_is_rebuilt_when_the_registry_changes(
        session: Session, people: dict[str, Actor], make_fake: Callable[..., Fake],
        make_message: Callable[..., Message]) -> None:
    fake = make_fake()
    assert live.matcher_for(session, "85") is live.matcher_for(session, "85")  # cached
    message = make_message("В Лагани закрыли роддом, рожениц возят за сто километров в Элисту")
    assert live.match_messages(session, [message.id], suspects=False).copies == 0
    second = service.create_fake(session, people["writer"], FakeCreate(
        region_code="85", claim="В Лагани закрыли роддом, рожениц возят в Элисту за сто "
                                "километров"))
    assert live.match_messages(session, [message.id], suspects=False).copies == 1
    assert FakeRepository(session).linked([message.id]) == {(second.id, message.id)}
    service.update_fake(session, people["writer"], fake.id, FakeUpdate(status="true"))
    copy = make_message(REWORDED)  # a true claim has no copies to count
    assert live.match_messages(session, [copy.id], suspects=False).copies == 0


def test_a_rumour_spreading_across_authors_is_proposed_with_reasons_and_promoted(
        session: Session, people: dict[str, Actor], make_message: Callable[..., Message]
        ) -> None:
    rumour = ("Внимание! В Яшкуле закрывают больницу, врачи увольняются, лекарств не будет, "
              "распространите пока не удалили")
    original = make_message(rumour, author="u1", hours_ago=6)
    copies = [make_message(rumour, author=f"u{i}", channel=f"chat{i}",
                           duplicate_of=original.id, hours_ago=6 - i) for i in (2, 3)]
    assert live.match_messages(session, [original.id], suspects=True).suspects == 1
    suspect = session.scalars(select(FakeSuspect)).one()
    assert suspect.authors == 3 and suspect.region_code == "85"
    assert any("3 разных авторов" in r for r in suspect.reasons)
    assert "нет ссылки на официальный источник" in suspect.reasons
    live.match_messages(session, [c.id for c in copies], suspects=True)  # the same text
    assert session.scalar(select(func.count()).select_from(FakeSuspect)) == 1
    # The same spread with an official source is news, not a suspect.
    official = ("Внимание! По данным министерства здравоохранения, в Яшкуле закрывают "
                "больницу на ремонт, прием ведет поликлиника")
    first = make_message(official, author="o1")
    for i in (2, 3):
        make_message(official, author=f"o{i}", duplicate_of=first.id)
    assert live.match_messages(session, [first.id], suspects=True).suspects == 0
    # One click: the suspect is a claim being checked, its post the originating one.
    fake = service.promote_suspect(session, people["writer"], suspect.id)
    assert fake.status == "checking" and suspect.status == "promoted"
    origin = session.scalars(select(FakeCopy).where(FakeCopy.fake_id == fake.id)).one()
    assert origin.origin and origin.message_id == original.id
    with pytest.raises(Conflict):
        service.promote_suspect(session, people["approver"], suspect.id)


def test_scope_another_regions_fakes_do_not_exist(
        session: Session, people: dict[str, Actor], make_fake: Callable[..., Fake]) -> None:
    fake = make_fake()
    with pytest.raises(NotFound):
        service.get_fake(session, people["tambov"], fake.id)
    items, total = service.list_fakes(session, people["tambov"])
    assert total == 0 and items == []
    with pytest.raises(Forbidden):
        service.create_fake(session, people["tambov"], FakeCreate(region_code="85",
                                                                   claim=CLAIM))
    assert analytics.summary(session, people["tambov"]).fakes == 0


def test_analytics_brief_section_and_xlsx(
        session: Session, people: dict[str, Actor], make_fake: Callable[..., Fake],
        make_message: Callable[..., Message]) -> None:
    from openpyxl import load_workbook

    from otklik.fakes.brief import fakes_section

    fake = make_fake(refuted=True)
    fake.topic = "housing"
    seed = make_message(REWORDED, channel="Элиста Инсайд", hours_ago=30, views=100,
                        reposts=0)
    big = make_message(CLAIM, channel="Типичная Элиста", hours_ago=2, views=5000, reposts=0)
    live.match_messages(session, [seed.id, big.id], suspects=False)
    data = analytics.summary(session, people["writer"], region_code="85")
    assert (data.fakes, data.fakes_spread, data.copies, data.reach) == (1, 1, 2, 5100)
    assert data.by_topic[0].key == "housing" and data.by_topic[0].copies == 2
    assert data.by_topic[0].name != "housing"  # the rubricator's name of the topic
    assert data.channels[0].channel == "Элиста Инсайд" and data.channels[0].seeded == 1
    book = load_workbook(io.BytesIO(analytics.export_xlsx(data, "Фейки")))
    assert book["Итоги"]["B4"].value == 2 and book["Каналы"]["A2"].value == "Элиста Инсайд"
    from otklik.analytics.schemas import reporting_day
    from otklik.db.base import utcnow

    today = reporting_day(utcnow())
    brief = SimpleNamespace(region_code="85", flt=SimpleNamespace(
        start=today - timedelta(days=10), end=today + timedelta(days=1)))
    section = fakes_section(session, people["writer"], brief)  # type: ignore[arg-type]
    assert section is not None and section.rows[0][1] == 2
    assert section.rows[0][3] == "опровергнут"


def test_the_approved_refutation_is_replied_under_copies_once(
        session: Session, make_fake: Callable[..., Fake],
        make_message: Callable[..., Message]) -> None:
    fake = make_fake(refuted=True)
    copy = make_message(REWORDED)
    live.match_messages(session, [copy.id], suspects=False)
    summary = refuting.publish(session, fake.id)
    assert summary.no_channel == 1  # stored without a connector: recorded, not dropped
    assert refuting.publish(session, fake.id).already == 1
    assert session.scalars(select(FakeReply.status)).all() == ["no_channel"]
    assert "Источник: https://r08.gov.ru/press/1" in refuting.reply_text(fake)


def test_no_reply_where_the_connector_cannot_reply_or_into_a_mailbox(
        session: Session, make_fake: Callable[..., Fake],
        make_message: Callable[..., Message]) -> None:
    from otklik.channels import service as connectors_service
    from otklik.channels.schemas import Source

    fake = make_fake(refuted=True)
    export = connectors_service.add_connector(
        session, Actor.system("tests"), kind="telegram_export", name="fk-export",
        config={"path": "/nowhere/result.json"})
    imported, mailed = make_message(REWORDED), make_message(CLAIM, source=Source.email)
    imported.connector_id = export.id
    live.match_messages(session, [imported.id, mailed.id], suspects=False)
    summary = refuting.publish(session, fake.id)
    assert (summary.no_channel, summary.failed, summary.published) == (2, 0, 0)
    replies = session.scalars(select(FakeReply)).all()
    assert {r.message_id for r in replies} == {imported.id, mailed.id}
    assert all(r.status == "no_channel" and r.attempts == 0 for r in replies)


def test_stats_count_fakes_and_copies(session: Session, make_fake: Callable[..., Fake],
                                      make_message: Callable[..., Message]) -> None:
    import otklik.fakes.stats  # noqa: F401  (registers the provider)

    before = stats.collect(session)
    make_fake()
    live.match_messages(session, [make_message(REWORDED).id], suspects=False)
    after = stats.collect(session)
    assert after["fakes"] == before["fakes"] + 1
    assert after["fake_copies"] == before["fake_copies"] + 1
    assert session.scalar(select(func.count()).select_from(Fake)) == after["fakes"]
