"""The demo's official pages (госпаблики): a few hundred pages across the five regions —
mostly schools and kindergartens, a flagship page of each regional government and of the
municipal administrations — with eight weeks of posts, residents' comments and the pages'
answers, daily subscribers and profile facts, and the weekly ratings computed from them.

Each page has a hidden diligence that drifts week to week, so the rating moves. A small
share of residents' comments also enters the message stream (through intake's store), as
collected comments do; the rest stay in the pages' tables, which keeps the demo fast. The
demo owner account belongs to the Michurinsk administration, which has two pages.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from otklik.accounts.repository import AccountRepository
from otklik.accounts.schemas import UserCreate
from otklik.accounts.service import create_user
from otklik.audit.actor import Actor
from otklik.channels.schemas import IncomingMessage, Source
from otklik.demo.loader import DemoLogin
from otklik.demo.organizations import DEMO_REGIONS
from otklik.intake.service import store_messages
from otklik.models.account import Role
from otklik.models.organization import Organization, OrganizationKind, OrganizationTerritory
from otklik.models.publics import PageComment, PagePost, PageSnapshot, PublicPage
from otklik.models.territory import Territory, TerritoryLevel
from otklik.publics import service
from otklik.publics.vocabulary import PROFILE_FACTS
from otklik.publics.weeks import Week

#: Pages per region and the weeks of history.
PAGES_PER_REGION = 60
WEEKS = 8
#: One resident's comment in this many enters the message stream.
STREAM_SHARE = 40
OWNER_MUNICIPALITY_HINT = "Мичуринск"

_MIX = (("school", 0.45), ("kindergarten", 0.30), ("culture", 0.08), ("sport", 0.05),
        ("hospital", 0.04), ("college", 0.04), ("social", 0.04))
_NAMES = {
    "school": "МБОУ «Средняя общеобразовательная школа №{n}»",
    "kindergarten": "МБДОУ «Детский сад №{n}»",
    "culture": "МБУК «Дом культуры №{n}»",
    "sport": "МБУ «Спортивная школа №{n}»",
    "hospital": "ГБУЗ «Поликлиника №{n}»",
    "college": "ТОГАПОУ «Колледж №{n}»",
    "social": "Центр социального обслуживания №{n}",
}
_KINDS = ("text", "photo", "photo", "video", "link", "poll")
_QUESTIONS = (
    "Когда откроют спортзал после ремонта?",
    "Подскажите, как записаться в кружок робототехники?",
    "Почему не работает электронный дневник?",
    "Будет ли автобус до школы зимой?",
    "Где посмотреть меню столовой на неделю?",
    "Когда начнётся запись в первый класс?",
    "Сколько мест осталось в группе продлённого дня?",
)


def _pick_type(rng: random.Random) -> str:
    roll, total = rng.random(), 0.0
    for page_type, share in _MIX:
        total += share
        if roll < total:
            return page_type
    return "school"


def _municipalities(session: Session, region: str) -> list[Territory]:
    return list(session.scalars(select(Territory).where(
        Territory.region_code == region, Territory.level == TerritoryLevel.municipality)
        .order_by(Territory.id)))


def _municipal_admins(session: Session, region: str) -> dict[int, int]:
    rows = session.execute(
        select(OrganizationTerritory.territory_id, Organization.id)
        .join(Organization, Organization.id == OrganizationTerritory.organization_id)
        .where(Organization.region_code == region,
               Organization.kind == OrganizationKind.municipal_admin))
    return {t: o for t, o in rows}


def _government(session: Session, region: str) -> Organization | None:
    return session.scalar(select(Organization).where(
        Organization.region_code == region,
        Organization.kind == OrganizationKind.management_center))


def _plan(session: Session, rng: random.Random) -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = []
    serial = 0
    for region in DEMO_REGIONS:
        towns = _municipalities(session, region)
        if not towns:
            continue
        admins = _municipal_admins(session, region)
        center = _government(session, region)
        capital = towns[0]
        pages.append({"name": f"Правительство {DEMO_REGIONS[region]}", "type": "government",
                      "class": "flagship", "town": capital, "org": center.id if center
                      else None, "platform": "vk"})
        for town in towns[: min(3, len(towns))] + [t for t in towns
                                                   if OWNER_MUNICIPALITY_HINT in t.name]:
            org = admins.get(town.id)
            pages.append({"name": f"Администрация: {town.name}", "type": "municipality",
                          "class": "flagship" if town is capital else "active", "town": town,
                          "org": org, "platform": "vk"})
            if OWNER_MUNICIPALITY_HINT in town.name:
                pages.append({"name": f"Администрация: {town.name} (Telegram)",
                              "type": "municipality", "class": "active", "town": town,
                              "org": org, "platform": "telegram"})
        counters: dict[tuple[str, int], int] = {}
        while len([p for p in pages if p["town"].region_code == region]) < PAGES_PER_REGION:
            page_type = _pick_type(rng)
            town = rng.choice(towns)
            number = counters.get((page_type, town.id), 0) + 1
            counters[(page_type, town.id)] = number
            name = _NAMES[page_type].format(n=number) + f", {town.short_name or town.name}"
            pages.append({"name": name, "type": page_type,
                          "class": rng.choices(("active", "card"), (0.8, 0.2))[0],
                          "town": town, "org": None, "platform": "vk"})
    for page in pages:
        serial += 1
        page["external_id"] = (f"@demo_page_{serial}" if page["platform"] == "telegram"
                               else str(-(200_000_000 + serial)))
        page["url"] = (f"https://t.me/demo_page_{serial}" if page["platform"] == "telegram"
                       else f"https://vk.com/club{200_000_000 + serial}")
    return pages


def load_demo_publics(session: Session, actor: Actor, end: datetime, *, seed: int = 42,
                      password: str = "demo",
                      progress: Callable[[int], None] | None = None) -> int:
    """Generate the pages, their weeks and ratings once (a second run does nothing);
    the number of pages added."""
    if session.scalar(select(PublicPage.id).limit(1)) is not None:
        return 0
    rng = random.Random(seed)
    plan = _plan(session, rng)
    rows = []
    for page in plan:
        rows.append(PublicPage(
            region_code=page["town"].region_code, platform=page["platform"],
            external_id=page["external_id"], url=page["url"], name=page["name"][:500],
            owner_name=page["name"].split(",")[0][:500], organization_id=page["org"],
            municipality_id=page["town"].id, page_type=page["type"],
            page_class=page["class"], status="active"))
    session.add_all(rows)
    session.flush()
    last = Week.of(end).previous()
    weeks = [Week(last.monday - timedelta(days=7 * k)) for k in reversed(range(WEEKS))]
    stream: list[IncomingMessage] = []
    for row in rows:
        _history(session, rng, row, weeks, stream)
        if progress:
            progress(1)
    if stream:
        store_messages(session, stream, enqueue=False)
    service.ensure_methodology(session, actor)
    for week in weeks:
        service.compute_week(session, actor, week)
    _owner(session, actor, rows, password)
    return len(rows)


def _history(session: Session, rng: random.Random, page: PublicPage, weeks: list[Week],
             stream: list[IncomingMessage]) -> None:
    flagship = page.page_class == "flagship"
    diligence = min(0.95, max(0.05, rng.betavariate(2.5, 2.0) + (0.25 if flagship else 0)))
    subscribers = int(rng.lognormvariate(6.5 if not flagship else 9.5, 0.7))
    facts = {fact: rng.random() < 0.35 + 0.6 * diligence for fact in PROFILE_FACTS}
    posts: list[dict[str, Any]] = []
    comments: list[dict[str, Any]] = []
    snapshots: list[dict[str, Any]] = []
    owner = page.external_id
    serial = 0
    for week in weeks:
        diligence = min(0.97, max(0.03, diligence + rng.gauss(0, 0.12)))
        if rng.random() < 0.04:
            continue  # a silent week: "нет данных" for that week
        for day in range(7):
            subscribers += int(rng.gauss(subscribers * 0.001 * (diligence * 3 - 0.8), 2))
            snapshots.append({"page_id": page.id, "day": week.monday + timedelta(days=day),
                              "subscribers": max(10, subscribers), "facts": facts,
                              "facts_present": sum(facts.values()),
                              "facts_total": len(facts)})
        if rng.random() < 0.3 * diligence:
            missing = [f for f, v in facts.items() if not v]
            if missing:
                facts = {**facts, rng.choice(missing): True}
        count = _poisson(rng, (8 if flagship else 5) * diligence)
        for _ in range(count):
            serial += 1
            at = week.start + timedelta(hours=rng.uniform(6, 7 * 24 - 2))
            views = int(subscribers * rng.uniform(0.08, 0.5))
            likes = int(views * rng.uniform(0.005, 0.05) * (0.5 + diligence))
            asked = _poisson(rng, 0.4 + 1.2 * (1 - diligence) + (1.5 if flagship else 0))
            post_id = str(serial)
            posts.append({"page_id": page.id, "post_id": post_id, "posted_at": at,
                          "kind": rng.choice(_KINDS[: 2 + int(diligence * 4)]),
                          "views": views, "likes": likes, "reposts": likes // 8,
                          "comments": asked, "pinned": False})
            for _ in range(asked):
                serial += 1
                created = at + timedelta(hours=rng.uniform(0.2, 30))
                comment_id = str(serial)
                comments.append({"page_id": page.id, "post_id": post_id,
                                 "comment_id": comment_id, "reply_to": None,
                                 "author_id": str(rng.randint(10_000, 9_999_999)),
                                 "from_page": False, "needs_answer": True,
                                 "created_at": created})
                if rng.random() < 0.25 + 0.75 * diligence:
                    serial += 1
                    delay = rng.expovariate(1 / (2 + 30 * (1 - diligence)))
                    comments.append({"page_id": page.id, "post_id": post_id,
                                     "comment_id": str(serial), "reply_to": comment_id,
                                     "author_id": owner, "from_page": True,
                                     "needs_answer": False,
                                     "created_at": created + timedelta(hours=delay)})
                if page.platform == "vk" and rng.randrange(STREAM_SHARE) == 0:
                    stream.append(_message(rng, page, post_id, comment_id, created))
    for table, batch in ((PageSnapshot, snapshots), (PagePost, posts),
                         (PageComment, comments)):
        if batch:
            session.execute(insert(table), batch)


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _message(rng: random.Random, page: PublicPage, post_id: str, comment_id: str,
             created: datetime) -> IncomingMessage:
    owner = page.external_id
    return IncomingMessage(
        source=Source.vk, source_id=f"wall{owner}_{post_id}_{comment_id}",
        parent_source_id=f"wall{owner}_{post_id}", owner_id=owner, post_id=post_id,
        comment_id=comment_id, author_id=str(rng.randint(10_000, 9_999_999)),
        text=rng.choice(_QUESTIONS), created_at=created,
        url=f"https://vk.com/wall{owner}_{post_id}?reply={comment_id}",
        region=page.region_code, channel=page.name[:255])


def _owner(session: Session, actor: Actor, pages: list[PublicPage], password: str) -> None:
    """The demo page owner: the Michurinsk administration's pages."""
    owned = [p for p in pages if p.organization_id and OWNER_MUNICIPALITY_HINT in p.name]
    if not owned or AccountRepository(session).by_username("owner") is not None:
        return
    create_user(session, actor, UserCreate(
        username="owner", password=password, role=Role.owner,
        full_name=f"Владелец страниц: {owned[0].owner_name}",
        region_codes=[owned[0].region_code], organization_id=owned[0].organization_id),
        is_demo=True)


def owner_login(session: Session) -> DemoLogin | None:
    """The demo owner's login line, when the demo made it."""
    user = AccountRepository(session).by_username("owner")
    if user is None or user.organization_id is None:
        return None
    organization = session.get(Organization, user.organization_id)
    return DemoLogin("owner", Role.owner, organization.name if organization else "")
