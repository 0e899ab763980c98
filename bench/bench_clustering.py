"""Throughput and quality of problem clustering (otklik.problems.clustering).

1. Synthetic: N cases (default 50,000) over 90 days from templates x streets x towns
   (one town per 250 cases), generated around known incidents (a pothole on one street,
   an outage in one district), so the clusters can be scored against the truth. Timed
   twice: with lemmas and the dedup signature given (what a worker gets from the enrich
   records) and from the raw text. Prints cases/s, problems created, mean candidates
   scored per assign, and purity (share of cases in a problem whose main incident is
   theirs) / completeness (share of an incident's cases in its main problem).
2. Demo stream (``--demo N``, default 20,000 messages; 0 skips): the generated stream is
   enriched by the real pipeline (topic, territory, then the place from the thread or the
   channel's town as intake fills it), made into cases as otklik.cases.builder makes them,
   and clustered. Scored with B-cubed precision and recall against the true problem the
   generator records for each message (``raw["_demo"]["incident"]``, evaluation only),
   beside the plain baseline (same subtopic + same settlement + 14 days); also on the
   cases with a topic and a place, and with the generator's own subject and place given
   to the matching (what the matching achieves when the stages before it are right).
3. St Petersburg portal reports (``--spb N``, default 20,000; 0 skips), read at run time
   from ../shared/data (evaluation only, never copied into the repository): the true
   groups are the portal's sub-category x municipal okrug.

    .venv/bin/python bench/bench_clustering.py [--n 50000] [--demo 20000] [--spb 20000]
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
from shared_data import SHARED_DATA

from otklik.demo.stream_vocab import stable_int
from otklik.nlp import dedup
from otklik.nlp.morph import lemmatize, tokenize
from otklik.nlp.taxonomy.taxonomy import load_taxonomy
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


def bcubed(predicted: dict[int, Hashable], truth: dict[int, Hashable]) -> tuple[float, float]:
    """B-cubed (precision, recall) of a clustering against true groups, over the items of
    ``truth``; an item the clustering left out is a cluster of its own."""
    clusters: dict[Hashable, list[int]] = defaultdict(list)
    groups: dict[Hashable, list[int]] = defaultdict(list)
    for item, label in truth.items():
        clusters[predicted.get(item, ("alone", item))].append(item)
        groups[label].append(item)
    both: Counter[tuple[Hashable, Hashable]] = Counter(
        (predicted.get(item, ("alone", item)), label) for item, label in truth.items())
    precision = recall = 0.0
    for (cluster, label), n in both.items():
        precision += n * n / len(clusters[cluster])
        recall += n * n / len(groups[label])
    total = max(len(truth), 1)
    return precision / total, recall / total


def baseline(cases: Sequence[CaseFeatures], days: int = 14) -> dict[int, Hashable]:
    """The plain grouping to beat (subtopic + settlement + 14 days): same subtopic, same
    settlement (or municipality when no settlement is known), within ``days`` of the
    group's last case."""
    open_groups: dict[tuple[Any, ...], tuple[int, datetime]] = {}
    out: dict[int, Hashable] = {}
    serial = 0
    for c in sorted(cases, key=lambda c: (c.created_at, c.case_id)):
        place = c.settlement_id or c.municipality_id
        if not c.subtopic or place is None:
            continue
        key = (c.subtopic, c.region, place)
        group = open_groups.get(key)
        if group is None or c.created_at - group[1] > timedelta(days=days):
            serial += 1
            group = (serial, c.created_at)
        open_groups[key] = (group[0], c.created_at)
        out[c.case_id] = group[0]
    return out


def _scores_row(name: str, predicted: dict[int, Hashable], truth: dict[int, Hashable],
                ) -> list[str]:
    precision, recall = bcubed(predicted, truth)
    f1 = 2 * precision * recall / max(precision + recall, 1e-9)
    sizes = Counter(predicted[i] for i in truth if i in predicted)
    singles = sum(1 for n in sizes.values() if n == 1)
    return [name, f"{sum(sizes.values()):,}", f"{len(sizes):,}", f"{singles:,}",
            f"{singles / max(len(truth), 1):.3f}", f"{precision:.3f}", f"{recall:.3f}",
            f"{f1:.3f}"]


def _quality_table(title: str, rows: list[list[str]]) -> Table:
    table = Table(title=title)
    for col in ("clustering", "cases placed", "problems", "single-case", "single-case / cases",
                "B³ precision", "B³ recall", "B³ F1"):
        table.add_column(col, justify="left" if col == "clustering" else "right")
    for row in rows:
        table.add_row(*row)
    return table


@dataclass
class DemoCases:
    """The demo stream turned into cases as the demo makes them, with their true problems."""

    messages: int
    cases: list[CaseFeatures]
    # The same cases with the generator's topic, subtopic, place and street, as if every
    # stage before clustering were right: what the matching itself achieves.
    oracle: list[CaseFeatures]
    truth: dict[int, Hashable]
    stories: dict[int, str]
    enrich_secs: float


def demo_cases(total: int) -> DemoCases:
    """Enrich the demo stream with the real pipeline and make cases as otklik.cases.builder
    does: a comment joins its post's case unless it is another resident's matter on another
    topic; the same resident's message on the same topic and district within 30 days joins
    their case. The generator's ``incident`` of a case's first message is its true problem
    (evaluation only)."""
    from otklik.demo.stream import DEMO_META_KEY, generate_stream
    from otklik.intake.place_context import street_over_village
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
    stated: dict[tuple[str, str], dict[str, Any] | None] = {}
    populations = _populations()
    thread: dict[str, dict[str, Any]] = {}  # source_id -> the place its message got
    case_of: dict[str, int] = {}  # source_id -> case id
    owner: dict[int, tuple[str | None, str | None]] = {}  # case -> (author, topic)
    recent: dict[tuple[Any, ...], tuple[int, datetime]] = {}
    cases: dict[int, CaseFeatures] = {}
    oracle: list[CaseFeatures] = []
    truth: dict[int, Hashable] = {}
    stories: dict[int, str] = {}
    for i, (msg, rec) in enumerate(zip(messages, enriched, strict=True)):
        # The place as enrichment fills it (otklik.intake.place_context): the text, else
        # the post the comment answers, else the channel's town; a street-looking mention
        # («на Чичерина») is a street of that town rather than a village elsewhere.
        ter = dict(rec["territory"])
        region_found = (ter.get("region") or {}).get("code")
        parent = thread.get(msg.parent_source_id or "")
        # The settlement the sender gave in a form's field, else the channel's town.
        place = _stated_place(pipeline, msg, stated) or places.get(msg.channel or "")
        town = parent or (place and {"region_code": place["region"], **place})
        if town and region_found in (None, town.get("region_code")) and (
                (ter.get("settlement") or {}).get("oktmo")
                != (town.get("settlement") or {}).get("oktmo")):
            street = street_over_village(msg.text or "", rec)
            if street:
                ter = {**ter, "municipality": town.get("municipality"),
                       "settlement": town.get("settlement"), "street": street,
                       "region": {"code": town.get("region_code")}}
                region_found = town.get("region_code")
        named = ter.get("municipality") or ter.get("settlement") or ter.get("street")
        if parent and not named and region_found in (None, parent["region_code"]):
            ter = dict(parent)
        if (place and not ter.get("municipality") and not ter.get("settlement")
                and region_found in (None, place["region"])):
            ter.update(municipality=place["municipality"], settlement=place["settlement"])
        if ter.get("municipality") or ter.get("settlement"):
            thread[msg.source_id] = {**ter, "region_code": region_found or msg.region}
        topic = rec["topic"]["code"] if rec["relevant"] else None
        parent_case = case_of.get(msg.parent_source_id or "")
        if parent_case is not None:
            author, case_topic = owner[parent_case]
            own = (rec["relevant"] and topic and topic != case_topic and msg.author_id
                   and msg.author_id != author)
            if not own:
                case_of[msg.source_id] = parent_case
                continue
        if not rec["relevant"]:
            continue
        muni, settle = ter.get("municipality") or {}, ter.get("settlement") or {}
        muni_id = _oktmo(muni.get("oktmo"))
        repeat_key = (msg.author_id, msg.source, topic, muni_id)
        earlier = recent.get(repeat_key) if msg.author_id else None
        if earlier and msg.created_at - earlier[1] <= timedelta(days=30):
            case_of[msg.source_id] = earlier[0]
            continue
        meta = msg.raw.get(DEMO_META_KEY) or {}
        cases[i] = CaseFeatures(
            case_id=i,
            created_at=msg.created_at,
            topic=topic,
            subtopic=(rec.get("subtopic") or {}).get("code"),
            region=(ter.get("region") or {}).get("code") or ter.get("region_code") or msg.region,
            municipality_id=muni_id,
            settlement_id=_settlement_id(settle, muni),
            street=ter.get("street"),
            house=ter.get("house"),
            text=msg.text,
            signature=rec.get("dedup_key"),
            settlement_name=settle.get("name"),
            municipality_name=muni.get("name"),
            settlement_population=populations.get(settle.get("oktmo") or "") or populations.get(
                (muni.get("oktmo"), settle.get("name"))),
        )
        case_of[msg.source_id] = i
        owner[i] = (msg.author_id, topic)
        if msg.author_id:
            recent[repeat_key] = (i, msg.created_at)
        # Evaluation only: the problem the generator wrote the message for.
        truth[i] = meta.get("incident") or ("not a problem", i)
        oracle.append(_oracle(cases[i], meta, msg.region))
        if meta.get("story"):
            stories[i] = meta["story"]
    ordered = sorted(cases.values(), key=lambda c: (c.created_at, c.case_id))
    oracle.sort(key=lambda c: (c.created_at, c.case_id))
    return DemoCases(len(messages), ordered, oracle, truth, stories, enrich_secs)


def _oracle(case: CaseFeatures, meta: dict[str, Any], region: str) -> CaseFeatures:
    """A case with the generator's subject and place instead of the pipeline's."""
    from otklik.demo.stream_text import Street
    from otklik.demo.stream_vocab import load_regions

    settlement = load_regions()[region].settlement(meta["settlement"])
    street = Street.parse(meta["street"]).name if meta.get("street") else None
    topic = meta.get("topic_hint")
    return replace(
        case, topic=topic if topic in TOPICS else None, subtopic=meta.get("subtopic"),
        region=region, municipality_id=stable_int(f"{region}:{settlement.municipality}", 1, 2**40),
        settlement_id=stable_int(f"{region}:{settlement.name}", 1, 2**40),
        settlement_name=settlement.name, municipality_name=settlement.municipality,
        settlement_population=settlement.population,
        street=f"улица {street}" if street else None)


def demo_table(total: int, console: Console) -> None:
    """Cluster the demo stream's cases and score them against the generator's problems."""
    demo = demo_cases(total)
    out, secs, index = run(demo.cases)
    placed = {a.case_id: a.problem_key for a in out if a.problem_key}
    # Cases that name no place and come from a channel with no town (a governor's page, a
    # mailbox) form no problem by design; scored apart, the rest measure the matching.
    located = {c.case_id: demo.truth[c.case_id] for c in demo.cases
               if c.topic and c.topic != "other"
               and (c.municipality_id is not None or c.settlement_id is not None)}
    plain = baseline(demo.cases)
    oracle_out, _, _ = run(demo.oracle)
    oracle = {a.case_id: a.problem_key for a in oracle_out if a.problem_key}
    # Which stage before the matching costs what: the generator's subject with the
    # pipeline's place, and the pipeline's subject with the generator's place.
    by_id = {c.case_id: c for c in demo.oracle}
    subject_out, _, _ = run([replace(c, topic=by_id[c.case_id].topic,
                                     subtopic=by_id[c.case_id].subtopic) for c in demo.cases])
    place_out, _, _ = run([replace(by_id[c.case_id], topic=c.topic, subtopic=c.subtopic)
                           for c in demo.cases])
    console.print(_quality_table(
        f"Demo stream: {demo.messages:,} messages, {len(demo.cases):,} cases "
        f"({len(demo.cases) / secs:,.0f} cases/s)",
        [_scores_row("otklik.problems, all cases", dict(placed), demo.truth),
         _scores_row("baseline, all cases", plain, demo.truth),
         _scores_row(f"otklik.problems, {len(located):,} cases with a topic and a place",
                     dict(placed), located),
         _scores_row("baseline, the same cases", plain, located),
         _scores_row("otklik.problems on the generator's topic and place", dict(oracle),
                     demo.truth),
         _scores_row("baseline on the generator's topic and place", baseline(demo.oracle),
                     demo.truth),
         _scores_row("otklik.problems, generator's subject, pipeline's place",
                     {a.case_id: a.problem_key for a in subject_out if a.problem_key},
                     demo.truth),
         _scores_row("otklik.problems, pipeline's subject, generator's place",
                     {a.case_id: a.problem_key for a in place_out if a.problem_key},
                     demo.truth)]))
    story_table = Table(title="Demo stories (evaluation labels)")
    for col in ("story", "cases", "placed", "problems", "in main problem", "main problem purity",
                "main problem title"):
        story_table.add_column(col, justify="left" if col in ("story", "main problem title")
                               else "right")
    by_story: dict[str, list[Assignment]] = defaultdict(list)
    for a in out:
        if a.case_id in demo.stories:
            by_story[demo.stories[a.case_id]].append(a)
    sizes = Counter(a.problem_key for a in out if a.problem_key)
    story_in: dict[str | None, Counter[str]] = defaultdict(Counter)
    for a in out:
        story_in[a.problem_key][demo.stories.get(a.case_id, "-")] += 1
    for story, items in sorted(by_story.items()):
        keys = [a.problem_key for a in items if a.problem_key]
        counts = Counter(keys)
        main, main_n = counts.most_common(1)[0] if counts else (None, 0)
        main_purity = story_in[main][story] / sizes[main] if main else 0.0
        title = index.problems[main].title if main in index.problems else ""
        story_table.add_row(story, str(len(items)), str(len(keys)), str(len(counts)),
                            f"{main_n / max(len(keys), 1):.2f}", f"{main_purity:.2f}", title)
    console.print(story_table)
    console.print(f"(enrich of the stream took {demo.enrich_secs:.1f} s, not counted)")


TOPICS = frozenset(t.code for t in load_taxonomy().topics) - {"other"}
SPB = SHARED_DATA / "appeals/spb-2020-train/spb_train.jsonl.gz"


def spb_table(limit: int, console: Console) -> None:
    """St Petersburg portal reports (evaluation only, read from ../shared/data): the true
    groups are the portal's sub-category x municipal okrug; the place is the report's okrug
    (portal metadata, as a channel's place), topic, subtopic and street come from the
    pipeline."""
    import gzip
    import json

    from otklik.nlp.pipeline import Pipeline

    if not SPB.exists():
        console.print(f"[yellow]{SPB} not found: SPb part skipped[/]")
        return
    with gzip.open(SPB, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for _, line in zip(range(limit), fh, strict=False)]
    pipeline = Pipeline.default()
    records = [{"id": r["id"], "text": r["text"], "region": "40"} for r in rows]
    enriched = [x for i in range(0, len(records), 256)
                for x in pipeline.process(records[i:i + 256])]
    okrugs: dict[str, int] = {}
    cases: list[CaseFeatures] = []
    truth: dict[int, Hashable] = {}
    for i, (row, rec) in enumerate(zip(rows, enriched, strict=True)):
        okrug = okrugs.setdefault(row["municipality"], 40_000 + len(okrugs))
        at = datetime.fromisoformat(row["dt"]).replace(tzinfo=UTC)
        cases.append(CaseFeatures(
            case_id=i, created_at=at, topic=rec["topic"]["code"],
            subtopic=(rec.get("subtopic") or {}).get("code"), region="40",
            municipality_id=okrug, settlement_id=okrug, street=rec["territory"].get("street"),
            house=rec["territory"].get("house"), text=row["text"],
            signature=rec.get("dedup_key"), settlement_name=row["municipality"]))
        truth[i] = (row["reason"], row["municipality"])
    cases.sort(key=lambda c: (c.created_at, c.case_id))
    out, secs, _ = run(cases)
    placed = {a.case_id: a.problem_key for a in out if a.problem_key}
    console.print(_quality_table(
        f"SPb reports: {len(cases):,}, true groups: sub-category x okrug "
        f"({len({*truth.values()}):,})",
        [_scores_row("otklik.problems", dict(placed), truth),
         _scores_row("baseline: subtopic + settlement + 14 days", baseline(cases), truth)]))


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


def _stated_place(pipeline: Any, msg: Any, cache: dict[tuple[str, str], dict[str, Any] | None],
                  ) -> dict[str, Any] | None:
    """The settlement the sender named in a form's field (otklik.intake.place_context.
    stated_settlement), found as intake finds it: the name run through the territory stage
    as a settlement of the message's region."""
    from otklik.intake.place_context import settlement_text, stated_settlement

    name = stated_settlement(msg.raw)
    if not name or not msg.region:
        return None
    key = (msg.region, name)
    if key not in cache:
        found = pipeline.process([{"id": "s", "text": settlement_text(name),
                                   "region": msg.region}])[0]["territory"]
        cache[key] = ({"region": msg.region, "municipality": found["municipality"],
                       "settlement": found.get("settlement") or {}}
                      if found.get("municipality") and (found.get("region") or {}).get("code")
                      == msg.region else None)
    return cache[key]


def _populations() -> dict[Any, int]:
    """Settlement -> population from the gazetteer (as the database has it), keyed by OKTMO
    code and by (municipality OKTMO, name) for the settlements that have no code."""
    from otklik.nlp.territory_index import get_index

    ix = get_index()
    out: dict[Any, int] = {}
    for i in range(len(ix.s_pop)):
        if ix.s_oktmo[i]:
            out[ix.s_oktmo[i]] = ix.s_pop[i]
        out[(ix.munis[ix.s_muni[i]]["oktmo"], ix.s_name[i])] = ix.s_pop[i]
    return out


def _settlement_id(settle: dict[str, Any], muni: dict[str, Any]) -> int | None:
    """The settlement's OKTMO code as a number, or a stable number for one without a code."""
    code = _oktmo(settle.get("oktmo"))
    if code is not None or not settle.get("name"):
        return code
    return -stable_int(f"{muni.get('oktmo')}:{settle['name']}", 1, 2**40)


def _oktmo(code: object) -> int | None:
    return int(code) if isinstance(code, str) and code.isdigit() else None


def main() -> None:
    """Run the benchmark and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000, help="synthetic cases (0: skip)")
    parser.add_argument("--demo", type=int, default=20_000,
                        help="demo stream messages (0: skip)")
    parser.add_argument("--spb", type=int, default=20_000, help="SPb reports (0: skip)")
    args = parser.parse_args()
    console = Console(width=160)
    if args.n:
        synthetic_table(args.n, console)
    if args.demo:
        demo_table(args.demo, console)
    if args.spb:
        spb_table(args.spb, console)


if __name__ == "__main__":
    main()
