"""The demo's bloggers' grant contest in Tambov (story 7 of DESIGN.md): four tracks,
applications in March, an expert panel of the center, 15 winners, grants of
150,000–350,000 rubles.

48 applications (12 a track), six experts (three a track), two declared conflicts of
interest, every application scored; one expert («строгий эксперт», expert6) scores far
below the others on the video track, so the results show outliers. Requested amounts and
budgets are such that the ranked winners fit every track's budget. Expert logins are
expert1 … expert6 with the demo password.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from otklik.accounts.repository import AccountRepository
from otklik.accounts.schemas import UserCreate
from otklik.accounts.service import actor_for, create_user
from otklik.audit.actor import Actor
from otklik.contests import service
from otklik.contests.repository import ContestRepository
from otklik.contests.schemas import (
    ApplicationCreate,
    ContestCreate,
    ContestUpdate,
    CriterionCreate,
    ExpertAssign,
    ReviewSubmit,
    ScoreIn,
    TrackCreate,
)
from otklik.db.base import utcnow
from otklik.models.account import Role

REGION = "68"
TITLE = "Грант для блогеров Тамбовской области"
TRACKS = (("Видеоблоги", 1_200_000, 4), ("Тексты и лонгриды", 1_200_000, 4),
          ("Подкасты", 900_000, 3), ("Фото и визуальные истории", 1_200_000, 4))
CRITERIA = (("Социальная значимость", 3.0), ("Качество контента", 2.0),
            ("Охват и вовлечённость аудитории", 1.0), ("Реалистичность бюджета", 1.0))
EXPERTS = ("Анна Соколова", "Игорь Белов", "Марина Кузнецова", "Дмитрий Орлов",
           "Елена Васильева", "Павел Громов (строгий эксперт)")
#: Expert index → track indexes.
PANELS = {0: (0, 1), 1: (0, 2), 2: (1, 3), 3: (2, 3), 4: (1, 2, 3), 5: (0,)}
TOPICS = ("Мичуринск: город-наукоград", "Тамбовские усадьбы", "Моршанск и его люди",
          "Волонтёры Кирсанова", "Рецепты тамбовской кухни", "Экотропы области",
          "Спорт во дворах", "Молодые фермеры", "История Рассказово", "Дороги и мосты",
          "Музеи Тамбова", "Сельские школы")
NAMES = ("Алексей", "Ольга", "Сергей", "Наталья", "Кирилл", "Юлия", "Роман", "Вера",
         "Денис", "Полина", "Артём", "Ксения")


def _march(today: date) -> date:
    """The last March 1st that has passed with its month (applications in March)."""
    return date(today.year if today.month > 3 else today.year - 1, 3, 1)


def _experts(session: Session, actor: Actor, password: str) -> list[int]:
    accounts = AccountRepository(session)
    ids = []
    for index, full_name in enumerate(EXPERTS, start=1):
        user = accounts.by_username(f"expert{index}")
        if user is None:
            user = create_user(session, actor, UserCreate(
                username=f"expert{index}", password=password, role=Role.expert,
                full_name=full_name, region_codes=[REGION]), is_demo=True)
        ids.append(user.id)
    return ids


def load_demo_contest(session: Session, actor: Actor, password: str, seed: int = 7) -> int:
    """Create, fill, score and close the demo contest once; its id."""
    existing = [c for c in ContestRepository(session).contests(actor.scope) if c.title == TITLE]
    if existing:
        return existing[0].id
    rng = random.Random(seed)
    opens = _march(utcnow().date())
    contest = service.create_contest(session, actor, ContestCreate(
        region_code=REGION, title=TITLE, opens_on=opens, closes_on=opens + timedelta(days=30),
        description="Региональный конкурс грантов для блогеров: четыре трека, 15 победителей, "
                    "гранты от 150 000 до 350 000 ₽. Экспертный совет ЦУР.",
        tracks=[TrackCreate(title=t, budget_rub=b, grant_min_rub=150_000,
                            grant_max_rub=350_000, winners=w) for t, b, w in TRACKS],
        criteria=[CriterionCreate(title=t, scale_max=10, weight=w) for t, w in CRITERIA]))
    read = service.read_contest(session, contest)
    tracks = [t.id for t in read.tracks]
    criteria = [c.id for c in read.criteria]
    experts = _experts(session, actor, password)
    for expert, panels in PANELS.items():
        for track in panels:
            service.assign_expert(session, actor, contest.id,
                                  ExpertAssign(user_id=experts[expert], track_id=tracks[track]))
    service.update_contest(session, actor, contest.id, ContestUpdate(status="open"))
    quality: dict[int, float] = {}
    by_track: dict[int, list[int]] = {t: [] for t in range(len(tracks))}
    for track in range(len(tracks)):
        for n in range(12):
            name = NAMES[(n + 3 * track) % len(NAMES)]
            at = datetime.combine(opens, datetime.min.time(), UTC) + timedelta(
                days=rng.randint(0, 29), hours=rng.randint(8, 22), minutes=rng.randint(0, 59))
            application, _ = service.add_application(session, actor, contest.id,
                ApplicationCreate(
                    track_id=tracks[track], applicant=f"{name} {chr(0x410 + n)}.",
                    contact=f"blogger{track}{n}@example.org",
                    title=f"{TOPICS[n]}: {TRACKS[track][0].lower()}",
                    summary=f"Цикл материалов «{TOPICS[n]}» для жителей области.",
                    requested_rub=rng.randrange(150_000, 300_001, 10_000)),
                source="form", submitted_at=at)
            quality[application.id] = rng.uniform(3.5, 9.0)
            by_track[track].append(application.id)
    # two declared conflicts: expert1 on a video application, expert5 on a podcast one
    conflicts = ((0, by_track[0][2], "Автор — мой соавтор по каналу"),
                 (4, by_track[2][5], "Заявитель — мой родственник"))
    for expert, application_id, reason in conflicts:
        user = AccountRepository(session).get(experts[expert])
        assert user is not None
        service.declare_conflict(session, actor_for(session, user), application_id, reason)
    service.update_contest(session, actor, contest.id, ContestUpdate(status="scoring"))
    for expert, panels in PANELS.items():
        user = AccountRepository(session).get(experts[expert])
        assert user is not None
        expert_actor = actor_for(session, user)
        harsh = 4.5 if expert == 5 else 0.0
        for track in panels:
            for application_id in by_track[track]:
                if (expert, application_id) in {(e, a) for e, a, _ in conflicts}:
                    continue
                q = quality[application_id] - harsh
                scores = [ScoreIn(criterion_id=c, value=max(0, min(10, round(
                    q + rng.gauss(0, 0.8))))) for c in criteria]
                service.submit_review(session, expert_actor, application_id,
                                      ReviewSubmit(scores=scores))
    service.update_contest(session, actor, contest.id, ContestUpdate(status="closed"))
    return contest.id
