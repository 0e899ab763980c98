"""A small hand-built world for analytics tests: messages, cases, answers, problems in two
regions over two months, with the plain-Python facts to count them by."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from otklik.models.case import Answer, Case, CaseMessage, CaseStatus, Problem
from otklik.models.message import Message, MessageEnrichment
from otklik.models.organization import Organization
from otklik.models.territory import Territory, TerritoryLevel

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
MSK = timedelta(hours=3)
TOPICS = ("roads", "waste", "utilities", None)
SENTIMENTS = ("negative", "neutral", "positive")
SOURCES = ("vk", "telegram", "web")
TEXTS = {
    "roads": "На улице Лаврова опять яма на яме, колёса бьём каждый день",
    "waste": "Контейнерная площадка переполнена, мусор не вывозят неделю",
    "utilities": "Третий день нет горячей воды в доме на Советской",
    None: "Подскажите, куда обращаться по этому вопросу?",
}


@dataclass
class FCase:
    """A case as the fixture knows it (for direct counts)."""

    id: int
    region: str
    municipality: int | None
    topic: str | None
    source: str
    executor: int | None
    status: CaseStatus
    received: datetime
    first_response: datetime | None
    answered: datetime | None
    due: datetime | None
    reopen: int
    problem: int | None
    sent_final: list[bool] = field(default_factory=list)  # quality ok of sent final answers


@dataclass
class FMessage:
    """A message as the fixture knows it."""

    id: int
    created: datetime
    relevant: bool
    region: str | None
    municipality: int | None
    topic: str | None
    sentiment: str
    source: str
    case: FCase | None = None


@dataclass
class World:
    """The facts of the fixture."""

    messages: list[FMessage]
    cases: list[FCase]
    municipalities: dict[str, list[int]]
    executors: list[int]
    problems: list[int]

    def msk_day(self, moment: datetime) -> date:
        """The Moscow-time day of a moment."""
        return (moment + MSK).date()


def _municipalities(session: Session, region: str, n: int) -> list[int]:
    rows = session.scalars(select(Territory.id).where(
        Territory.level == TerritoryLevel.municipality, Territory.region_code == region)
        .order_by(Territory.population.desc().nulls_last(), Territory.id).limit(n))
    return list(rows)


def _executors(session: Session, region: str, n: int) -> list[int]:
    return list(session.scalars(select(Organization.id).where(
        Organization.region_code == region).order_by(Organization.id).limit(n)))


@pytest.fixture
def world(session: Session) -> World:
    """~200 messages and their cases in Tambov (68) and Stavropol (07), October-November
    2026, including moments near midnight Moscow time."""
    rng = random.Random(20261129)
    municipalities = {"68": _municipalities(session, "68", 3),
                      "07": _municipalities(session, "07", 2)}
    executors = _executors(session, "68", 3) + _executors(session, "07", 2)
    by_region = {"68": executors[:3], "07": executors[3:]}
    problems = []
    for region, title in (("68", "Путепровод на ул. Лаврова"), ("07", "Ямы на трассе")):
        problem = Problem(region_code=region, title=title, topic="roads",
                          municipality_id=municipalities[region][0],
                          first_seen=NOW - timedelta(days=60), last_seen=NOW, size=0)
        session.add(problem)
        session.flush()
        problems.append(problem.id)
    start = datetime(2026, 9, 30, 21, 0, tzinfo=UTC)  # 1 Oct 00:00 MSK
    messages: list[FMessage] = []
    cases: list[FCase] = []
    for i in range(220):
        if i % 17 == 0:  # right at a Moscow midnight: belongs to the new day
            day = rng.randrange(0, 60)
            created = start + timedelta(days=day, minutes=rng.choice((-1, 0, 1)))
        else:
            created = start + timedelta(minutes=rng.randrange(0, 61 * 24 * 60))
        region = rng.choice(("68", "68", "07"))
        municipality = rng.choice([*municipalities[region], None])
        topic = rng.choice(TOPICS)
        relevant = rng.random() > 0.1
        source = rng.choice(SOURCES)
        sentiment = rng.choice(SENTIMENTS)
        message = Message(
            source=source, source_id=f"analytics-{i}", region_code=region, text=TEXTS[topic],
            text_length=len(TEXTS[topic]), content_hash=f"h{i}", created_at=created,
            received_at=created, enrich_status="done", attachments=[], raw={})
        session.add(message)
        session.flush()
        session.add(MessageEnrichment(
            message_id=message.id, relevant=relevant, topic=topic, sentiment=sentiment,
            region_code=region, municipality_id=municipality, result={}))
        fm = FMessage(message.id, created, relevant, region, municipality, topic, sentiment,
                      source)
        messages.append(fm)
        if relevant and rng.random() < 0.6:
            fm.case = _case(session, rng, fm, by_region[region], problems, cases)
    session.flush()
    return World(messages, cases, municipalities, executors, problems)


def _case(session: Session, rng: random.Random, fm: FMessage, executors: list[int],
          problems: list[int], cases: list[FCase]) -> FCase:
    received = fm.created + timedelta(minutes=rng.randrange(1, 90))
    due = received + timedelta(hours=rng.choice((24, 72, 120)))
    status = rng.choice([CaseStatus.closed, CaseStatus.answered, CaseStatus.in_work,
                         CaseStatus.routed, CaseStatus.rejected, CaseStatus.closed])
    answered = first = None
    if status in (CaseStatus.closed, CaseStatus.answered):
        answered = received + timedelta(hours=rng.uniform(2, 160))
        first = received + timedelta(hours=rng.uniform(0.5, 30))
    elif status == CaseStatus.in_work and rng.random() < 0.5:
        first = received + timedelta(hours=rng.uniform(0.5, 30))
    if answered and answered > NOW:
        answered = first = None
        status = CaseStatus.in_work
    if first and first > NOW:
        first = None
    executor = rng.choice([*executors, None]) if status != CaseStatus.routed else executors[0]
    problem = rng.choice(problems) if fm.topic == "roads" and rng.random() < 0.7 else None
    case = Case(region_code=fm.region, status=status, title=TEXTS[fm.topic][:60],
                topic=fm.topic, source=fm.source, municipality_id=fm.municipality,
                executor_id=executor, problem_id=problem, received_at=received,
                resolution_due=due, first_response_at=first, answered_at=answered,
                reopen_count=rng.choice((0, 0, 0, 1)) if answered else 0, routing={},
                pauses=[])
    session.add(case)
    session.flush()
    session.add(CaseMessage(message_id=fm.id, case_id=case.id, is_primary=True))
    fc = FCase(case.id, fm.region or "", fm.municipality, fm.topic, fm.source, executor,
               status, received, first, answered, due, case.reopen_count, problem)
    if answered:
        for _ in range(rng.choice((1, 1, 2))):
            ok = rng.random() > 0.3
            session.add(Answer(case_id=case.id, kind="final", text="Ответ исполнителя",
                               status="approved", organization_id=executor,
                               quality={"ok": ok, "score": 0.5, "flags": []}))
            fc.sent_final.append(ok)
    # A blocked draft must not count as a brush-off: it never reached the resident.
    session.add(Answer(case_id=case.id, kind="final", text="Черновик", status="draft",
                       organization_id=executor, quality={"ok": False, "flags": []}))
    cases.append(fc)
    return fc
