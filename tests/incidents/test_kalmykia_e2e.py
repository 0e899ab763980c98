"""The Kalmykia outage end to end through the live pipeline and the real notifier (SQLite and
PostgreSQL): residents of Лагань (Лаганский район, Республика Калмыкия) write about no water;
intake stores the messages, enrichment reads them, the detector opens the incident; the alert
goes out to a Telegram Bot API stub, an SMTP server and a webhook receiver that verifies the
HMAC signature; the person on duty presses the Telegram button (the callback_query comes in
through the bot's update endpoint); an update is published (channel, public page, alert
thread); the linked cases get one answer through moderation and publishing; the incident
closes with a summary; its timeline shows each step with author and time.

The outside world is the notifier's own stubs (tests/notify/stubs.py), all on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from tests.notify import stubs
from tests.notify import world as notify_world

from otklik.app import create_app
from otklik.audit.actor import Actor
from otklik.db.session import session_scope
from otklik.incidents import informing
from otklik.incidents import service as incidents
from otklik.incidents.repository import IncidentRepository
from otklik.models.account import ApiToken, User
from otklik.models.case import Case, CaseMessage, CaseStatus, Publication
from otklik.models.incident import Incident, IncidentChannel, IncidentEntry, IncidentStatus
from otklik.models.message import Message
from otklik.models.notify import (
    Alert,
    AlertRecipient,
    Delivery,
    DeliveryAttempt,
    DutyMember,
    DutyRoster,
    NotifyState,
)
from otklik.models.territory import Territory, TerritoryLevel
from otklik.notify import service as notify
from otklik.notify.settings import get_notify_settings
from otklik.queue import drain

from .conftest import GROUP, World, receive

HQ_SECRET = "kalmykia-hq-secret"
DUTY = ("Бадмаев Санал", "7001", "badmaev@rk-duty.test")
NEXT = ("Очирова Алтана", "7002", "ochirova@rk-duty.test")
OUTAGE = [
    "В Лагани нет воды с утра, на улице мороз, что делать?",
    "Лагань без воды, ул. Ленина, когда дадут воду?",
    "нет воды в Лагани!! дети без воды, помогите",
    "Лагань, 7 микрорайон: воды нет со вчерашнего вечера",
    "В городе Лагань нет воды уже сутки, администрация молчит",
]
UPDATE = "Подвоз воды: ул. Ленина, 10:00-12:00"
ANSWER = ("Авария на водозаборе устраняется, введён режим повышенной готовности. Подвоз воды "
          "по графику: ул. Ленина, 10:00-12:00.")
SUMMARY = "Водоснабжение Лагани восстановлено через 3 дня; подвоз воды работал по графику."
NOTIFY_ROWS = (delete(DeliveryAttempt), delete(Delivery), delete(AlertRecipient), delete(Alert),
               delete(DutyMember), delete(DutyRoster), delete(NotifyState), delete(ApiToken))


@dataclass
class Outside:
    """The world outside Otklik, on 127.0.0.1."""

    bot: stubs.BotApiStub
    inbox: stubs.Inbox
    hooks: stubs.WebhookReceiver


@pytest.fixture
def outside(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[Outside]:
    """The Bot API stub, the SMTP server and the HQ's webhook receiver, and Kalmykia's duty
    roster pointing at them; the notifier's rows are removed afterwards."""
    hooks = stubs.WebhookReceiver({"/hq": HQ_SECRET})
    with stubs.BotApiStub() as bot, hooks, stubs.smtp_server(monkeypatch) as inbox:
        stubs.use_bot(monkeypatch, bot.url)
        with session_scope() as session:
            region = notify_world.region(session, "85")
            system = Actor.system("tests")
            roster = notify.create_roster(
                session, system, name="Дежурная смена ЦУР Калмыкии", region_id=region.id,
                escalate_after_minutes=15, webhook_url=hooks.url + "/hq",
                webhook_secret=HQ_SECRET)
            for name, chat, mail in (DUTY, NEXT):
                notify.add_member(session, system, roster.id, name=name,
                                            telegram_chat_id=chat, email=mail)
        try:
            yield Outside(bot, inbox, hooks)
        finally:
            stubs.settle()
            with Session(world.engine) as session:
                for statement in NOTIFY_ROWS:
                    session.execute(statement)
                session.commit()


def _bearer(world: World, name: str, scopes: list[str]) -> dict[str, str]:
    with session_scope() as session:
        user = session.get(User, world.people[name].user_id)
        assert user is not None
        secret = notify_world.token(session, user, scopes)
    return {"Authorization": f"Bearer {secret}"}


def test_kalmykia_outage_from_first_messages_to_closure(world: World, outside: Outside) -> None:
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=5)
    # 1. Residents of Лагань write; intake → enrichment → the detector opens the incident.
    first = receive(world, [(OUTAGE[i], f"id{9200 + i}", t0 + timedelta(minutes=9 * i))
                            for i in range(3)])
    stubs.settle()
    with Session(world.engine) as session:
        incident = session.scalars(select(Incident)).one()
        assert (incident.kind, incident.hazard, incident.status) == (
            "hazard", "no_water", IncidentStatus.open)
        assert incident.opened_by.startswith("детектор")
        places = {t.id: t for t in session.scalars(select(Territory).where(
            Territory.id.in_(incident.territory_ids)))}
        names = {t.name for t in places.values()}
        assert "Лагань" in names and any("Лаганский" in n for n in names)
        assert all(t.region_code == "85" for t in places.values())
        assert {t.level for t in places.values()} == {TerritoryLevel.municipality,
                                                     TerritoryLevel.settlement}
        assert incident.people_affected and incident.severity in ("high", "critical")
        incident_id = incident.id

    # 2. The alert: the first person on duty in Telegram (with the button) and by e-mail, and
    # the HQ's webhook with a valid HMAC-SHA256 signature; the next person waits.
    duty_chat, duty_mail = DUTY[1], DUTY[2]
    [alert_line] = outside.bot.sent(duty_chat)
    assert alert_line["text"].startswith("🚨") and "Лагань" in alert_line["text"]
    assert f"http://otklik.test/incidents/{incident_id}" in alert_line["text"]
    button = alert_line["reply_markup"]["inline_keyboard"][0][0]
    assert button["callback_data"].startswith("ack:")
    [mail] = outside.inbox.to(duty_mail)
    assert "Лагань" in str(mail["Subject"])
    assert "/notify/ack/" in mail.get_body(("plain",)).get_content()
    [hq] = outside.hooks.at("/hq")
    assert hq["valid"], "the webhook's signature must verify with the roster's secret"
    assert hq["json"]["event"] == "alert.opened"
    assert hq["json"]["alert"]["subject_id"] == incident_id
    assert outside.bot.sent(NEXT[1]) == [] and outside.inbox.to(NEXT[2]) == []

    # More residents write: they join the incident, the alert is not sent again.
    later = receive(world, [(OUTAGE[i], f"id{9200 + i}", t0 + timedelta(minutes=9 * i))
                            for i in range(3, 5)])
    stubs.settle()
    with Session(world.engine) as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 1
        assert len(outside.bot.sent(duty_chat)) == 1

    # 3. The person on duty presses «Принято»: the update reaches the bot's webhook endpoint.
    client = TestClient(create_app())
    update = outside.bot.press(button["callback_data"], update_id=501)
    pressed = client.post("/api/v1/notify/telegram/hook-secret-path", json=update)
    assert pressed.status_code == 200 and pressed.json()["acknowledged"] is True
    stubs.settle()
    assert ("answerCallbackQuery", "cb501") in [
        (m, b.get("callback_query_id")) for m, b in outside.bot.calls]
    with Session(world.engine) as session:
        alert = session.scalars(select(Alert).where(
            Alert.subject == "incident", Alert.subject_id == incident_id)).one()
        assert (alert.status, alert.acknowledged_by, alert.ack_channel) == (
            "acknowledged", DUTY[0], "telegram")
        assert session.get(Incident, incident_id).status == IncidentStatus.acknowledged  # type: ignore[union-attr]

    # 4. The HQ works (API): the person in charge, in work, an update for residents.
    ops = _bearer(world, "operator", ["read", "write"])
    changed = client.patch(f"/api/v1/incidents/{incident_id}", headers=ops, json={
        "hq_person": "Председатель Правительства Республики Калмыкия", "status": "in_work"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["status"] == "in_work"
    with session_scope() as session:
        session.add(IncidentChannel(region_code="85", connector_id=world.connector_id,
                                    target_source_id=f"wall-{GROUP}_1"))
    posted = client.post(f"/api/v1/incidents/{incident_id}/updates", headers=ops,
                         json={"text": UPDATE})
    assert posted.status_code == 201, posted.text
    stubs.settle()
    # ... on the region's channel, under the pinned post ...
    assert any(c.form.get("message") == UPDATE and c.form.get("post_id") == "1"
               for c in world.stub.calls("/method/wall.createComment"))
    # ... on the public page, without personal data ...
    page = client.get(f"/public/incidents/{incident_id}")
    assert page.status_code == 200 and UPDATE in page.text
    assert OUTAGE[0] not in page.text and DUTY[0] not in page.text
    # ... and in the alert's thread: a reply in Telegram, In-Reply-To by e-mail, the webhook.
    with Session(world.engine) as session:
        duty = session.scalars(select(AlertRecipient).where(
            AlertRecipient.telegram_chat_id == duty_chat)).one()
        thread = int(duty.telegram_thread_id or 0)
    in_thread = [b for b in outside.bot.sent(duty_chat) if UPDATE in b["text"]]
    assert len(in_thread) == 1 and in_thread[0]["reply_parameters"]["message_id"] == thread
    mails = outside.inbox.to(duty_mail)
    assert any(UPDATE in m.get_body(("plain",)).get_content()
               and m["In-Reply-To"] == mails[0]["Message-ID"] for m in mails[1:])
    assert any(UPDATE in r["json"]["text"] and r["valid"] for r in outside.hooks.at("/hq"))

    # 5. One answer to every linked message through moderation (four eyes) and publishing.
    with Session(world.engine) as session:
        case_ids = set(session.scalars(select(CaseMessage.case_id).where(
            CaseMessage.message_id.in_(first + later))))
    assert case_ids
    with session_scope() as session:
        informing.propose_answer(session, world.people["operator"],
                                 incidents.get_incident(session, world.people["operator"],
                                                        incident_id), ANSWER)
    with session_scope() as session:
        counts = informing.approve_answer(
            session, world.people["operator2"],
            incidents.get_incident(session, world.people["operator2"], incident_id))
        assert counts["answered"] == len(case_ids) and counts["failed"] == 0
    stubs.settle()
    with Session(world.engine) as session:
        assert {c.status for c in session.scalars(select(Case).where(Case.id.in_(case_ids)))
                } == {CaseStatus.answered}
        published = set(session.scalars(select(Publication.message_id).where(
            Publication.status == "published")))
        assert set(first + later) <= published
    replies = [c for c in world.stub.calls("/method/wall.createComment")
               if c.form.get("message") == ANSWER]
    assert len(replies) == len(first + later)

    # 6. Closed with a summary (API): the thread hears it, the alert closes.
    closed = client.post(f"/api/v1/incidents/{incident_id}/close", headers=ops,
                         json={"summary": SUMMARY})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    stubs.settle()
    assert any(SUMMARY in b["text"] for b in outside.bot.sent(duty_chat))
    with Session(world.engine) as session:
        assert session.scalars(select(Alert).where(
            Alert.subject == "incident", Alert.subject_id == incident_id)).one().status == "closed"

    # 7. The timeline: every step, in time order, with its author and time.
    timeline = client.get(f"/api/v1/incidents/{incident_id}/timeline", headers=ops
                          ).json()["items"]
    kinds = [e["kind"] for e in timeline]
    assert kinds == ["signal", "acknowledged", "edited", "in_work", "public_update",
                     "answer_proposed", "bulk_answer", "closed"]
    by = {e["kind"]: e["author"] for e in timeline}
    operator, operator2 = world.people["operator"].label, world.people["operator2"].label
    api = f"{operator} (token "  # the API's steps name the person and the token used
    assert (by["signal"], by["acknowledged"]) == ("детектор", DUTY[0])
    assert all(by[k].startswith(api) for k in ("edited", "in_work", "public_update", "closed"))
    assert (by["answer_proposed"], by["bulk_answer"]) == (operator, operator2)
    assert "telegram" in timeline[1]["text"]
    assert timeline[-1]["text"] == SUMMARY
    moments = [datetime.fromisoformat(e["at"]) for e in timeline]
    assert moments == sorted(moments) and all(m is not None for m in moments)
    # The signal is dated by the message it fired on, the rest by when they happened.
    assert moments[0] <= moments[1] and moments[0] < datetime.now(UTC)


@pytest.fixture
def dry_run(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The demo's notifier: every delivery recorded, nothing sent; its rows removed after."""
    monkeypatch.setenv("OTKLIK_NOTIFY_DRY_RUN", "true")
    monkeypatch.setenv("OTKLIK_NOTIFY_TELEGRAM_TOKEN", "")
    get_notify_settings.cache_clear()
    try:
        yield
    finally:
        drain()
        with Session(world.engine) as session:
            for statement in NOTIFY_ROWS:
                session.execute(statement)
            session.commit()
        get_notify_settings.cache_clear()


def test_the_demo_step_opens_the_outage_by_the_detector_and_runs_its_hq(
        world: World, dry_run: None) -> None:
    """`otklik demo`'s step over a stored (not live) stream: the detector opens the Лагань
    outage, the demo roster is alerted through every channel (recorded, not sent), the HQ's
    work is on the timeline in the outage's days, the incident is closed."""
    from otklik.cases.builder import build_cases
    from otklik.channels.schemas import IncomingMessage, Source
    from otklik.demo import emergencies
    from otklik.intake.service import store_messages
    from otklik.intake.tasks import enrich_now

    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=20)
    rows = [IncomingMessage(source=Source.vk, source_id=f"demo-outage-{i}",
                            text=OUTAGE[i % len(OUTAGE)], author_id=f"id{9300 + i}",
                            created_at=start + timedelta(minutes=7 * i), region="85")
            for i in range(8)]
    with session_scope() as session:  # history: stored and enriched, never announced live
        summary = store_messages(session, rows, enqueue=False)
        enrich_now(session, summary.to_enrich, live=False)
    with session_scope() as session:
        ids = list(session.scalars(select(Message.id).where(
            Message.source_id.like("demo-outage-%"))))
        build_cases(session, Actor.system("tests"), ids)
        for case in session.scalars(select(Case).join(
                CaseMessage, CaseMessage.case_id == Case.id).where(
                CaseMessage.message_id.in_(ids))):
            case.status = CaseStatus.routed
    with Session(world.engine) as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 0

    result = emergencies.load_demo_incidents(start - timedelta(days=1))
    assert result["incidents"] >= 1 and result["kalmykia"]
    with Session(world.engine) as session:
        incident = session.get(Incident, result["kalmykia"])
        assert incident is not None and incident.opened_by.startswith("детектор")
        assert (incident.hazard, incident.status) == ("no_water", IncidentStatus.closed)
        assert incident.hq_person == emergencies.HQ_PERSON
        alert = session.scalars(select(Alert).where(
            Alert.subject == "incident", Alert.subject_id == incident.id)).one()
        assert (alert.status, alert.ack_channel) == ("closed", "telegram")
        assert alert.acknowledged_by == emergencies.ROSTER[0][0]
        deliveries = session.scalars(select(Delivery).where(
            Delivery.alert_id == alert.id)).all()
        assert {d.channel for d in deliveries} == {"telegram", "email", "webhook"}
        assert all(d.status == "sent" for d in deliveries)
        attempts = session.scalars(select(DeliveryAttempt).where(
            DeliveryAttempt.delivery_id.in_([d.id for d in deliveries]))).all()
        assert attempts and all("recorded, not sent" in (a.response or "") for a in attempts)
        timeline = session.scalars(select(IncidentEntry).where(
            IncidentEntry.incident_id == incident.id).order_by(IncidentEntry.at)).all()
        kinds = [e.kind for e in timeline]
        assert kinds[:3] == ["signal", "acknowledged", "edited"] and kinds[-1] == "closed"
        assert {"measure", "public_update", "bulk_answer", "resolved"} <= set(kinds)
        # Dated in the outage's days, not at load time.
        assert all(e.at < start + timedelta(days=4) for e in timeline)
        assert timeline[-1].at - timeline[0].at == timedelta(hours=72)
    client = TestClient(create_app())
    page = client.get(f"/public/incidents/{result['kalmykia']}")
    assert page.status_code == 200 and "Подвоз воды: ул. Ленина" in page.text
    room = client.get(f"/incidents/{result['kalmykia']}",
                      headers=_bearer(world, "operator", ["read"]))
    assert room.status_code == 200 and 'data-testid="incident-alert-log"' in room.text
    assert "recorded, not sent" in room.text and 'data-channel="webhook"' in room.text
    assert "Дежурный ЦУР (telegram)" in room.text


def test_the_demos_hq_answer_reaches_the_cases_the_simulated_work_left_it(
        world: World, dry_run: None) -> None:
    """The demo's own order over a stored stream: cases built, the detector, the simulated
    90 days, the people's work. The outage's cases written before the HQ's answer are left
    to the HQ (accepted, not answered by their executor), and its one answer
    reaches each of them through the cases' path and is published under every message; the
    alert thread's lines are dated in the outage's days; an older small incident is
    accepted, resolved and closed with a summary, a recent one is accepted and stays."""
    from otklik.cases.builder import build_cases
    from otklik.channels.schemas import IncomingMessage, Source
    from otklik.db.base import simulated_now
    from otklik.demo import emergencies, simulation
    from otklik.intake.service import store_messages
    from otklik.intake.tasks import enrich_now
    from otklik.models.case import Answer

    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=20)
    streams = {  # (first message, texts, authors' base, minutes apart, how many)
        "outage": (start, OUTAGE, 9400, 7, 8),
        "fire": (now - timedelta(days=12), [
            "Пожар в Городовиковске, горит дом на улице Мира", "Городовиковск, ул. Мира, "
            "пожар, дым валит", "Горит дом в Городовиковске на Мира, вызвали пожарных"],
            9500, 4, 3),
        "recent": (now - timedelta(days=2), [
            "В Яшкуле нет воды с утра", "Яшкуль, нет воды уже три часа!",
            "нет воды в посёлке Яшкуль, когда дадут"], 9600, 10, 3),
    }
    rows = [IncomingMessage(source=Source.vk, source_id=f"wall-{GROUP}_{base + i}",
                            text=texts[i % len(texts)], author_id=f"id{base + i}",
                            created_at=first + timedelta(minutes=gap * i), region="85")
            for first, texts, base, gap, count in streams.values() for i in range(count)]
    # Two residents write on the third day, after the HQ's answer: ordinary cases.
    late = ["Лагань, ул. Школьная: воду так и не дали, водовоз не приехал",
            "Третьи сутки в Лагани без воды, когда починят водозабор?"]
    rows += [IncomingMessage(source=Source.vk, source_id=f"wall-{GROUP}_{9450 + i}",
                             text=text, author_id=f"id{9450 + i}", region="85",
                             created_at=start + timedelta(hours=40, minutes=9 * i))
             for i, text in enumerate(late)]
    with session_scope() as session:  # history: stored and enriched, never announced live
        summary = store_messages(session, rows, connector_id=world.connector_id,
                                 enqueue=False)
        enrich_now(session, summary.to_enrich, live=False)
    with session_scope() as session:  # each case made when its message came, as the demo does
        for message in session.scalars(select(Message).where(
                Message.source_id.in_([r.source_id for r in rows])).order_by(
                Message.created_at)):
            with simulated_now(message.created_at + timedelta(minutes=5)):
                build_cases(session, Actor.system("tests"), [message.id])

    opened = emergencies.open_demo_incidents(start - timedelta(days=1))
    left = emergencies.left_to_hq(opened)
    result: dict[str, int] = {}
    simulation.simulate_work(seed=3, left=left, handover=lambda: result.update(
        emergencies.play_demo_incidents(opened)))
    drain()  # the cases' publishing jobs

    outage_id = result["kalmykia"]
    assert outage_id and len(opened) == 3 and result["closed"] == 1
    with Session(world.engine) as session:
        outage = session.get(Incident, outage_id)
        assert outage is not None and outage.status == IncidentStatus.closed
        approved = outage.started_at + emergencies.ANSWER_AT + emergencies.APPROVAL
        linked = IncidentRepository(session).linked_case_ids(outage_id)
        early = {c.id for c in session.scalars(select(Case).where(Case.id.in_(linked)))
                 if c.created_at < approved}
        assert early and left == early and len(early) < len(linked)
        [entry] = session.scalars(select(IncidentEntry).where(
            IncidentEntry.incident_id == outage_id, IncidentEntry.kind == "bulk_answer"))
        # Every case there at the approval got it; none had been answered by its executor;
        # the later ones were not there yet.
        assert (entry.details["answered"], entry.details["already"],
                entry.details["failed"]) == (len(early), 0, 0)
        assert entry.text == f"Ответ одобрен и отправлен: {len(early)} обращений"
        assert entry.at == approved
        hq_text = str(next(v for _, step, v in emergencies.STORY if step == "answer"))
        for case in session.scalars(select(Case).where(Case.id.in_(early))):
            assert case.status == CaseStatus.answered
            assert case.escalation_level == 0  # answered before the SLA's ticks looked
            finals = session.scalars(select(Answer).where(
                Answer.case_id == case.id, Answer.kind == "final")).all()
            assert [a.text for a in finals] == [hq_text]  # the executor left it to the HQ
            assert finals[0].approved_at == approved
        messages = set(session.scalars(select(CaseMessage.message_id).where(
            CaseMessage.case_id.in_(early))))
        published = set(session.scalars(select(Publication.message_id).where(
            Publication.status == "published", Publication.message_id.in_(messages))))
        assert published == messages
        # The HQ's alert-thread lines happened in the outage's days, not at load time.
        alert = session.scalars(select(Alert).where(
            Alert.subject == "incident", Alert.subject_id == outage_id)).one()
        lines = session.scalars(select(Delivery).where(
            Delivery.alert_id == alert.id, Delivery.event.in_(
                ("alert.updated", "alert.closed")))).all()
        assert lines and all(d.sent_at is not None and d.sent_at < start + timedelta(days=4)
                             for d in lines)

        others = {i.title: i for i in session.scalars(select(Incident).where(
            Incident.id.in_(opened), Incident.id != outage_id))}
        fire = next(i for t, i in others.items() if "Пожар" in t)
        recent = next(i for t, i in others.items() if "Яшкуль" in t)
        assert fire.status == IncidentStatus.closed
        assert fire.summary is not None and fire.summary.startswith(
            emergencies.SUMMARIES["fire"])
        assert recent.status == IncidentStatus.acknowledged and recent.closed_at is None
        kinds = [e.kind for e in session.scalars(select(IncidentEntry).where(
            IncidentEntry.incident_id == fire.id).order_by(IncidentEntry.at))]
        assert kinds == ["signal", "acknowledged", "resolved", "closed"]
    answered = [c for c in world.stub.calls("/method/wall.createComment")
                if c.form.get("message") == hq_text]
    assert len(answered) == len(messages)
