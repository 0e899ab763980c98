"""The demo's emergencies: the live detector over the stored 90 days, the duty rosters and
their alerts (a dry run: nothing leaves the machine), the Kalmykia HQ's work and the duty
person's everyday work on the smaller incidents.

The stream is loaded as history (a bulk load is never acted on live), so once its cases are
built this step hands each demo region's 90 days to :func:`otklik.incidents.live.detect`, the
code a live batch runs: the detector opens the Лагань outage (DESIGN.md story 3) and whatever
smaller incidents the stream holds, and announces them; the notifier alerts each region's demo
roster through every channel, recorded in the delivery log and not sent
(``OTKLIK_NOTIFY_DRY_RUN``, which ``otklik demo`` turns on). This runs *before* the simulated
work, so that the outage's cases are left to the HQ (:func:`left_to_hq`): their executors
accept them, and the HQ's one answer reaches them. Then the Kalmykia HQ plays its
part through the same services a person uses (acknowledged from the Telegram alert, the HQ,
measures, the water delivery schedule, one answer to every resident, closure), each step at
its moment of the outage's days (:func:`otklik.db.base.simulated_now`), alert-thread lines
included; the older smaller incidents are accepted, resolved and closed with a summary, the
recent ones stay in work.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from otklik.accounts.scope import Scope
from otklik.audit.actor import Actor
from otklik.db.base import simulated_now, utcnow
from otklik.demo.organizations import DEMO_REGIONS
from otklik.events import AlertAcknowledged, IncidentClosed, IncidentUpdated
from otklik.incidents import informing, live
from otklik.incidents import service as incidents
from otklik.incidents.repository import IncidentRepository
from otklik.models.incident import ACTIVE_INCIDENT_STATUSES, Incident
from otklik.models.message import Message, MessageEnrichment
from otklik.models.notify import Alert, Delivery
from otklik.models.territory import Territory
from otklik.notify import alerts
from otklik.notify import service as notify
from otklik.notify.consumers import alert_incident_closed, alert_incident_updated
from otklik.notify.repository import NotifyRepository
from otklik.queue import pending_mark, pending_since
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


#: The alert goes out a minute after the signal; the person on duty accepts it 12 minutes in.
ALERTED, ACCEPTED = timedelta(minutes=1), timedelta(minutes=12)
#: The HQ's answer to every resident (hours after the signal in :data:`STORY`); the curator
#: approves it half an hour later.
ANSWER_AT = timedelta(hours=next(h for h, step, _ in STORY if step == "answer"))
APPROVAL = timedelta(minutes=30)
#: The other incidents: older than this and with fewer messages than BIG, they are closed.
OLD, BIG = timedelta(days=7), 50
#: The duty person's closing summary by hazard ("": one without a hazard).
SUMMARIES = {
    "no_water": "Водоснабжение восстановлено: аварийная бригада водоканала устранила порыв.",
    "no_heating": "Отопление восстановлено после ремонта участка теплотрассы.",
    "no_power": "Электроснабжение восстановлено сетевой компанией.",
    "no_gas": "Газоснабжение восстановлено после проверки газовой службой.",
    "gas_smell": "Утечка газа найдена и устранена газовой службой.",
    "sewage": "Авария канализации устранена, территория очищена.",
    "flood": "Вода откачана, подтопленные дворы и подвалы обследованы.",
    "fire": "Пожар потушен, жильцам оказана помощь.",
    "live_wire": "Оборванный провод убран, линия восстановлена.",
    "collapse": "Место обрушения огорожено, конструкции обследованы и укреплены.",
    "people_trapped": "Люди выведены спасателями, пострадавшим оказана помощь.",
    "children_at_risk": "Опасность для детей устранена, место проверено службами.",
    "": "Ситуация отработана ответственными службами, обращения переданы исполнителям.",
}


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


def left_to_hq(opened: list[int]) -> set[int]:
    """The outage's cases made before the HQ's answer was approved: the simulated
    work has their executors accept them and leaves the answer to the HQ
    (:func:`play_the_hq`); the later ones live as any case."""
    from otklik.db.session import session_scope

    with session_scope() as session:
        outage = kalmykia_outage(session, opened, utcnow())
        if outage is None:
            return set()
        approved = outage.started_at + ANSWER_AT + APPROVAL
        return {case.id for case in IncidentRepository(session).cases(Scope.system(), outage.id)
                if case.created_at < approved}


def play_the_hq(session: Session, incident_id: int, people: tuple[Actor, Actor]) -> None:
    """The HQ's work on the outage through the services, each step at its moment of the
    outage's days: the person on duty accepts the alert from Telegram, then :data:`STORY`
    (the answer proposed by the operator and approved by the curator half an hour later)."""
    incident = incidents.get_incident(session, people[0], incident_id)
    start = incident.started_at
    accept_alert(session, incident, start + ACCEPTED)
    operator, curator = people
    for hours, step, value in STORY:
        at = start + timedelta(hours=hours)
        if step == "edit":
            _at(session, at, partial(incidents.edit, session, operator, incident,
                                     dict(value)))  # type: ignore[arg-type]
        elif step in ("in_work", "resolved"):
            _at(session, at, partial(incidents.move, session, operator, incident, step))
        elif step == "measure":
            _at(session, at, partial(incidents.add_measure, session, operator, incident,
                                     str(value)))
        elif step == "update":
            _at(session, at, partial(informing.publish_update, session, operator, incident,
                                     str(value)))
        elif step == "answer":
            if not IncidentRepository(session).linked_case_ids(incident.id):
                continue  # a small demo stream: none of its messages became a case
            _at(session, at, partial(informing.propose_answer, session, operator, incident,
                                     str(value)))
            _at(session, at + APPROVAL, partial(  # the cases there were at that moment
                informing.approve_answer, session, curator, incident,
                cases_until=at + APPROVAL))
        elif step == "close":
            _at(session, at, partial(incidents.close, session, operator, incident,
                                     str(value)))


def close_the_old(session: Session, opened: list[int], now: datetime, skip: int = 0) -> int:
    """The duty person's everyday work on the other incidents: each one older than two
    hours accepted from its alert within minutes; the smaller ones older than
    :data:`OLD` resolved within a day or so and closed with a summary (the recent ones
    stay in work on the list). How many were closed."""
    duty = Actor.system(ROSTER[0][0])
    repo = IncidentRepository(session)
    closed = 0
    for incident in session.scalars(select(Incident).where(
            Incident.id.in_(opened or [-1]), Incident.id != skip,
            Incident.status.in_(ACTIVE_INCIDENT_STATUSES)).order_by(Incident.started_at)):
        age = now - incident.started_at
        if age < timedelta(hours=2):
            continue
        rng = random.Random(incident.signal_key or str(incident.id))
        start = incident.started_at
        accept_alert(session, incident, start + timedelta(minutes=rng.randint(4, 25)))
        if age < OLD or repo.count_messages(incident.id) >= BIG:
            continue
        resolved = start + timedelta(hours=rng.uniform(3, 30))
        _at(session, resolved, partial(incidents.move, session, duty, incident, "resolved"))
        _at(session, resolved + timedelta(hours=rng.uniform(1, 6)), partial(
            incidents.close, session, duty, incident, summary_of(session, incident)))
        closed += 1
    return closed


def summary_of(session: Session, incident: Incident) -> str:
    """The duty person's closing summary: what was done (by the hazard) and how many
    residents wrote."""
    done = SUMMARIES.get(incident.hazard or "", SUMMARIES[""])
    count = IncidentRepository(session).count_messages(incident.id)
    return f"{done} Сообщений жителей по происшествию: {count}."


def accept_alert(session: Session, incident: Incident, at: datetime) -> None:
    """The first person alerted accepts from Telegram at ``at`` (no alert, no step)."""
    repo = NotifyRepository(session)
    alert = repo.alert_of("incident", incident.id)
    recipients = repo.recipients_of(alert.id) if alert else []
    if alert is None or not recipients:  # no roster in the region
        return

    def accept() -> None:
        alerts.acknowledge(session, alerts.ack_token(recipients[0]), "telegram")
        # The AlertAcknowledged consumer writes this after commit; the demo does it now, so
        # that the next steps find the incident acknowledged (the consumer then skips it).
        incidents.acknowledge(session, AlertAcknowledged(
            subject="incident", subject_id=incident.id, alert_id=alert.id, user_id=None,
            by=recipients[0].name, channel="telegram"))

    _at(session, at, accept)


def _at(session: Session, moment: datetime, act: Callable[[], object]) -> None:
    """Do ``act`` at ``moment`` of the demo's clock, and post the alert-thread lines its
    events ask for now, dated then (their queued jobs later find them sent: one line per
    key)."""
    mark = pending_mark(session)
    with simulated_now(moment):
        act()
        session.flush()
        for job, args in pending_since(session, mark):
            if job is alert_incident_updated:
                alerts.incident_updated(session, IncidentUpdated.model_validate(args[0]))
            elif job is alert_incident_closed:
                alerts.incident_closed(session, IncidentClosed.model_validate(args[0]))
        session.flush()


def alert_now(session: Session, incident_ids: list[int]) -> None:
    """The alerts of these incidents, opened here rather than by the queued IncidentOpened
    job (which then finds them and does nothing): the demo load drains no queue, because
    the stored 90 days left jobs that belong to the server's worker."""
    for incident_id in incident_ids:
        incident = session.get(Incident, incident_id)
        if incident is not None:
            with simulated_now(min(incident.started_at + ALERTED, utcnow())):
                alerts.open_incident_alert(session, incidents.opened_event(session, incident))


def record_deliveries(incident_ids: list[int]) -> int:
    """Run the pending deliveries of these incidents' alerts now (recorded in a dry run),
    each dated when it was queued; their queued jobs then find them done. How many."""
    from otklik.db.session import session_scope
    from otklik.notify.delivery import run_delivery

    with session_scope() as session:
        rows = session.execute(
            select(Delivery.id, Delivery.next_attempt_at).join(Alert, Alert.id == Delivery.alert_id)
            .where(Alert.subject == "incident", Alert.subject_id.in_(incident_ids or [-1]),
                   Delivery.status == "pending").order_by(Delivery.id)).all()
    for delivery_id, due in rows:
        with simulated_now(min(due or utcnow(), utcnow())):
            run_delivery(delivery_id)
    return len(rows)


def open_demo_incidents(since: datetime) -> list[int]:
    """Rosters, the detector over the stored days, the alerts and their deliveries (in their
    own units of work); the incidents opened."""
    from otklik.db.session import session_scope

    with session_scope() as session:
        load_rosters(session, Actor.system("demo"))
        opened = detect(session, since)
        alert_now(session, opened)
    record_deliveries(opened)
    return opened


def play_demo_incidents(opened: list[int]) -> dict[str, int]:
    """The people's work on the opened incidents: the Kalmykia HQ's story, the duty
    person's everyday acceptances and closures; the alert threads' lines recorded."""
    from otklik.db.session import session_scope

    outage_id = closed = 0
    with session_scope() as session:
        outage = kalmykia_outage(session, opened, utcnow())
        if outage is not None:
            outage_id = outage.id
            play_the_hq(session, outage.id, (
                Actor.system("Оператор ЦУР Республики Калмыкия"),
                Actor.system("Куратор ЦУР Республики Калмыкия")))
        closed = close_the_old(session, opened, utcnow(), skip=outage_id)
    record_deliveries(opened)
    return {"incidents": len(opened), "kalmykia": outage_id, "closed": closed}


def load_demo_incidents(since: datetime) -> dict[str, int]:
    """The whole step over cases whose lives are already played (a test's or a small
    world's): open, then work on them."""
    return play_demo_incidents(open_demo_incidents(since))
