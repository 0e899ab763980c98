"""Demo management decisions following the stories of DESIGN.md: the stories' decisions
dated inside the demo's 90-day window, and Karelia's year of decisions (about 70, planned by
:mod:`otklik.demo.karelia` across its archive and the window), so the registry shows each
decision's effect on the messages.

Call :func:`load_demo_decisions` after the demo's messages and cases are loaded.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from otklik.analytics.schemas import day_start_utc, reporting_day
from otklik.audit.actor import Actor
from otklik.db.base import utcnow
from otklik.decisions.schemas import DecisionCreate
from otklik.decisions.service import create_decision
from otklik.demo import karelia
from otklik.demo.stream_vocab import load_regions
from otklik.models.case import Case, Problem
from otklik.models.decision import Decision
from otklik.models.message import Message
from otklik.models.territory import Territory, TerritoryLevel


@dataclass
class _Plan:
    region: str
    title: str
    decided_by: str
    days_before_end: int
    budget: int | None
    text: str
    topics: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)  # municipality name fragments
    problem_like: list[str] = field(default_factory=list)  # problem title/street fragments


STORIES = [
    _Plan("68", "Капитальный ремонт путепровода на ул. Лаврова в Мичуринске (два этапа)",
          "Губернатор Тамбовской области", 15, 278_000_000,
          "По итогам прямой линии и обращений жителей выделено 278 млн рублей на капитальный "
          "ремонт путепровода на ул. Лаврова (около 22 тысяч машин в сутки) в два этапа "
          "с завершением до конца 2024 года.",
          topics=["roads"], places=["город Мичуринск"], problem_like=["Лаврова", "путепровод"]),
    _Plan("07", "Увеличение дорожного фонда края на 5 млрд рублей (до 18,4 млрд)",
          "Губернатор Ставропольского края", 50, 5_000_000_000,
          "Почти четверть сообщений жителей в социальных сетях касается состояния дорог. "
          "Дорожный фонд увеличен на 5 млрд рублей до рекордных 18,4 млрд рублей.",
          topics=["roads"]),
    _Plan("36", "Инвентаризация более 20 000 контейнерных площадок и графики вывоза ТКО",
          "Правительство Самарской области", 35, None,
          "По итогам анализа жалоб на контейнерные площадки по муниципалитетам проведена "
          "инвентаризация более 20 000 площадок; для сёл без площадок опубликованы графики "
          "движения мусоровозов.",
          topics=["waste"], problem_like=["площадк", "контейнер"]),
    _Plan("85", "Режим повышенной готовности в Лаганском районе, 3 млн рублей на водоснабжение",
          "Глава Правительства Республики Калмыкия", 39, 3_000_000,
          "После аварии на водозаборе более 12 тысяч жителей остались без воды. Введён режим "
          "повышенной готовности, штаб возглавил глава правительства, выделено 3 млн рублей, "
          "организован подвоз воды по графику с привлечением водовозов соседних районов.",
          topics=["utilities"], places=["Лаганский"], problem_like=["Лагань", "вод"]),
]

def _municipalities(session: Session, region: str, fragments: list[str]) -> list[int]:
    if not fragments:
        return []
    return list(session.scalars(select(Territory.id).where(
        Territory.level == TerritoryLevel.municipality, Territory.region_code == region,
        or_(*[Territory.name.contains(f) for f in fragments]))))


def _problems(session: Session, region: str, fragments: list[str], limit: int = 10
              ) -> list[int]:
    """The region's problems whose title or street mentions a fragment, biggest first."""
    if not fragments:
        return []
    like = or_(*[Problem.title.ilike(f"%{f}%") for f in fragments],
               *[Problem.street.ilike(f"%{f}%") for f in fragments])
    rows = session.execute(
        select(Problem.id).outerjoin(Case, Case.problem_id == Problem.id)
        .where(Problem.region_code == region, like).group_by(Problem.id)
        .order_by(func.count(Case.id).desc(), Problem.id).limit(limit))
    return [r[0] for r in rows]


def _exists(session: Session, region: str, title: str) -> bool:
    return session.scalar(select(Decision.id).where(
        Decision.region_code == region, Decision.title == title).limit(1)) is not None


def _karelia(session: Session, end: datetime) -> list[tuple[_Plan, date]]:
    """The year's planned decisions of Karelia (see :mod:`otklik.demo.karelia`) as plans,
    each with its date; those in the live window link the biggest problems of the subject."""
    rng = random.Random(karelia.SEED)
    settlements = [(s.municipality, s.population)
                   for s in load_regions()[karelia.REGION].settlements]
    plans = []
    for planned in karelia.plan_decisions(end, settlements):
        ids = _municipalities(session, karelia.REGION, [planned.municipality])
        if not ids:
            continue  # the region's territories are not loaded
        territory = session.get(Territory, ids[0])
        assert territory is not None
        template = planned.template
        millions = rng.randint(*template.budget) if template.budget else None
        plan = _Plan(
            karelia.REGION, karelia.decision_title(planned, territory.name),
            template.decided_by, 0, millions * 1_000_000 if millions else None,
            f"Решение принято по итогам анализа сообщений жителей ({territory.name}), "
            "поступивших в ЦУР Республики Карелия.",
            topics=[template.topic], places=[territory.name])
        plans.append((plan, planned.day))
    return plans


def _subject_problems(session: Session, region: str, topic: str, municipality_ids: list[int],
                      before: date, limit: int = 3) -> list[int]:
    """The biggest problems on the topic in the municipalities seen before the date."""
    rows = session.execute(
        select(Problem.id).where(Problem.region_code == region, Problem.topic == topic,
                                 Problem.municipality_id.in_(municipality_ids),
                                 Problem.first_seen < day_start_utc(before))
        .order_by(Problem.size.desc(), Problem.id).limit(limit))
    return [r[0] for r in rows]


def load_demo_decisions(session: Session, actor: Actor, end: datetime | None = None) -> int:
    """Record the stories' decisions and Karelia's year of decisions (idempotent by title);
    ``end``: where the demo's stream ends (the latest message by default)."""
    latest = end or session.scalar(select(func.max(Message.created_at))) or utcnow()
    today = reporting_day(latest)
    dated = [(plan, today - timedelta(days=plan.days_before_end)) for plan in STORIES]
    created = 0
    for plan, decided_on in [*dated, *_karelia(session, latest)]:
        if _exists(session, plan.region, plan.title):
            continue
        municipalities = _municipalities(session, plan.region, plan.places)
        if plan.places and not municipalities:
            continue  # the region's territories are not loaded
        problems = _problems(session, plan.region, plan.problem_like)
        if not problems and plan.region == karelia.REGION and plan.topics:
            problems = _subject_problems(session, plan.region, plan.topics[0], municipalities,
                                         decided_on)
        create_decision(session, actor, DecisionCreate(
            region_code=plan.region, title=plan.title, decided_by=plan.decided_by,
            decided_on=decided_on, budget_rub=plan.budget, text=plan.text,
            topics=plan.topics, territory_ids=municipalities, problem_ids=problems))
        created += 1
    return created
