"""The notifier end to end, through a Telegram Bot API stub, an SMTP server and a webhook
receiver on 127.0.0.1 (SQLite and PostgreSQL): an incident's alert reaches the person on duty
in every channel, later lines land in the same threads, acknowledgement from the Telegram
button or the e-mail link (GET asks, POST acknowledges) announces AlertAcknowledged and stops
the escalation, an unacknowledged alert calls the next person, a channel that is down blocks
nobody and shows on the admin page, and case deadline warnings and escalations reach the right
people."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.conftest import own_database
from tests.notify import stubs, world

from otklik import events
from otklik.app import create_app
from otklik.db.base import utcnow
from otklik.db.session import session_scope
from otklik.events import (
    AlertAcknowledged,
    CaseDeadlineNear,
    CaseOverdue,
    IncidentClosed,
    IncidentOpened,
    IncidentUpdated,
    consumer,
)
from otklik.models.account import Role
from otklik.models.notify import Alert, Delivery, DeliveryAttempt, NotifyContact
from otklik.notify import alerts, service, telegram_updates
from otklik.notify import stats as notify_stats  # noqa: F401  (registers the counts)
from otklik.notify.delivery import requeue_due
from otklik.ops import stats as ops_stats

_lock = threading.Lock()
acknowledged: list[AlertAcknowledged] = []


@consumer(AlertAcknowledged, queue_name="notify", max_retries=0)
def record_acknowledgement(event: AlertAcknowledged) -> None:
    """What an incident room would do: hear the acknowledgement."""
    with _lock:
        acknowledged.append(event)


events.unsubscribe(AlertAcknowledged, record_acknowledgement)

own_url = own_database("notify")
HQ_SECRET = "hq-shared-secret"


@dataclass
class Setup:
    bot: stubs.BotApiStub
    inbox: stubs.Inbox
    hooks: stubs.WebhookReceiver
    region_id: int
    roster_id: int


@pytest.fixture
def env(own_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    acknowledged.clear()
    events.subscribe(AlertAcknowledged, record_acknowledgement)
    hooks = stubs.WebhookReceiver({"/hq": HQ_SECRET})
    with stubs.BotApiStub() as bot, hooks, stubs.smtp_server(monkeypatch) as inbox, \
            world.world(own_url, monkeypatch):
        stubs.use_bot(monkeypatch, bot.url)
        with session_scope() as session:
            region = world.region(session)
            roster = service.create_roster(
                session, world.Actor.system("tests"), name="Дежурные ЦУР", region_id=region.id,
                escalate_after_minutes=15, webhook_url=hooks.url + "/hq",
                webhook_secret=HQ_SECRET)
            for name, chat, mail in (("Первый", "1001", "duty1@region.test"),
                                     ("Второй", "1002", "duty2@region.test")):
                service.add_member(session, world.Actor.system("tests"), roster.id, name=name,
                                   telegram_chat_id=chat, email=mail)
            setup = Setup(bot, inbox, hooks, region.id, roster.id)
        try:
            yield setup
        finally:
            events.unsubscribe(AlertAcknowledged, record_acknowledgement)


def _open(setup: Setup, incident_id: int) -> None:
    with session_scope() as session:
        events.announce(session, IncidentOpened(
            incident_id=incident_id, title="Нет воды: Яшкульский район", severity="critical",
            region_id=setup.region_id, territory_ids=[], people_affected=12000,
            url_path=f"/incidents/{incident_id}"))
    stubs.settle()


def _alert(incident_id: int) -> Alert:
    with session_scope() as session:
        return session.scalars(select(Alert).where(Alert.subject == "incident",
                                                   Alert.subject_id == incident_id)).one()


def _ack_link(message: object) -> str:
    body = message.get_body(("plain",)).get_content()  # type: ignore[attr-defined]
    found = re.search(r"http://otklik\.test(/notify/ack/\S+)", body)
    assert found, body
    return found.group(1)


def test_alert_reaches_every_channel_and_the_thread_continues(env: Setup) -> None:
    _open(env, 7)
    first = env.bot.sent("1001")
    assert len(first) == 1 and "Нет воды" in first[0]["text"] and "12 000" in first[0]["text"]
    button = first[0]["reply_markup"]["inline_keyboard"][0][0]
    assert button["callback_data"].startswith("ack:")
    assert env.bot.sent("1002") == []  # the second person waits for the escalation
    mails = env.inbox.to("duty1@region.test")
    assert len(mails) == 1 and "/notify/ack/" in mails[0].get_body(("plain",)).get_content()
    hq = env.hooks.at("/hq")
    assert len(hq) == 1 and hq[0]["valid"] and hq[0]["json"]["event"] == "alert.opened"

    # The same event again (a retried consumer) sends nothing twice.
    _open(env, 7)
    assert len(env.bot.sent("1001")) == 1 and len(env.inbox.to("duty1@region.test")) == 1

    with session_scope() as session:
        events.announce(session, IncidentUpdated(incident_id=7, kind="update",
                                                 text="Подвоз воды: ул. Ленина, 10:00-12:00"))
    stubs.settle()
    update = env.bot.sent("1001")[1]
    assert "Подвоз воды" in update["text"]
    assert update["reply_parameters"]["message_id"] == 101  # the alert's first message
    mails = env.inbox.to("duty1@region.test")
    assert mails[1]["In-Reply-To"] == mails[0]["Message-ID"]
    assert "reply_markup" not in update  # only the alert itself carries the button

    with session_scope() as session:
        events.announce(session, IncidentClosed(incident_id=7, summary="Водоснабжение "
                                                "восстановлено"))
    stubs.settle()
    assert "восстановлено" in env.bot.sent("1001")[2]["text"]
    assert _alert(7).status == "closed"
    with session_scope() as session:
        counts = ops_stats.collect(session)
    assert counts["alerts"] == 1 and counts["alerts_by_status"] == {"closed": 1}
    assert counts["alert_deliveries"] == 9  # 3 lines x (Telegram, e-mail, the HQ webhook)


def test_telegram_button_acknowledges_and_stops_the_escalation(env: Setup) -> None:
    _open(env, 8)
    data = env.bot.sent("1001")[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    update = env.bot.press(data)
    client = TestClient(create_app())
    assert client.post("/api/v1/notify/telegram/wrong-secret", json=update).status_code == 404
    answer = client.post("/api/v1/notify/telegram/hook-secret-path", json=update)
    assert answer.status_code == 200 and answer.json()["acknowledged"] is True
    stubs.settle()
    alert = _alert(8)
    assert (alert.status, alert.ack_channel, alert.acknowledged_by) == (
        "acknowledged", "telegram", "Первый")
    assert [(m, b["callback_query_id"]) for m, b in env.bot.calls
            if m == "answerCallbackQuery"] == [("answerCallbackQuery", "cb1")]
    assert [(e.subject, e.subject_id, e.channel) for e in acknowledged] == [
        ("incident", 8, "telegram")]
    with session_scope() as session:
        assert alerts.escalate_due(session, utcnow() + timedelta(hours=2)) == 0
    stubs.settle()
    assert env.bot.sent("1002") == []
    # Pressing again acknowledges nothing new.
    assert client.post("/api/v1/notify/telegram/hook-secret-path",
                       json=update).json()["acknowledged"] is False


def test_email_link_acknowledges_without_login(env: Setup) -> None:
    _open(env, 9)
    link = _ack_link(env.inbox.to("duty1@region.test")[0])
    client = TestClient(create_app())
    assert client.get("/notify/ack/not-a-token").status_code == 404
    assert client.post("/notify/ack/not-a-token").status_code == 404
    # Opening the link (a mail scanner does) changes nothing: it asks.
    for _ in range(2):
        page = client.get(link)
        assert page.status_code == 200 and 'method="post"' in page.text
        assert "Нет воды" in page.text
    stubs.settle()
    assert _alert(9).status == "open" and acknowledged == []
    page = client.post(link)
    assert page.status_code == 200 and "Принято, спасибо" in page.text
    stubs.settle()
    alert = _alert(9)
    assert (alert.status, alert.ack_channel) == ("acknowledged", "email")
    assert [(e.subject_id, e.channel, e.by) for e in acknowledged] == [(9, "email", "Первый")]
    with session_scope() as session:
        assert alerts.escalate_due(session, utcnow() + timedelta(hours=2)) == 0
    again = client.get(link)  # afterwards the link says who accepted, with no button
    assert "уже принято" in again.text and 'method="post"' not in again.text
    assert "уже принято" in client.post(link).text
    stubs.settle()
    assert len(acknowledged) == 1


def test_unacknowledged_alert_calls_the_next_person(env: Setup) -> None:
    _open(env, 10)
    with session_scope() as session:
        assert alerts.escalate_due(session, utcnow() + timedelta(minutes=5)) == 0  # not yet
        assert alerts.escalate_due(session, utcnow() + timedelta(minutes=16)) == 1
    stubs.settle()
    second = env.bot.sent("1002")
    assert len(second) == 1 and second[0]["text"].startswith("🚨")
    assert any("Не подтверждено за 15 мин" in b["text"] for b in env.bot.sent("1001"))
    assert len(env.inbox.to("duty2@region.test")) == 1
    # The second person acknowledges with the button, read by the poll command.
    data = second[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    env.bot.press(data, update_id=40)
    with session_scope() as session:
        assert telegram_updates.poll(session) == (1, 1)
    stubs.settle()
    alert = _alert(10)
    assert (alert.status, alert.acknowledged_by, alert.escalate_at) == (
        "acknowledged", "Второй", None)
    assert [e.by for e in acknowledged] == ["Второй"]
    with session_scope() as session:  # the offset moved on: the press is not read twice
        assert telegram_updates.poll(session) == (0, 0)


def test_a_channel_that_is_down_blocks_no_other_and_shows(env: Setup) -> None:
    env.bot.down = True
    with session_scope() as session:  # the roster's webhook: a closed port
        from otklik.models.notify import DutyRoster

        session.get(DutyRoster, env.roster_id).webhook_url = (  # type: ignore[union-attr]
            f"http://127.0.0.1:{stubs.free_port()}/hq")
    _open(env, 11)
    assert len(env.inbox.to("duty1@region.test")) == 1  # e-mail went out regardless
    with session_scope() as session:
        rows = {d.channel: d for d in session.scalars(select(Delivery))}
        assert rows["email"].status == "sent"
        assert rows["telegram"].status == "pending" and "500" in rows["telegram"].last_error
        assert rows["webhook"].status == "pending" and "Connect" in rows["webhook"].last_error
        tries = list(session.scalars(select(DeliveryAttempt).where(
            DeliveryAttempt.delivery_id == rows["telegram"].id)))
        assert [(t.number, t.ok) for t in tries] == [(1, False)]
        admin = world.person(session, "admin", Role.admin, all_regions=True)
        secret = world.token(session, admin, ["admin"])
    page = TestClient(create_app()).get("/admin/notify",
                                        headers={"Authorization": f"Bearer {secret}"})
    assert page.status_code == 200
    row = re.search(r'<tr data-channel="telegram">(.*?)</tr>', page.text, re.S)
    assert row and "сбой" in row.group(1) and "500" in row.group(1)

    env.bot.down = False  # back up: the tick retries when the back-off has passed
    with session_scope() as session:
        assert requeue_due(session, utcnow()) == 0
    with session_scope() as session:
        assert requeue_due(session, utcnow() + timedelta(minutes=5)) == 2
    stubs.settle()
    assert len(env.bot.sent("1001")) == 1
    with session_scope() as session:
        telegram = session.scalars(select(Delivery).where(Delivery.channel == "telegram")).one()
        assert (telegram.status, telegram.attempts) == ("sent", 2)


def test_case_warnings_and_escalations_reach_the_right_people(env: Setup) -> None:
    with session_scope() as session:
        org = world.organization(session)
        executor = world.person(session, "vodokanal", Role.executor, email="exec@vk.test",
                                organization_id=org.id)
        session.add(NotifyContact(user_id=executor.id, telegram_chat_id="2001"))
        world.person(session, "curator", Role.curator, email="curator@region.test")
        world.person(session, "tambov-curator", Role.curator, regions=("68",),
                     email="curator@tambov.test")
        world.person(session, "head", Role.head, email="head@region.test")
        case_id = world.case(session, org.id).id
        events.announce(session, CaseDeadlineNear(case_id=case_id))
    stubs.settle()
    assert "истекает" in env.bot.sent("2001")[0]["text"]
    assert len(env.inbox.to("exec@vk.test")) == 1
    assert env.inbox.to("curator@region.test") == []
    with session_scope() as session:
        events.announce(session, CaseOverdue(case_id=case_id, level=2))
    stubs.settle()
    assert "Просрочено" in str(env.inbox.to("curator@region.test")[0]["Subject"]) or \
        "Просрочено" in env.inbox.to("curator@region.test")[0].get_body(
            ("plain",)).get_content()
    assert env.inbox.to("curator@tambov.test") == [] and env.inbox.to("head@region.test") == []
    with session_scope() as session:
        events.announce(session, CaseOverdue(case_id=case_id, level=3))
    stubs.settle()
    assert len(env.inbox.to("head@region.test")) == 1
    with session_scope() as session:  # one thread for the case
        assert len(list(session.scalars(select(Alert).where(Alert.subject == "case")))) == 1


def test_two_jobs_making_one_cases_thread_at_once_end_with_one(
        env: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two jobs of one case (a warning and an escalation) both found no thread and both
    make one: the one that loses the race takes the other's, in the same transaction, and
    its people are still told (no unique-key error left to a retry)."""
    from otklik.notify.repository import NotifyRepository

    with session_scope() as session:
        org = world.organization(session)
        world.person(session, "vodokanal", Role.executor, email="exec@vk.test",
                     organization_id=org.id)
        case_id = world.case(session, org.id).id
        alerts.case_deadline_near(session, case_id)  # the first job's thread
    seen = NotifyRepository.alert_of
    calls: list[int] = []

    def not_yet_visible(self: NotifyRepository, subject: str, subject_id: int) -> Alert | None:
        calls.append(subject_id)
        return None if len(calls) == 1 else seen(self, subject, subject_id)

    monkeypatch.setattr(NotifyRepository, "alert_of", not_yet_visible)
    with session_scope() as session:
        told = alerts.case_deadline_near(session, case_id)  # the second job, a moment late
    assert told >= 1 and len(calls) >= 2
    with session_scope() as session:
        assert len(list(session.scalars(select(Alert).where(Alert.subject == "case")))) == 1


def test_the_sla_tick_warns_and_escalates_through_the_notifier(env: Setup) -> None:
    """From the producer, not only from the event: the cases' SLA tick
    (`cases.service.escalate_due`, run by the scheduler) warns the executor before the
    deadline and escalates to the region's curator once it passed, then to the head a day
    later — each reaches the person through the same notifier (Telegram, e-mail)."""
    from otklik.cases import service as cases

    with session_scope() as session:
        org = world.organization(session)
        executor = world.person(session, "vodokanal-sla", Role.executor,
                                email="exec-sla@vk.test", organization_id=org.id)
        session.add(NotifyContact(user_id=executor.id, telegram_chat_id="2101"))
        world.person(session, "curator-sla", Role.curator, email="curator-sla@region.test")
        world.person(session, "head-sla", Role.head, email="head-sla@region.test")
        case = world.case(session, org.id)
        due = case.resolution_due
        assert due is not None
        case.warn_at = due - timedelta(hours=6)
        case_id = case.id
    sla = world.Actor.system("sla")
    for moment in (due - timedelta(hours=2), due + timedelta(hours=1),
                   due + timedelta(days=1, hours=1)):
        with session_scope() as session:
            assert cases.escalate_due(session, sla, now=moment) == [case_id]
        stubs.settle()
        if moment < due:
            assert "истекает" in env.bot.sent("2101")[0]["text"]
            assert len(env.inbox.to("exec-sla@vk.test")) == 1
            assert env.inbox.to("curator-sla@region.test") == []
        elif moment < due + timedelta(days=1):
            assert len(env.inbox.to("curator-sla@region.test")) == 1
            assert env.inbox.to("head-sla@region.test") == []
        else:
            assert len(env.inbox.to("head-sla@region.test")) == 1
    with session_scope() as session:
        thread = session.scalars(select(Alert).where(Alert.subject == "case",
                                                     Alert.subject_id == case_id)).one()
        assert session.scalars(select(Delivery).where(
            Delivery.alert_id == thread.id, Delivery.status == "sent")).all()
