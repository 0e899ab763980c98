"""Karelia's year in the demo (DESIGN.md story 1): over 40,000 residents' messages and
about 70 management decisions taken on them.

The 90-day stream holds Karelia at the demo's scale (~15 messages on a subject a day); the
year before it comes from the archive (:mod:`otklik.demo.archive`, Karelia only, at the
center's real scale). This module decides the span the archive covers and the plan of the
year's decisions, which both the archive (residents write more about a subject before a
decision and, when it worked, less after) and the decisions registry
(:mod:`otklik.demo.decisions`) follow, so each decision's before/after effect makes sense.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from otklik.analytics.schemas import day_start_utc, reporting_day

REGION = "86"
#: Decisions Karelia's authorities take in a year on residents' messages (DESIGN.md).
DECISIONS_PER_YEAR = 70
#: Days of the demo's live stream (the archive ends where it starts).
WINDOW_DAYS = 90
#: The archive starts on January 1 when that leaves it this many days before the window;
#: earlier in the year it covers the 12 months before today instead.
MIN_CALENDAR_DAYS = 120
#: No decision within this many days of the window's start: the effect compares 30 days on
#: each side, and the archive's scale differs from the window's.
EFFECT_GAP = 31
#: Share of decisions after which residents write visibly less about the subject.
WORKS_SHARE = 0.75
SEED = 70


@dataclass(frozen=True)
class Template:
    """A kind of decision: its rubric topic, the generator's topics, title, who decides,
    budget range in millions of rubles (None: no budget)."""

    topic: str
    generator_topics: tuple[str, ...]
    title: str
    decided_by: str
    budget: tuple[int, int] | None


TEMPLATES = (
    Template("roads", ("roads",), "Ямочный ремонт улиц", "Министерство транспорта Республики "
             "Карелия", (3, 40)),
    Template("roads", ("roads",), "Включение дорог в программу ремонта",
             "Правительство Республики Карелия", (20, 150)),
    Template("utilities", ("utilities_water", "utilities_sewer"), "Замена участка водопровода",
             "Министерство строительства, ЖКХ и энергетики Республики Карелия", (5, 60)),
    Template("utilities", ("utilities_heat", "utilities_power"),
             "Ремонт теплосетей и подстанций до отопительного сезона",
             "Правительство Республики Карелия", (10, 90)),
    Template("waste", ("waste",), "Дополнительные контейнерные площадки и графики вывоза",
             "Министерство природных ресурсов и экологии Республики Карелия", (1, 8)),
    Template("transport", ("transport",), "Новые автобусные рейсы по просьбам жителей",
             "Министерство транспорта Республики Карелия", None),
    Template("improvement", ("yards",), "Благоустройство дворов по обращениям жителей",
             "Администрация муниципалитета", (2, 15)),
    Template("health", ("health",), "Выездные бригады врачей и запись к специалистам",
             "Министерство здравоохранения Республики Карелия", None),
    Template("housing", ("housing",), "Внеплановые проверки управляющих компаний",
             "Государственный комитет Республики Карелия по строительному, жилищному "
             "и дорожному надзору", None),
    Template("education", ("education",), "Ремонт школ и детских садов",
             "Министерство образования и спорта Республики Карелия", (4, 25)),
    Template("communications", ("telecom",), "Мобильная связь и интернет в посёлках",
             "Министерство цифрового развития Республики Карелия", (1, 10)),
)
#: How often each kind of decision comes (roads and utilities most, as in the messages).
TEMPLATE_WEIGHTS = (3, 2, 3, 2, 2, 2, 2, 2, 2, 1, 1)


@dataclass(frozen=True)
class PlannedDecision:
    """One of the year's decisions: when, what kind, where (the generator's municipality
    name, a prefix of the territory's name), whether it worked, and whether it falls in the
    archive's span (only there does the generated stream follow the plan)."""

    day: date
    template: Template
    municipality: str
    works: bool
    in_archive: bool


def window_start(end: datetime) -> datetime:
    """Where the 90-day stream ending at ``end`` starts."""
    return end - timedelta(days=WINDOW_DAYS)


def archive_span(end: datetime) -> tuple[datetime, datetime]:
    """``[start, stop)`` of Karelia's archive for a stream ending at ``end``: from January 1
    (or the 12 months before ``end`` early in the year) to the start of the stream."""
    stop = window_start(end)
    january = day_start_utc(date(reporting_day(end).year, 1, 1))
    start = january if (stop - january).days >= MIN_CALENDAR_DAYS else end - timedelta(days=365)
    return start, stop


def municipality_weights(settlements: list[tuple[str, int]]) -> dict[str, float]:
    """Where decisions are taken: municipalities by population (as messages come)."""
    people: Counter[str] = Counter()
    for municipality, population in settlements:
        people[municipality] += population
    return {m: p ** 0.8 for m, p in people.items() if p}


def plan_decisions(end: datetime, settlements: list[tuple[str, int]]) -> list[PlannedDecision]:
    """The year's decisions (deterministic for the stream's end): ``DECISIONS_PER_YEAR``
    spread from the archive's start to the day before ``end``, none within ``EFFECT_GAP``
    days of the window's start. ``settlements``: (municipality, population) pairs."""
    rng = random.Random(SEED)
    start, stop = archive_span(end)
    first, last = reporting_day(start) + timedelta(days=20), reporting_day(end) - timedelta(days=2)
    gap_from = reporting_day(stop) - timedelta(days=EFFECT_GAP)
    gap_to = reporting_day(stop) + timedelta(days=EFFECT_GAP)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    days = [d for d in days if not gap_from <= d < gap_to]
    weights = municipality_weights(settlements)
    places, place_w = list(weights), list(weights.values())
    plan: list[PlannedDecision] = []
    taken: set[tuple[str, str, int]] = set()
    step = len(days) / DECISIONS_PER_YEAR
    for i in range(DECISIONS_PER_YEAR):
        day = days[min(len(days) - 1, int((i + rng.random()) * step))]
        for _ in range(20):
            template = rng.choices(TEMPLATES, weights=TEMPLATE_WEIGHTS)[0]
            place = rng.choices(places, weights=place_w)[0]
            key = (template.title, place, day.month)
            if key not in taken:
                break
        taken.add(key)
        plan.append(PlannedDecision(day, template, place, rng.random() < WORKS_SHARE,
                                    in_archive=day < gap_from))
    return plan


MONTHS = ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь",
          "октябрь", "ноябрь", "декабрь")


def decision_title(planned: PlannedDecision, place_name: str) -> str:
    """The registry title: what, where and when (unique within the year's plan)."""
    return f"{planned.template.title}: {place_name} ({MONTHS[planned.day.month - 1]} " \
           f"{planned.day.year})"

