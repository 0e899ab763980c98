"""Demo fakes: thirty claims across the five regions («в Элисте отравлена вода», «с
понедельника закрывают все школы» …), several hundred copies of them in the stream
(variants made by :mod:`otklik.fakes.synthetic`: paraphrase, fragment, typos, emoji,
quote, transliteration), some denials quoting them, approved refutations for half of them
(written by the analyst, approved by the admin: four eyes), and a fresh alarming rumour
spreading across several authors that the registry does not know yet (a suspect).

The copies go in through intake and the language stages like any message; the registry's
matching links them (:func:`otklik.fakes.live.match_messages`, the consumer's own code).
Call :func:`load_demo_fakes` after the demo's messages are loaded.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from otklik.accounts.repository import AccountRepository
from otklik.accounts.service import actor_for
from otklik.audit.actor import Actor
from otklik.channels.schemas import IncomingMessage, Reach, Source
from otklik.db.base import utcnow
from otklik.fakes import live, service
from otklik.fakes.repository import FakeRepository
from otklik.fakes.schemas import FakeCreate, RefutationDraft
from otklik.fakes.synthetic import DENIALS, VARIANTS
from otklik.intake.service import store_messages
from otklik.intake.tasks import enrich_pending

#: Region → (its towns in the prepositional case, its small Telegram channels that seed
#: rumours, its big public pages where they are copied).
REGIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "85": (("Элисте", "Лагани", "Городовиковске"),
           ("Элиста Инсайд", "Степные новости 18+", "Калмыкия без цензуры"),
           ("Типичная Элиста", "Новости Калмыкии", "Элиста Онлайн")),
    "68": (("Тамбове", "Мичуринске", "Моршанске"),
           ("Тамбов Слухи", "Мичуринск 24/7", "Черноземье шепчет"),
           ("Типичный Тамбов", "Мичуринск Онлайн", "Тамбовская жизнь")),
    "86": (("Петрозаводске", "Кондопоге", "Сортавале"),
           ("Карелия Секретно", "Онего Инсайд", "Петрозаводск без фильтров"),
           ("Типичный Петрозаводск", "Новости Карелии", "Кондопога Онлайн")),
    "36": (("Самаре", "Тольятти", "Сызрани"),
           ("Самара Инсайдер", "Тольятти Слив", "Волга шепчет"),
           ("Типичная Самара", "Тольятти Онлайн", "Новости Самары")),
    "07": (("Ставрополе", "Пятигорске", "Кисловодске"),
           ("Ставрополь Слухи", "КМВ Инсайд", "Кавказ без цензуры"),
           ("Типичный Ставрополь", "Пятигорск Онлайн", "Новости Ставрополья")),
}

#: (claim template, topic, refutation template, the body that refutes it).
CLAIMS: tuple[tuple[str, str, str, str], ...] = (
    ("В {city} отравлена вода в водопроводе, в трубы попали сточные воды, не пейте воду из "
     "крана", "utilities", "Качество воды в {city} соответствует нормам: пробы Роспотребнадзора "
     "за неделю без отклонений, сбросов в водопровод не было.", "Роспотребнадзор"),
    ("С понедельника в {city} закрывают все школы на карантин из-за вспышки гриппа, детей "
     "переводят на дистанционное обучение", "education", "Школы {city} работают в обычном "
     "режиме, решений о карантине не принималось; заболеваемость ниже эпидемического порога.",
     "министерство образования"),
    ("В аптеках {city} закончился инсулин, поставки препарата прекращены до конца года",
     "health", "Инсулин в аптеках {city} есть, запас на три месяца; льготное обеспечение идёт "
     "по графику.", "министерство здравоохранения"),
    ("В {city} с первого числа отменят бесплатный проезд для пенсионеров в автобусах, "
     "решение уже подписано", "transport", "Льготный проезд для пенсионеров в {city} "
     "сохраняется, никаких решений об отмене не подписывалось.", "министерство транспорта"),
    ("Власти в {city} отключат отопление в домах на улице Ленина из-за долгов управляющей "
     "компании", "housing", "Отопление домов на улице Ленина в {city} отключать не "
     "планируют, долги управляющей компании не влияют на подачу тепла.", "администрация"),
    ("Хлеб в {city} подорожает в два раза с понедельника из-за нехватки муки на хлебозаводе",
     "trade", "Хлебозавод {city} обеспечен мукой, повышения цен на хлеб не планируется.",
     "министерство сельского хозяйства"),
)


def _copies(rng: random.Random, claim: str, count: int) -> list[str]:
    kinds = list(VARIANTS)
    return [VARIANTS[kinds[i % len(kinds)]](claim, rng) for i in range(count)]


def _analysts(session: Session) -> tuple[Actor, Actor] | None:
    """The demo analyst (writes refutations) and the admin (approves them)."""
    accounts = AccountRepository(session)
    analyst, admin = accounts.by_username("analyst"), accounts.by_username("admin")
    if analyst is None or admin is None:
        return None
    return actor_for(session, analyst), actor_for(session, admin)


def load_demo_fakes(session: Session, end: datetime, seed: int = 16) -> int:
    """Register the demo fakes and store their copies (once); returns the copies stored.

    Commits nothing itself: the caller's unit of work does, and the copies are enriched
    afterwards by :func:`enrich_and_match`."""
    if FakeRepository(session).count():
        return 0
    people = _analysts(session)
    if people is None:
        return 0
    writer, approver = people
    rng = random.Random(seed)
    items: list[IncomingMessage] = []
    for code, (towns, seeders, pages) in REGIONS.items():
        for number, (template, topic, refutation, body) in enumerate(CLAIMS):
            city = towns[number % len(towns)]
            claim = template.format(city=city)
            fake = service.create_fake(session, writer, FakeCreate(
                region_code=code, claim=claim, topic=topic, status="checking",
                key_phrases=[claim.split(",")[0][:80]]))
            if number % 2 == 0:  # half of them refuted and approved
                service.draft_refutation(session, writer, fake.id, RefutationDraft(
                    text=refutation.format(city=city) + f" Сообщил {body}.",
                    source_url=f"https://r{code}.gov.ru/press/fake-{fake.id}",  # type: ignore[arg-type]
                    date=(end - timedelta(days=rng.randint(1, 20))).date()))
                service.submit_refutation(session, writer, fake.id)
                service.approve_refutation(session, approver, fake.id)
            start = end - timedelta(days=rng.randint(5, 80))
            for i, text in enumerate(_copies(rng, claim, rng.randint(8, 20))):
                seeded = i < 2
                channel = rng.choice(seeders if seeded else pages)
                when = start + timedelta(hours=i * rng.uniform(0.5, 6))
                views = rng.randint(200, 3000) if seeded else rng.randint(2000, 60000)
                items.append(IncomingMessage(
                    source=Source.telegram if seeded or rng.random() < 0.4 else Source.vk,
                    source_id=f"demo-fake-{code}-{number}-{i}", text=text,
                    created_at=min(when, end), author_id=f"fk{rng.randint(1, 5000)}",
                    author_name=None, region=code, channel=channel,
                    reach=Reach(views=views, reposts=rng.randint(0, views // 50))))
            denial = DENIALS[number % len(DENIALS)].format(claim=claim[0].lower() + claim[1:])
            items.append(IncomingMessage(
                source=Source.vk, source_id=f"demo-fake-{code}-{number}-denial", text=denial,
                created_at=min(start + timedelta(days=2), end), author_id=f"gov{code}",
                region=code, channel=pages[1], reach=Reach(views=rng.randint(5000, 30000))))
    # A rumour the registry does not know yet, spreading across authors right now.
    rumour = ("Срочно! В Элисте на водозаборе авария, воду отключат на месяц, скупайте "
              "питьевую воду, власти молчат! Распространите")
    now = utcnow()
    for i in range(5):
        items.append(IncomingMessage(
            source=Source.telegram, source_id=f"demo-fake-rumour-{i}", text=rumour,
            created_at=now - timedelta(hours=10 - i), author_id=f"rumour{i}", region="85",
            channel=REGIONS["85"][1][i % 3], reach=Reach(views=500 * (i + 1))))
    store_messages(session, items, enqueue=False)
    return len(items)


def enrich_and_match() -> tuple[int, int]:
    """Enrich the stored copies (a bulk load), build the cases of those that are residents'
    appeals (as the case builder does after a live enrichment: the operators answer them
    with the refutation), and link them to the registry; the rumour is proposed as a
    suspect. Returns (copies, suspects)."""
    from sqlalchemy import select

    from otklik.db.session import session_scope
    from otklik.demo.simulation import build_all_cases
    from otklik.models.message import Message

    enrich_pending()
    with session_scope() as session:
        ids = list(session.scalars(select(Message.id).where(
            Message.source_id.like("demo-fake-%")).order_by(Message.id)))
    build_all_cases(only=ids)
    with session_scope() as session:
        done = live.match_messages(session, ids, suspects=False)
        rumour = list(session.scalars(select(Message).where(
            Message.source_id.like("demo-fake-rumour-%")).order_by(Message.id)))
        suspects = live.propose_suspects(session, rumour[-1:])
    return done.copies, suspects
