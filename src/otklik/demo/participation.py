"""The demo's participation (DESIGN.md stories 2 and 6): a finished direct line of the governor
of Tambov oblast with the Michurinsk overpass question on top — answered on air, its promise
on control with two stages and turned into the 278 M-ruble decision — and the software
engineer's proposal (Karelia) on its path through the statuses, with a meeting and support.

Call :func:`load_demo_participation` after the demo's decisions are loaded; idempotent (a
second run finds the line by its title and the proposal by its message).
"""

from __future__ import annotations

import csv
import tempfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from otklik.audit.actor import Actor
from otklik.db.base import utcnow
from otklik.demo.stream_stories import DIRECT_LINE_DAYS_BEFORE_END
from otklik.models.case import Answer
from otklik.models.decision import Decision
from otklik.models.message import Message, MessageEnrichment
from otklik.models.organization import Organization
from otklik.models.participation import Campaign, CampaignQuestion, ProposalEvent
from otklik.participation import campaigns, promises, proposals
from otklik.participation.schemas import (
    CampaignCreate,
    PromiseCreate,
    PromiseDecision,
    StageIn,
)

REGION = "68"
TITLE = "Прямая линия губернатора Тамбовской области"
MOSCOW = ZoneInfo("Europe/Moscow")
OVERPASS_DECISION = "Капитальный ремонт путепровода на ул. Лаврова в Мичуринске (два этапа)"
OVERPASS = ("Когда отремонтируют путепровод на улице Лаврова в Мичуринске? По нему каждый день "
            "едут тысячи машин, плиты крошатся, стоим в пробках.")
#: The hotline's list: (text, topic, district, urgency, how many residents asked it).
HOTLINE = [
    (OVERPASS, "roads", "Мичуринск", "", 14),
    ("Почему в Котовске третью неделю нет горячей воды в домах на улице Октябрьской?",
     "utilities", "Котовск", "high", 6),
    ("Когда в Моршанской ЦРБ появится постоянный детский врач? Ездим в Тамбов за 90 км.",
     "health", "Моршанск", "", 5),
    ("Верните вечерний автобус из Рассказово в Тамбов, людям не добраться с работы.",
     "transport", "Рассказово", "", 4),
    ("Когда засыплют ямы на улице Советской в Тамбове? Каждый день повреждаем колёса.",
     "roads", "Тамбов", "", 3),
    ("Контейнерную площадку на Интернациональной в Тамбове не убирают неделями.",
     "waste", "Тамбов", "", 2),
    ("Прошу помочь с ремонтом крыши школы в селе Стрелецкое: течёт прямо в классы.",
     "education", "Тамбовский", "", 1),
]
VARIANTS = ("", " Сколько можно ждать?", " Ответьте, пожалуйста.", " Это же опасно!")


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=MOSCOW)


def _hotline_file(folder: Path, opens: date, closes: date) -> Path:
    path = folder / "hotline.csv"
    rows, n = [], 0
    span = max(1, (closes - opens).days)
    for text, topic, place, urgency, asked in HOTLINE:
        for k in range(asked):
            n += 1
            day = opens + timedelta(days=(n * 3) % span)
            rows.append([f"hl-{n}", f"{day:%d.%m.%Y} {9 + n % 8}:15", text + VARIANTS[k % 4],
                         topic, place, urgency, f"+7 900 000-{n:02d}-{k:02d}"])
    # one call after the window closed: kept and marked late
    rows.append(["hl-late", f"{closes + timedelta(days=1):%d.%m.%Y} 10:00",
                 "Успею ли задать вопрос про освещение в Уварово? Темно на всей улице Мира.",
                 "utilities", "Уварово", "", "+7 900 000-99-99"])
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["id", "Дата", "Текст", "Тема", "Район", "Срочность", "author_id"])
        writer.writerows(rows)
    return path


def _organization(session: Session, region: str, like: str) -> Organization | None:
    return session.scalar(select(Organization).where(
        Organization.region_code == region, Organization.name.contains(like))
        .order_by(Organization.id).limit(1))


def load_demo_participation(session: Session, actor: Actor, end: datetime | None = None
                            ) -> bool:
    """The Tambov direct line and the Karelian proposal; False when already loaded."""
    if session.scalar(select(Campaign.id).where(Campaign.region_code == REGION,
                                                Campaign.title == TITLE)) is not None:
        return False
    latest = end or session.scalar(select(func.max(Message.created_at))) or utcnow()
    air_day = (latest - timedelta(days=DIRECT_LINE_DAYS_BEFORE_END)).astimezone(MOSCOW).date()
    campaign = campaigns.create_campaign(session, actor, CampaignCreate(
        region_code=REGION, title=TITLE, opens_at=_at(air_day - timedelta(days=21), 9),
        closes_at=_at(air_day - timedelta(days=1), 18), air_at=_at(air_day, 12),
        announcement_urls=[]))
    campaigns.collect_window(session, actor, campaign.id)
    with tempfile.TemporaryDirectory() as folder:
        campaigns.import_hotline(session, actor, campaign.id, _hotline_file(
            Path(folder), campaign.opens_at.date(), campaign.closes_at.date()))
    picks = campaigns.propose_picks(session, actor, campaign.id, limit=8)
    for pick in picks[:5]:
        campaigns.confirm(session, actor, pick.question_id)
    _air(session, actor, campaign)
    _proposal(session, actor, latest)
    return True


def _question(session: Session, campaign: Campaign, starts: str) -> CampaignQuestion | None:
    return session.scalar(select(CampaignQuestion).where(
        CampaignQuestion.campaign_id == campaign.id, CampaignQuestion.duplicate_of_id.is_(None),
        CampaignQuestion.text.startswith(starts)).order_by(CampaignQuestion.id).limit(1))


def _air(session: Session, actor: Actor, campaign: Campaign) -> None:
    """What happened on air and after: answers, promises, the decision, control."""
    overpass = _question(session, campaign, OVERPASS[:40])
    michurinsk = _organization(session, REGION, "Мичуринска")
    roads = _organization(session, REGION, "транспорта")
    if overpass is None or michurinsk is None:
        return
    campaigns.record_answer(session, actor, overpass.id,
                            "Губернатор: капитальный ремонт путепровода будет выполнен в два "
                            "этапа, средства предусмотрены в бюджете области.")
    air_day = campaign.air_at.astimezone(MOSCOW).date()
    promise = promises.make_promise(session, actor, overpass.id, PromiseCreate(
        text="Капитальный ремонт путепровода на ул. Лаврова в два этапа",
        organization_id=michurinsk.id, due_on=date(air_day.year + 1, 12, 31),
        stages=[StageIn(title="Этап 1: проект и экспертиза", due_on=air_day + timedelta(days=60)),
                StageIn(title="Этап 2: капитальный ремонт и открытие движения",
                        due_on=date(air_day.year + 1, 12, 31))]))
    promises.stage_done(session, actor, promise.id, 0, air_day + timedelta(days=9))
    decision = session.scalar(select(Decision.id).where(
        Decision.region_code == REGION, Decision.title == OVERPASS_DECISION))
    promises.to_decision(session, actor, promise.id, PromiseDecision(decision_id=decision)
                         if decision is not None else PromiseDecision(
        title=OVERPASS_DECISION, decided_on=air_day + timedelta(days=3),
        decided_by="Губернатор Тамбовской области", budget_rub=278_000_000))
    pits = _question(session, campaign, "Когда засыплют ямы")
    if pits is not None and roads is not None:
        # a promise of ten working days after the air: late by now, the report shows it
        promises.make_promise(session, actor, pits.id, PromiseCreate(
            text="Ямочный ремонт улицы Советской", organization_id=roads.id, working_days=10))
    campaigns.finish(session, actor, campaign.id)


def _proposal(session: Session, actor: Actor, latest: datetime) -> None:
    """The software engineer's proposal (story 6): under review, a meeting with the medical
    academy, accepted, in work; the residents who supported it under the post."""
    row = session.execute(
        select(Message, MessageEnrichment)
        .join(MessageEnrichment, MessageEnrichment.message_id == Message.id)
        .where(Message.text.contains("программу для общения"), Message.deleted_at.is_(None))
        .order_by(Message.created_at).limit(1)).first()
    if row is None:
        return
    message, enrichment = row
    body = _organization(session, enrichment.region_code or message.region_code or "",
                         "социальной защиты")
    proposal = proposals.from_message(session, actor, message, enrichment,
                                      body.id if body else None)
    if proposal.status != "received":
        return
    if message.parent_id is not None:
        thread = list(session.scalars(select(Message.id).where(
            Message.parent_id == message.parent_id)))
        proposals.collect_messages(session, thread)
    start = message.created_at
    steps = [("under_review", None, 1), ("meeting", None, 6), ("accepted", None, 8),
             ("in_work", None, 20)]
    for step, _, days in steps:
        if step == "meeting":
            proposals.record_meeting(
                session, actor, proposal.id, (start + timedelta(days=days)).date(),
                "Встреча автора с Медицинской академией: договорились о тестировании "
                "программы в реабилитационном отделении.")
        else:
            proposals.change_status(session, actor, proposal.id, step)
        _backdate(session, proposal.id, min(start + timedelta(days=days), latest))
    for n in range(12):  # residents who supported it through the region's bot
        proposals.support(session, actor, proposal.id, "telegram", f"demo-supporter-{n}")
    notices = session.scalars(select(Answer).where(
        Answer.case_id == proposal.case_id, Answer.kind == "notice",
        Answer.status == "on_moderation")).all()
    for notice in notices:
        proposals.approve_notice(session, Actor.system("demo moderator"), notice.id)


def _backdate(session: Session, proposal_id: int, when: datetime) -> None:
    """The demo's story happened over weeks: the last step gets its day."""
    event = session.scalar(select(ProposalEvent).where(ProposalEvent.proposal_id == proposal_id)
                           .order_by(ProposalEvent.id.desc()).limit(1))
    if event is not None:
        event.at = when
