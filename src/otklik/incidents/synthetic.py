"""A labelled message stream for the benchmark and the tests (deterministic with a seed).

A month of a region's background (100-1,000 messages a day with the daily and weekly
rhythm; the start of the heating season and the first snow as ordinary region-wide rises
that are *not* emergencies; scattered single hazards such as one flat without hot water)
with emergencies injected: 5 to 200 messages from different authors about one hazard in one
place, in several phrasings, with typos, some naming only a street. Places are the region's
real municipalities and settlements from the gazetteer, so the territory stage finds them.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

MSK = timedelta(hours=3)
STREETS = ("Ленина", "Садовая", "Школьная", "Молодёжная", "Советская", "Мира", "Гагарина",
           "Пушкина", "Победы", "Степная", "Набережная", "Центральная", "Кирова", "Чкалова",
           "Горького", "Строителей", "Лермонтова", "Первомайская", "Комсомольская", "Полевая",
           "Новая", "Северная", "Южная", "Лесная", "Озёрная", "Октябрьская", "Чехова",
           "Юбилейная", "Калинина", "Джангара", "Ключевая")
OPENERS = ("", "", "Здравствуйте! ", "Доброе утро. ", "Обращаюсь к вам. ", "Добрый вечер! ",
           "Добрый день. ", "Уважаемая администрация, ",
           "Помогите, ", "Люди, ", "Сколько можно! ", "Вопрос к властям: ")
CLOSERS = ("", " Дом {n}.", " Спасибо.", " Уже {n} дней так.", " Звонил {n} раз.",
           " Примите меры!", " Жду ответа.", " Писали уже не раз.",
           " Звонили в администрацию, без толку.", " Фото прикладываю.", " Уже неделю так.",
           " Кто за это отвечает?", " Дом {n}.", " Пожилые люди страдают.", " Просим помочь.")

#: Background complaints by topic: ``{p}`` a place phrase, ``{s}`` a street.
BACKGROUND: dict[str, tuple[str, ...]] = {
    "roads": (
        "На улице {s} {p} огромные ямы на дороге, когда отремонтируют?",
        "{p}: разбитый асфальт на {s}, машины ломаются, прошу отремонтировать дорогу",
        "Почему не ремонтируют дорогу по улице {s}? {p}",
        "Прошу нанести разметку и поставить знак у школы на {s}, {p}",
    ),
    "housing": (
        "{p}, ул. {s}: в подъезде течёт крыша, управляющая компания не реагирует",
        "Управляющая компания не убирает подъезд на {s}, {p}. Прошу разобраться",
        "{p}. В доме на улице {s} не работает лифт уже неделю",
        "Почему выросла плата за содержание жилья? {p}, {s}",
    ),
    "improvement": (
        "Во дворе на {s} не горят фонари, темно, {p}",
        "{p}: просим благоустроить детскую площадку на улице {s}",
        "На {s} {p} сломаны лавочки в сквере, прошу отремонтировать",
    ),
    "waste": (
        "Не вывозят мусор с площадки на {s} уже три дня, {p}",
        "{p}: контейнеры переполнены на улице {s}, когда вывезут мусор?",
    ),
    "transport": (
        "Автобус в {p} опять не пришёл по расписанию на остановку на {s}, ждём по часу",
        "{p}: маршрутка с улицы {s} ходит редко, прошу добавить рейсы до центра",
    ),
    "health": (
        "В поликлинике {p} невозможно записаться к терапевту, прошу помочь",
        "{p}: в больнице нет лекарств, очереди к врачу по три часа",
    ),
    "education": (
        "В школе {p} не хватает учителей, дети без уроков",
        "{p}: когда откроют детский сад на улице {s}? Очередь огромная",
    ),
}
#: Ordinary single hazards: one flat, one yard, not an emergency.
SINGLE_HAZARDS = (
    "В квартире на {s} нет горячей воды второй день, {p}",
    "{p}, ул. {s}: в подъезде не горит свет, лампочки перегорели",
    "Батареи еле тёплые в доме на {s}, {p}",
    "Во дворе на {s} открытый люк, {p}, кто-нибудь упадёт",
    "{p}: на {s} гололёд, тротуары не посыпают",
)
#: The heating season starts: cold radiators everywhere for a few days.
HEATING_START = (
    "Когда дадут отопление? В квартире холодно, {p}, ул. {s}",
    "{p}: отопление ещё не включили, дома холодно",
    "Батареи холодные, отопительный сезон начался, а у нас не топят. {p}, {s}",
    "В доме на {s} нет отопления, {p}. Когда запустят?",
)
#: The first snow: uncleared roads everywhere for a day.
FIRST_SNOW = (
    "Дороги не чистят после снегопада, {p}, улица {s} вся в снегу",
    "{p}: выпал снег, не чистят снег на {s}, машины буксуют",
    "Снегопад, тротуары не чистят, скользко, {p}",
    "Первый снег и опять коммунальщики не убирают дороги. {p}",
)
#: Emergencies: a hazard and the ways residents say it.
EMERGENCIES: dict[str, tuple[str, ...]] = {
    "no_water": (
        "{p} нет воды с утра, что случилось?",
        "Нет воды {p}, на {s} тоже сухо из крана",
        "Когда дадут воду? {p}, весь район без воды",
        "У нас в {p} опять нету воды, дети не мытые, скажите сроки",
        "Сидим без воды второй день, {p}, ул. {s}",
        "Водоснабжение отключили и никто не предупредил! {p}",
    ),
    "no_power": (
        "{p} нет света уже три часа",
        "Отключили электричество {p}, на {s} тоже темно",
        "Свет пропал по всему {p}, когда включат?",
        "Сидим без света, {p}, холодильники текут",
    ),
    "no_heating": (
        "{p}: отключили отопление, в квартирах +12, дети мёрзнут",
        "Нет отопления {p}, на {s} батареи ледяные",
        "Авария на котельной? {p} без тепла с ночи",
    ),
    "no_gas": (
        "{p} нет газа, не можем приготовить еду",
        "Газ отключили {p} без предупреждения, ул. {s}",
        "Пропал газ по всей улице {s}, {p}",
    ),
    "flood": (
        "{p}: прорыв трубы на {s}, затопило подвалы",
        "Затопило улицу {s}, {p}, вода идёт во дворы",
        "Подтопление {p}, дома на {s} в воде, помогите",
    ),
    "fire": (
        "Пожар {p} на улице {s}, горит дом, дым валит",
        "{p} сильное задымление, горит сухая трава у домов",
        "Горит свалка {p}, дым идёт в дома на {s}",
    ),
    "live_wire": (
        "{p}: на {s} оборван провод, висит над тротуаром, искрит",
        "Провода лежат на земле на улице {s}, {p}, дети ходят рядом",
    ),
}


@dataclass(frozen=True)
class Spot:
    """A settlement of the region (or a district town) to write from."""

    name: str
    municipality: str
    population: int


@dataclass
class Emergency:
    """One injected emergency and the ids of its messages (in time order)."""

    number: int
    hazard: str
    spot: Spot
    start: datetime
    message_ids: list[str] = field(default_factory=list)
    times: list[datetime] = field(default_factory=list)

    @property
    def size(self) -> int:
        """How many messages it has."""
        return len(self.message_ids)


@dataclass
class Stream:
    """The generated messages (input records of ``otklik signals``) and the truth."""

    region: str
    start: datetime
    days: int
    messages: list[dict[str, Any]]
    emergencies: list[Emergency]
    ordinary_rises: list[tuple[str, datetime, datetime]]
    spam_ids: list[str] = field(default_factory=list)


def region_spots(region: str, limit: int = 40) -> list[Spot]:
    """The region's largest settlements, with their municipality."""
    from otklik.nlp.territory_index import get_index

    ix = get_index()
    spots = []
    for i in range(len(ix.s_pop)):
        muni = ix.munis[ix.s_muni[i]]
        if muni["region"] == region and ix.s_pop[i] >= 300:
            spots.append(Spot(ix.s_name[i], muni["name"], int(ix.s_pop[i])))
    spots.sort(key=lambda s: -s.population)
    if not spots:
        raise ValueError(f"no settlements of region {region!r} in the reference")
    return spots[:limit]


def _typo(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    k = rng.randrange(len(words))
    word = words[k]
    if len(word) > 4:
        j = rng.randrange(1, len(word) - 1)
        word = word[:j] + word[j + 1:] if rng.random() < 0.5 else (
            word[:j] + word[j + 1] + word[j] + word[j + 2:])
        words[k] = word
    return " ".join(words)


def _style(text: str, rng: random.Random) -> str:
    text = rng.choice(OPENERS) + text + rng.choice(CLOSERS).format(n=rng.randrange(1, 90))
    if rng.random() < 0.3:
        text = _typo(text, rng)
    if rng.random() < 0.15:
        text = text.lower()
    if rng.random() < 0.1:
        text = text.rstrip("?!.") + "!!!"
    return text


def _place_phrase(spot: Spot, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.6 or spot.municipality.startswith("городской округ"):
        return spot.name
    return f"{spot.name}, {spot.municipality}"


def _daily_volume(day: int, start: datetime, low: int, high: int, rng: random.Random) -> int:
    weekday = (start + timedelta(days=day)).weekday()
    base = low + (high - low) * (0.5 + 0.5 * rng.random())
    return int(base * (0.55 if weekday >= 5 else 1.0))


#: The share of a day's messages by hour of the day (Moscow time).
_HOURS = (1, 0.5, 0.3, 0.3, 0.4, 1, 2, 4, 6, 8, 9, 9, 8, 8, 8, 8, 7, 7, 7, 6, 5, 4, 3, 2)


def _time_in_day(day_start: datetime, rng: random.Random) -> datetime:
    hour = rng.choices(range(24), weights=_HOURS)[0]
    return day_start + timedelta(hours=hour, seconds=rng.randrange(3600))


def generate(region: str = "85", days: int = 30, seed: int = 15, low: int = 100,
             high: int = 1000, emergencies: Sequence[int] = (5, 8, 10, 12, 15, 20, 30, 50, 80,
                                                             120, 200),
             start: datetime | None = None, spam: int = 60) -> Stream:
    """The month of ``region``: background, ordinary rises, ``emergencies`` (their sizes)
    and a one-author spam flood of ``spam`` identical posts."""
    rng = random.Random(seed)
    start = start or datetime(2026, 10, 12, tzinfo=UTC) - MSK  # a Monday, midnight MSK
    spots = region_spots(region)
    weights = [s.population for s in spots]
    messages: list[dict[str, Any]] = []
    counter = 0

    def add(at: datetime, text: str, author: str) -> str:
        nonlocal counter
        counter += 1
        mid = f"m{counter:07d}"
        messages.append({"id": mid, "text": text, "created_at": at.isoformat(),
                         "author": author, "source": "vk", "region": region})
        return mid

    heating = (start + timedelta(days=3, hours=6), start + timedelta(days=6))
    snow = (start + timedelta(days=min(18, days - 2), hours=4),
            start + timedelta(days=min(19, days - 1), hours=12))
    topics = list(BACKGROUND)
    for day in range(days):
        day_start = start + timedelta(days=day)
        for _ in range(_daily_volume(day, start, low, high, rng)):
            at = _time_in_day(day_start, rng)
            spot = rng.choices(spots, weights=weights)[0]
            roll = rng.random()
            if heating[0] <= at < heating[1] and roll < 0.25:
                template = rng.choice(HEATING_START)
            elif snow[0] <= at < snow[1] and roll < 0.35:
                template = rng.choice(FIRST_SNOW)
            elif roll > 0.96:
                template = rng.choice(SINGLE_HAZARDS)
            else:
                template = rng.choice(BACKGROUND[rng.choice(topics)])
            text = template.format(p=_place_phrase(spot, rng), s=rng.choice(STREETS))
            add(at, _style(text, rng), f"u{rng.randrange(40_000)}")
    injected: list[Emergency] = []
    hazards = list(EMERGENCIES)
    for number, size in enumerate(emergencies, start=1):
        hazard = hazards[(number - 1) % len(hazards)]
        spot = rng.choice(spots[1:]) if number % 3 else spots[0]
        begin = start + timedelta(days=rng.uniform(2.0, days - 1.5))
        # Residents write within the first hours, then fewer and fewer.
        spread = timedelta(minutes=rng.uniform(30, 180))
        street = rng.choice(STREETS)
        times = sorted([begin] + [begin + spread * rng.expovariate(1.0)
                                  for _ in range(size - 1)])
        emergency = Emergency(number, hazard, spot, begin)
        for k, at in enumerate(times):
            template = rng.choice(EMERGENCIES[hazard])
            if k and rng.random() < 0.2:  # only the street, no town
                text = template.format(p="у нас", s=street)
                text = text if "{s}" in template else f"{text}, ул. {street}"
            else:
                text = template.format(p=_place_phrase(spot, rng), s=street)
            mid = add(at, _style(text, rng), f"e{number}-{k}")
            emergency.message_ids.append(mid)
            emergency.times.append(at)
        injected.append(emergency)
    spam_ids = []
    if spam:
        at = start + timedelta(days=days / 2, hours=5)
        spot = spots[0]
        for k in range(spam):
            spam_ids.append(add(at + timedelta(seconds=30 * k),
                                f"Нет воды {spot.name}! Пишите в личку, продам фильтры дёшево",
                                "spammer"))
    messages.sort(key=lambda m: m["created_at"])
    return Stream(region, start, days, messages, injected,
                  [("heating", *heating), ("snow", *snow)], spam_ids)
