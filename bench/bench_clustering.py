"""Throughput and quality of problem clustering (otklik.problems.clustering).

1. Synthetic: N cases (default 50,000) over 90 days from templates x streets x towns
   (one town per 250 cases), generated around known incidents (a pothole on one street,
   an outage in one district), so the clusters can be scored against the truth. Timed
   twice: with lemmas and the dedup signature given (what a worker gets from the enrich
   records) and from the raw text. Prints cases/s, problems created, mean candidates
   scored per assign, and purity (share of cases in a problem whose main incident is
   theirs) / completeness (share of an incident's cases in its main problem).
2. Demo stream (``--demo N``, default 6,000 messages; 0 skips): the generated stream is
   enriched by the real pipeline (topic, territory) and clustered; the demo-only labels
   (story, settlement, subtopic) are read for evaluation only.

    .venv/bin/python bench/bench_clustering.py [--n 50000] [--demo 6000]
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console
from rich.table import Table

from otklik.nlp import dedup
from otklik.nlp.morph import lemmatize, tokenize
from otklik.problems.clustering import Assignment, CaseFeatures, ProblemIndex, assign

T0 = datetime(2024, 9, 1, tzinfo=UTC)
STREETS = ["Ленина", "Гагарина", "Мира", "Пушкина", "Кирова", "Чапаева", "Лаврова", "Гоголя",
           "Некрасова", "Жукова", "Горького", "Чехова", "Свердлова", "Фрунзе", "Калинина",
           "Володарского", "Маяковского", "Лермонтова", "Толстого", "Суворова", "Кутузова",
           "Титова", "Комарова", "Есенина", "Островского"]
# Town names: prefix + root (200 of them), so a larger stream covers a larger region and the
# density of incidents per street stays what it is in a real region.
PREFIXES = ["Красно", "Ново", "Старо", "Бело", "Верхне", "Нижне", "Сосно", "Липо", "Дубо",
            "Черно"]
ROOTS = ["горск", "дольск", "польск", "ярск", "воронск", "ключевск", "бродск", "озёрск",
         "каменск", "лесск", "мостовск", "полянск", "ручьёвск", "холмск", "садовск", "песочинск",
         "ольховск", "рыбинск", "сельск", "луговск"]
CASES_PER_TOWN = 250
STREET_TEMPLATES = {
    "roads.potholes": [
        "Ямы на улице {s}, колесо пробил, когда залатают?",
        "На {s} асфальт разбит, яма на яме, маршрутки объезжают по встречке.",
        "Дорога по {s} в ямах после зимы, ремонт обещали ещё весной.",
    ],
    "roads.bridges": [
        "Мост на {s} в аварийном состоянии, трещины по всему пролёту.",
        "Путепровод по улице {s} разрушается, ограждение отвалилось.",
        "Когда отремонтируют путепровод на {s}? Куски бетона падают.",
    ],
    "waste.container_sites": [
        "Контейнерная площадка на {s} завалена мусором, баки не вывозят неделю.",
        "На {s} у контейнерной площадки свалка, мусор разносит ветер.",
        "Площадку для мусора на {s} не убирают, контейнеры переполнены.",
    ],
    "improvement.street_lighting": [
        "Не горят фонари на улице {s}, вечером темно и страшно.",
        "На {s} уличное освещение не работает уже месяц.",
        "Фонари по {s} выключены, дети идут из школы в темноте.",
    ],
    "ecology.stray_animals": [
        "Стая бродячих собак на {s} кидается на прохожих.",
        "На улице {s} собаки покусали ребёнка, примите меры!",
        "Бездомные собаки у школы на {s}, дети боятся ходить.",
    ],
}
AREA_TEMPLATES = {
    "utilities.no_water": [
        "Нет воды в {t} с утра, никто ничего не объясняет.",
        "Второй день без воды, {t}. Говорят, авария на водозаборе.",
        "Когда дадут воду в {t}? Подвоз только в центр.",
    ],
    "utilities.power": [
        "В {t} отключили свет, холодильники разморозились.",
        "Нет электричества в {t} уже пять часов, РЭС не отвечает.",
        "Опять без света сидим, {t}, когда починят подстанцию?",
    ],
}
TOPIC = {code: code.split(".")[0] for code in [*STREET_TEMPLATES, *AREA_TEMPLATES]}
FILLERS = ["Сколько можно ждать?", "Примите меры!", "Пишу уже третий раз.", "Это просто позор.",
           "Надоело!", "Прошу разобраться.", "Ответа так и не было.", "Спасибо."]


@dataclass(frozen=True)
class Town:
    """A settlement with its municipality."""

    name: str
    municipality_id: int
    settlement_id: int


def synthetic_cases(n: int, seed: int = 5) -> tuple[list[CaseFeatures], dict[int, int]]:
    """n cases around random incidents, in time order; returns (cases, case -> incident)."""
    rng = random.Random(seed)
    names = [p + r for r in ROOTS for p in PREFIXES][: max(20, n // CASES_PER_TOWN)]
    towns = [Town(name, 68700 + i // 4, 68700000000 + i) for i, name in enumerate(names)]
    incidents: list[tuple[str, Town, str | None, float, float, float]] = []
    total_weight = 0.0
    while total_weight < n:
        town = rng.choice(towns)
        if rng.random() < 0.12:
            # An outage hits a whole district: its cases come from any of its towns.
            sub, street = rng.choice(list(AREA_TEMPLATES)), None
            duration = rng.uniform(0.5, 3.0)
        else:
            sub, street = rng.choice(list(STREET_TEMPLATES)), rng.choice(STREETS)
            duration = rng.expovariate(1 / 12)
        weight = min(rng.paretovariate(1.3), 80.0)
        incidents.append((sub, town, street, rng.uniform(0, 90), duration, weight))
        total_weight += weight
    cum: list[float] = []
    acc = 0.0
    for inc in incidents:
        acc += inc[5]
        cum.append(acc)
    cases: list[tuple[datetime, CaseFeatures, int]] = []
    for cid in range(1, n + 1):
        k = min(_bisect(cum, rng.uniform(0, acc)), len(incidents) - 1)
        sub, town, street, start, duration, _ = incidents[k]
        if street is None:
            town = rng.choice([t for t in towns if t.municipality_id == town.municipality_id])
        at = T0 + timedelta(days=start + rng.uniform(0, duration))
        if street:
            text = rng.choice(STREET_TEMPLATES[sub]).format(s=street) + f" {town.name}."
        else:
            text = rng.choice(AREA_TEMPLATES[sub]).format(t=town.name)
        text = " ".join([text, *rng.sample(FILLERS, rng.randint(0, 2))])
        has_place = rng.random() > 0.04
        features = CaseFeatures(
            case_id=cid,
            created_at=at,
            topic=TOPIC[sub] if rng.random() > 0.03 else None,
            subtopic=sub if rng.random() > 0.15 else None,
            region="68",
            municipality_id=town.municipality_id if has_place else None,
            settlement_id=town.settlement_id if has_place else None,
            street=f"улица {street}" if street and has_place and rng.random() < 0.6 else None,
            house=None,
            text=text,
            settlement_name=town.name,
        )
        cases.append((at, features, k))
    cases.sort(key=lambda c: (c[0], c[1].case_id))
    return [c[1] for c in cases], {c[1].case_id: c[2] for c in cases}


def _bisect(cum: Sequence[float], x: float) -> int:
    lo, hi = 0, len(cum)
    while lo < hi:
        mid = (lo + hi) // 2
        if cum[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


def with_text_features(cases: Sequence[CaseFeatures]) -> list[CaseFeatures]:
    """Attach lemmas and the dedup signature, as the enrich records would carry them."""
    return [replace(c, lemmas=lemmatize(tokenize(c.text)), signature=dedup.signature(c.text))
            for c in cases]


def run(cases: Sequence[CaseFeatures]) -> tuple[list[Assignment], float, ProblemIndex]:
    """Cluster the cases in order; returns the assignments, seconds and the index."""
    index = ProblemIndex()
    started = time.perf_counter()
    out = [assign(c, index) for c in cases]
    return out, time.perf_counter() - started, index


def quality(assignments: Sequence[Assignment], truth: dict[int, Hashable]) -> tuple[float, float]:
    """(purity, completeness) of the problems against the true labels of their cases."""
    by_problem: dict[str, Counter[Hashable]] = defaultdict(Counter)
    by_label: dict[Hashable, Counter[str]] = defaultdict(Counter)
    for a in assignments:
        if a.problem_key is None or a.case_id not in truth:
            continue
        label = truth[a.case_id]
        by_problem[a.problem_key][label] += 1
        by_label[label][a.problem_key] += 1
    placed = sum(sum(c.values()) for c in by_problem.values())
    if not placed:
        return 0.0, 0.0
    purity = sum(max(c.values()) for c in by_problem.values()) / placed
    completeness = sum(max(c.values()) for c in by_label.values()) / placed
    return purity, completeness


def synthetic_table(n: int, console: Console) -> None:
    """Time and score the synthetic stream."""
    raw, truth = synthetic_cases(n)
    prep_started = time.perf_counter()
    given = with_text_features(raw)
    prep = time.perf_counter() - prep_started
    table = Table(title=f"Problem clustering, {n:,} synthetic cases over 90 days")
    for col in ("input", "cases/s", "problems", "no problem", "mean candidates", "purity",
                "completeness"):
        table.add_column(col, justify="right" if col != "input" else "left")
    for label, cases in (("lemmas + signature given", given), ("raw text", raw)):
        out, secs, index = run(cases)
        created = sum(a.is_new for a in out)
        nowhere = sum(a.problem_key is None for a in out)
        mean_cand = sum(a.candidates for a in out) / max(len(out), 1)
        purity, completeness = quality(out, dict(truth))
        table.add_row(label, f"{len(out) / secs:,.0f}", f"{created:,}", f"{nowhere:,}",
                      f"{mean_cand:.1f}", f"{purity:.3f}", f"{completeness:.3f}")
    console.print(table)
    console.print(f"(lemmas + signatures computed beforehand in {prep:.1f} s; "
                  f"{len({*truth.values()}):,} true incidents)")


def demo_table(total: int, console: Console) -> None:
    """Enrich the demo stream with the real pipeline, cluster it, score with demo labels."""
    from otklik.demo.stream import DEMO_META_KEY, generate_stream
    from otklik.nlp.pipeline import Pipeline

    end = datetime(2024, 12, 1, tzinfo=UTC)
    messages = list(generate_stream(seed=42, total=total, end=end))
    pipeline = Pipeline.default()
    records = [{"id": str(i), "text": m.text, "region": m.region} for i, m in enumerate(messages)]
    started = time.perf_counter()
    enriched = [r for i in range(0, len(records), 256)
                for r in pipeline.process(records[i:i + 256])]
    enrich_secs = time.perf_counter() - started
    places = _channel_places(pipeline)
    thread: dict[str, dict[str, Any]] = {}  # source_id -> the place its message got
    cases: list[CaseFeatures] = []
    labels: dict[int, Hashable] = {}
    stories: dict[int, str] = {}
    for i, (msg, rec) in enumerate(zip(messages, enriched, strict=True)):
        # The place as enrichment fills it (otklik.intake.place_context): the text, else
        # the post the comment answers, else the channel's town.
        ter = dict(rec["territory"])
        region_found = (ter.get("region") or {}).get("code")
        parent = thread.get(msg.parent_source_id or "")
        named = ter.get("municipality") or ter.get("settlement") or ter.get("street")
        if parent and not named and region_found in (None, parent["region_code"]):
            ter = dict(parent)
        place = places.get(msg.channel or "")
        if (place and not ter.get("municipality") and not ter.get("settlement")
                and region_found in (None, place["region"])):
            ter.update(municipality=place["municipality"], settlement=place["settlement"])
        if ter.get("municipality") or ter.get("settlement"):
            thread[msg.source_id] = {**ter, "region_code": region_found or msg.region}
        if not rec["relevant"]:
            continue
        muni, settle = ter.get("municipality") or {}, ter.get("settlement") or {}
        meta = msg.raw.get(DEMO_META_KEY) or {}
        cases.append(CaseFeatures(
            case_id=i,
            created_at=msg.created_at,
            topic=rec["topic"]["code"],
            subtopic=(rec.get("subtopic") or {}).get("code"),
            region=(ter.get("region") or {}).get("code") or ter.get("region_code") or msg.region,
            municipality_id=_oktmo(muni.get("oktmo")),
            settlement_id=_oktmo(settle.get("oktmo")),
            street=ter.get("street"),
            house=ter.get("house"),
            text=msg.text,
            signature=rec.get("dedup_key"),
            settlement_name=settle.get("name"),
            municipality_name=muni.get("name"),
        ))
        # Evaluation only: a story is one problem; otherwise subtopic x settlement.
        story = meta.get("story")
        labels[i] = story or (meta.get("subtopic") or meta.get("topic_hint"),
                              meta.get("settlement"))
        if story:
            stories[i] = story
    out, secs, index = run(cases)
    purity, completeness = quality(out, labels)
    table = Table(title=f"Demo stream: {len(messages):,} messages, {len(cases):,} relevant cases")
    for col in ("cases/s", "problems", "no problem", "mean candidates", "purity",
                "completeness"):
        table.add_column(col, justify="right")
    table.add_row(f"{len(out) / secs:,.0f}", f"{sum(a.is_new for a in out):,}",
                  f"{sum(a.problem_key is None for a in out):,}",
                  f"{sum(a.candidates for a in out) / max(len(out), 1):.1f}",
                  f"{purity:.3f}", f"{completeness:.3f}")
    console.print(table)
    story_table = Table(title="Demo stories (evaluation labels)")
    for col in ("story", "cases", "placed", "problems", "in main problem", "main problem purity",
                "main problem title"):
        story_table.add_column(col, justify="left" if col in ("story", "main problem title")
                               else "right")
    by_story: dict[str, list[Assignment]] = defaultdict(list)
    for a in out:
        if a.case_id in stories:
            by_story[stories[a.case_id]].append(a)
    sizes = Counter(a.problem_key for a in out if a.problem_key)
    story_in: dict[str | None, Counter[str]] = defaultdict(Counter)
    for a in out:
        story_in[a.problem_key][stories.get(a.case_id, "-")] += 1
    for story, items in sorted(by_story.items()):
        placed = [a.problem_key for a in items if a.problem_key]
        counts = Counter(placed)
        main, main_n = counts.most_common(1)[0] if counts else (None, 0)
        main_purity = story_in[main][story] / sizes[main] if main else 0.0
        title = index.problems[main].title if main in index.problems else ""
        story_table.add_row(story, str(len(items)), str(len(placed)), str(len(counts)),
                            f"{main_n / max(len(placed), 1):.2f}", f"{main_purity:.2f}", title)
    console.print(story_table)
    console.print(f"(enrich of the stream took {enrich_secs:.1f} s, not counted in cases/s)")


def _channel_places(pipeline: Any) -> dict[str, dict[str, Any]]:
    """The demo's town communities and their towns, as the demo loads them (channel places):
    each town's name run through the territory stage gives its settlement and municipality."""
    from otklik.demo.stream_vocab import load_regions

    places: dict[str, dict[str, Any]] = {}
    for code, region in load_regions().items():
        for channel in region.channels:
            if not channel.city:
                continue
            found = pipeline.process([{"id": "c", "text": f"г. {channel.city}",
                                       "region": code}])[0]["territory"]
            if found.get("municipality"):
                places[channel.name] = {"region": code, "municipality": found["municipality"],
                                        "settlement": found.get("settlement") or {}}
    return places


def _oktmo(code: object) -> int | None:
    return int(code) if isinstance(code, str) and code.isdigit() else None


def main() -> None:
    """Run the benchmark and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000, help="synthetic cases")
    parser.add_argument("--demo", type=int, default=6_000, help="demo stream messages (0: skip)")
    args = parser.parse_args()
    console = Console()
    synthetic_table(args.n, console)
    if args.demo:
        demo_table(args.demo, console)


if __name__ == "__main__":
    main()
