"""The demo's emergencies: the live detector over the stored 90 days, the duty rosters and
their alerts (a dry run: nothing leaves the machine), and the Kalmykia HQ's work.

The stream is loaded as history (a bulk load is never acted on live), so after it this step
hands each demo region's 90 days to :func:`otklik.incidents.live.detect`, the code a live
batch runs: the detector opens the Лагань outage (DESIGN.md story 3) and whatever smaller
incidents the stream holds, and announces them; the notifier alerts each region's demo
roster through every channel, recorded in the delivery log and not sent
(``OTKLIK_NOTIFY_DRY_RUN``, which ``otklik demo`` turns on). Then the Kalmykia HQ plays its
part through the same services a person uses (acknowledged from the Telegram alert, the HQ,
measures, the water delivery schedule, one answer to every resident, closure) and those
steps are dated back into the outage's days.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from otklik.audit.actor import Actor
from otklik.db.base import utcnow
from otklik.demo.organizations import DEMO_REGIONS
from otklik.events import AlertAcknowledged
from otklik.incidents import informing, live
from otklik.incidents import service as incidents
from otklik.incidents.repository import IncidentRepository
from otklik.models.incident import Incident, IncidentEntry, IncidentUpdate
from otklik.models.message import Message, MessageEnrichment
from otklik.models.notify import Alert, AlertRecipient, Delivery, DeliveryAttempt
from otklik.models.territory import Territory
from otklik.notify import alerts
from otklik.notify import service as notify
from otklik.notify.repository import NotifyRepository
from otklik.territories.repository import TerritoryRepository

KALMYKIA = "85"
DISTRICT = "Лаганский"
#: A roster per demo region: (name, Telegram chat id, e-mail). Example contacts only.
ROSTER = (("Дежурный ЦУР", "100000001", "duty1@cur.example"),
          ("Заместитель руководителя ЦУР", "100000002", "duty2@cur.example"))
HQ_WEBHOOK = "http://127.0.0.1:9/hq"  # never called: the demo is a dry run
HQ_PERSON = "Председатель Правительства Республики Калмыкия"
#: The HQ's steps, hours after the detector's signal.
STORY = (
    (0.3, "edit", {"hq_person": HQ_PERSON, "people_affected": 12_400}),
    (0.5, "in_work", None),
    (1.0, "measure", "Введён режим повышенной готовности; штаб возглавил Председатель "
                     "Правительства, выделено 3 млн рублей на ремонт водозабора"),
    (2.0, "update", "Подвоз воды: ул. Ленина, 10:00-12:00; ул. Школьная, 13:00-15:00; "
                    "7 микрорайон, 16:00-18:00"),
    (9.0, "measure", "Из соседних районов направлены дополнительные водовозы"),
    (10.0, "update", "Подвоз воды продолжается по графику; добавлены машины на "
                     "ул. Советская и ул. Кирова, 10:00-12:00"),
    (11.0, "answer", "Авария на водозаборе устраняется, введён режим повышенной "
                     "готовности. Подвоз воды по графику: ул. Ленина, 10:00-12:00; "
                     "ул. Школьная, 13:00-15:00; 7 микрорайон, 16:00-18:00. Следите за "
                     "обновлениями на странице происшествия."),
    (70.0, "resolved", None),
    (72.0, "close", "Водоснабжение Лаганского района восстановлено через 3 дня. Работал "
                    "штаб, подвоз воды шёл по графику, жителям ответили по каждому "
                    "сообщению."),
)


def load_rosters(session: Session, actor: Actor) -> int:
    """A duty roster with two people and the HQ's webhook in each demo region (once)."""
    territories = TerritoryRepository(session)
    repo = NotifyRepository(session)
    made = 0
    for code in DEMO_REGIONS:
        region = territories.region(code)
        if region is None or repo.active_rosters_of(region.id):
            continue
        roster = notify.create_roster(session, actor, name=f"Дежурная смена ЦУР ({region.name})",
                                      region_id=region.id, escalate_after_minutes=15,
                                      webhook_url=HQ_WEBHOOK, webhook_secret="demo-hq-secret")
        for name, chat, mail in ROSTER:
            notify.add_member(session, actor, roster.id, name=name, telegram_chat_id=chat,
                              email=mail.replace("@", f"{code}@"))
        made += 1
    return made


def detect(session: Session, since: datetime) -> list[int]:
    """Each demo region's stored messages since ``since`` through the live detector; the
    incidents it opened."""
    opened: list[int] = []
    for code in DEMO_REGIONS:
        ids = list(session.scalars(
            select(Message.id).join(MessageEnrichment, MessageEnrichment.message_id == Message.id)
            .where(Message.region_code == code, Message.created_at >= since)))
        if ids:
            opened += live.detect(session, ids).opened
    return opened


def kalmykia_outage(session: Session, opened: list[int], now: datetime) -> Incident | None:
    """The Лагань outage among the opened incidents: no water in Лаганский район, old
    enough for its three days to be over (a small ``--messages`` stream may hold too few
    residents' messages for the detector to see it: then there is none, and no story)."""
    rows = session.scalars(select(Incident).join(
        Territory, Territory.id == Incident.municipality_id).where(
        Incident.id.in_(opened or [-1]), Incident.region_code == KALMYKIA,
        Incident.hazard == "no_water", Territory.name.like(f"{DISTRICT}%"),
        Incident.started_at <= now - timedelta(hours=STORY[-1][0]))
        .order_by(Incident.started_at)).all()
    return rows[0] if rows else None


def play_the_hq(session: Session, incident_id: int, people: tuple[Actor, Actor]) -> None:
    """The HQ's work on the outage, through the services, dated back to the outage's days:
    the person on duty accepts the alert from Telegram, then the steps of :data:`STORY`."""
    incident = incidents.get_incident(session, people[0], incident_id)
    start = incident.started_at
    alert = NotifyRepository(session).alert_of("incident", incident_id)
    recipients = NotifyRepository(session).recipients_of(alert.id) if alert else []
    if alert is not None and recipients:  # no alert with a broker other than the inline one
        alerts.acknowledge(session, alerts.ack_token(recipients[0]), "telegram")
        # The AlertAcknowledged consumer writes this after commit; the demo does it now, so
        # that the steps below find the incident acknowledged (the consumer then skips it).
        incidents.acknowledge(session, AlertAcknowledged(
            subject="incident", subject_id=incident_id, alert_id=alert.id, user_id=None,
            by=recipients[0].name, channel="telegram"))
        session.flush()
        _date_back(session, incident, alert, start + timedelta(minutes=12))
    operator, curator = people
    for hours, step, value in STORY:
        before = _now_marks(session, incident)
        if step == "edit":
            incidents.edit(session, operator, incident, dict(value))  # type: ignore[arg-type]
        elif step in ("in_work", "resolved"):
            incidents.move(session, operator, incident, step)
        elif step == "measure":
            incidents.add_measure(session, operator, incident, str(value))
        elif step == "update":
            informing.publish_update(session, operator, incident, str(value))
        elif step == "answer":
            if not IncidentRepository(session).linked_case_ids(incident.id):
                continue  # a small demo stream: none of its messages became a case
            informing.propose_answer(session, operator, incident, str(value))
            session.flush()
            _date_new(session, incident, before, start + timedelta(hours=hours))
            before = _now_marks(session, incident)
            informing.approve_answer(session, curator, incident)
            hours += 0.5
        elif step == "close":
            incidents.close(session, operator, incident, str(value))
            incident.closed_at = start + timedelta(hours=hours)
        session.flush()
        _date_new(session, incident, before, start + timedelta(hours=hours))
    incident.updated_at = start + timedelta(hours=STORY[-1][0])


def _now_marks(session: Session, incident: Incident) -> tuple[set[int], set[int]]:
    entries = set(session.scalars(select(IncidentEntry.id).where(
        IncidentEntry.incident_id == incident.id)))
    updates = set(session.scalars(select(IncidentUpdate.id).where(
        IncidentUpdate.incident_id == incident.id)))
    return entries, updates


def _date_new(session: Session, incident: Incident, before: tuple[set[int], set[int]],
              at: datetime) -> None:
    """Date the timeline entries and updates made since ``before`` at ``at``."""
    entries, updates = _now_marks(session, incident)
    if entries - before[0]:
        session.execute(update(IncidentEntry).where(
            IncidentEntry.id.in_(entries - before[0])).values(at=at))
    if updates - before[1]:
        session.execute(update(IncidentUpdate).where(
            IncidentUpdate.id.in_(updates - before[1])).values(created_at=at))


def _date_back(session: Session, incident: Incident, alert: Alert, at: datetime) -> None:
    """The alert, its deliveries and the acknowledgement as they happened in the outage:
    sent a minute after the signal, accepted at ``at``."""
    sent = incident.started_at + timedelta(minutes=1)
    alert.acknowledged_at = incident.acknowledged_at = at
    alert.updated_at = at
    session.execute(update(AlertRecipient).where(AlertRecipient.alert_id == alert.id)
                    .values(notified_at=sent))
    ids = list(session.scalars(select(Delivery.id).where(Delivery.alert_id == alert.id)))
    if ids:
        session.execute(update(Delivery).where(Delivery.id.in_(ids)).values(
            sent_at=sent, updated_at=sent))
        session.execute(update(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(ids))
                        .values(started_at=sent))
    session.execute(update(IncidentEntry).where(
        IncidentEntry.incident_id == incident.id,
        IncidentEntry.kind == "acknowledged").values(at=at))


def alert_now(session: Session, incident_ids: list[int]) -> None:
    """The alerts of these incidents, opened here rather than by the queued IncidentOpened
    job (which then finds them and does nothing): the demo load drains no queue, because
    the stored 90 days left jobs that belong to the server's worker."""
    for incident_id in incident_ids:
        incident = session.get(Incident, incident_id)
        if incident is not None:
            alerts.open_incident_alert(session, incidents.opened_event(session, incident))


def record_deliveries(incident_ids: list[int]) -> int:
    """Run the pending deliveries of these incidents' alerts now (recorded in a dry run);
    their queued jobs then find them done. How many."""
    from otklik.db.session import session_scope
    from otklik.notify.delivery import run_delivery

    with session_scope() as session:
        ids = list(session.scalars(
            select(Delivery.id).join(Alert, Alert.id == Delivery.alert_id)
            .where(Alert.subject == "incident", Alert.subject_id.in_(incident_ids or [-1]),
                   Delivery.status == "pending").order_by(Delivery.id)))
    for delivery_id in ids:
        run_delivery(delivery_id)
    return len(ids)


def load_demo_incidents(since: datetime) -> dict[str, int]:
    """The whole step in its own units of work: rosters, the detector over the 90 days,
    the alerts and their deliveries, the Kalmykia HQ's work."""
    from otklik.db.session import session_scope

    actor = Actor.system("demo")
    with session_scope() as session:
        load_rosters(session, actor)
        opened = detect(session, since)
        alert_now(session, opened)
    record_deliveries(opened)
    outage_id = 0
    with session_scope() as session:
        outage = kalmykia_outage(session, opened, utcnow())
        if outage is not None:
            outage_id = outage.id
            play_the_hq(session, outage.id, (
                Actor.system("Оператор ЦУР Республики Калмыкия"),
                Actor.system("Куратор ЦУР Республики Калмыкия")))
    if outage_id:  # the closing line now, so the thread is closed after a --load-only too
        from otklik.events import IncidentClosed
        from otklik.notify.consumers import alert_incident_closed

        alert_incident_closed.fn(IncidentClosed(incident_id=outage_id, summary=str(
            STORY[-1][2])).model_dump(mode="json"))
    record_deliveries(opened)
    return {"incidents": len(opened), "kalmykia": outage_id}
