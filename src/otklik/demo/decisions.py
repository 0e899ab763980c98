"""Demo management decisions following the stories of DESIGN.md, dated inside the demo's
90-day window so the registry shows each decision's effect on the messages.

Call :func:`load_demo_decisions` after the demo's messages and cases are loaded.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from otklik.analytics.schemas import reporting_day
from otklik.audit.actor import Actor
from otklik.db.base import utcnow
from otklik.decisions.schemas import DecisionCreate
from otklik.decisions.service import create_decision
from otklik.models.case import Case, Problem
from otklik.models.decision import Decision
from otklik.models.message import Message
from otklik.models.territory import Territory, TerritoryLevel

#: Karelia takes about 70 decisions a year on residents' messages: ~17 in 90 days.
KARELIA_PER_YEAR = 70
SEED = 70


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

#: (topic, title template, who decides, budget range in millions or None) for Karelia.
KARELIA_TEMPLATES = [
    ("roads", "Ямочный ремонт улиц: {place}", "Министерство транспорта Республики Карелия",
     (3, 40)),
    ("roads", "Включение дороги в программу ремонта: {place}", "Правительство Республики Карелия",
     (20, 150)),
    ("utilities", "Замена участка водопровода: {place}", "Министерство строительства и ЖКХ",
     (5, 60)),
    ("utilities", "Проверка качества питьевой воды: {place}", "Роспотребнадзор по Карелии", None),
    ("waste", "Дополнительные контейнерные площадки: {place}", "Региональный оператор ТКО",
     (1, 8)),
    ("transport", "Новый автобусный рейс по просьбам жителей: {place}",
     "Министерство транспорта Республики Карелия", None),
    ("improvement", "Благоустройство двора по обращениям жителей: {place}",
     "Администрация муниципалитета", (2, 15)),
    ("health", "Выездная бригада врачей: {place}",
     "Министерство здравоохранения Республики Карелия", None),
    ("housing", "Внеплановая проверка управляющей компании: {place}",
     "Государственная жилищная инспекция Республики Карелия", None),
    ("education", "Ремонт кровли школы: {place}", "Министерство образования Республики Карелия",
     (4, 25)),
    ("communications", "Подключение посёлка к мобильному интернету: {place}",
     "Министерство цифрового развития Республики Карелия", (1, 10)),
]


def _end(session: Session) -> date:
    latest = session.scalar(select(func.max(Message.created_at)))
    return reporting_day(latest or utcnow())


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


def _karelia(session: Session, end: date) -> list[_Plan]:
    rng = random.Random(SEED)
    places = list(session.execute(select(Territory.name).where(
        Territory.level == TerritoryLevel.municipality, Territory.region_code == "86")
        .order_by(Territory.population.desc().nulls_last()).limit(12)).scalars())
    count = round(KARELIA_PER_YEAR * 90 / 365)
    plans = []
    for i in range(count):
        topic, template, who, budget = KARELIA_TEMPLATES[i % len(KARELIA_TEMPLATES)]
        place = places[rng.randrange(len(places))] if places else "Петрозаводск"
        millions = rng.randint(*budget) if budget else None
        plans.append(_Plan(
            "86", template.format(place=place), who, rng.randrange(3, 88),
            millions * 1_000_000 if millions else None,
            "Решение принято по итогам анализа сообщений жителей, поступивших в ЦУР.",
            topics=[topic], places=[place]))
    return plans


def load_demo_decisions(session: Session, actor: Actor) -> int:
    """Record the stories' decisions and Karelia's yearly-rate set (idempotent by title)."""
    end = _end(session)
    created = 0
    for plan in [*STORIES, *_karelia(session, end)]:
        if _exists(session, plan.region, plan.title):
            continue
        municipalities = _municipalities(session, plan.region, plan.places)
        if plan.places and not municipalities:
            continue  # the region's territories are not loaded
        create_decision(session, actor, DecisionCreate(
            region_code=plan.region, title=plan.title, decided_by=plan.decided_by,
            decided_on=end - timedelta(days=plan.days_before_end), budget_rub=plan.budget,
            text=plan.text, topics=plan.topics, territory_ids=municipalities,
            problem_ids=_problems(session, plan.region, plan.problem_like)))
        created += 1
    return created
