"""Problem clustering on real-looking Russian cases (no database)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from otklik.problems.clustering import (
    Assignment,
    CaseFeatures,
    ProblemIndex,
    assign,
    case_terms,
    street_key,
    title_for,
)

T0 = datetime(2024, 9, 2, 9, 0, tzinfo=UTC)

# Places: (region, municipality id, municipality name, settlement id, settlement name).
MICHURINSK = ("68", 68715, "город Мичуринск", 68715000001, "Мичуринск")
TAMBOV = ("68", 68701, "город Тамбов", 68701000001, "Тамбов")
LAGAN = {  # villages of Lagan district, Kalmykia
    "Лагань": 85620101001,
    "Красинское": 85620405101,
    "Улан Хол": 85620420101,
    "Джалыково": 85620410101,
    "Бергин": 85620415101,
}
LAGAN_MUNI = ("85", 85620, "Лаганский район")
YASHKUL_MUNI = ("85", 85650, "Яшкульский район")
KINEL_CHERKASSY_MUNI = ("36", 36626, "Кинель-Черкасский район")
KINEL_CHERKASSY = {"Кинель-Черкассы": 36626432101, "Красная Горка": 36626440101,
                   "Садгород": 36626452101}

# What an index has seen before the scenarios: a varied stream, so that words every
# complaint uses ("дорога", "вода", "когда", "сделать") get a low weight.
BACKGROUND = [
    "Когда отремонтируют дорогу на улице Мира? Ямы огромные, машину не проехать.",
    "На дороге в селе яма на яме, когда будет ремонт дороги?",
    "Во дворе дома 15 нет освещения, темно, страшно ходить вечером.",
    "Уже неделю не вывозят мусор, баки переполнены, когда это закончится?",
    "В поликлинике невозможно записаться к терапевту, талонов нет.",
    "Нет горячей воды уже третий день, управляющая компания молчит.",
    "Автобус 12 ходит раз в час, на остановке не дождаться, когда добавят рейсы?",
    "Бродячие собаки у школы, дети боятся ходить, примите меры.",
    "Крыша течёт, вода в подъезде, управляющая компания не отвечает.",
    "В детском саду нет мест, очередь не двигается второй год.",
    "Дорогу у школы так и не отремонтировали, одни ямы и лужи.",
    "Тротуар на улице Советской разбит, ходить невозможно.",
    "Отключили свет во всём микрорайоне, когда дадут электричество?",
    "Мусорная площадка у дома не убирается, крысы бегают.",
    "Пенсию задерживают, куда обращаться?",
    "В школе холодно, отопление не работает, дети сидят в куртках.",
    "Когда уберут снег во дворе? Не пройти, не проехать.",
    "Вода из крана ржавая, пить невозможно, сделайте что-нибудь.",
    "На дороге нет разметки, пешеходный переход не видно.",
    "Скорая ехала полтора часа, это безобразие.",
    "Интернета нет уже неделю, провайдер не отвечает.",
    "Дорога в деревню размыта, после дождя не проехать.",
    "Опять отключили воду без предупреждения, когда это прекратится?",
    "Ямы на дороге возле рынка, колесо пробил.",
    "Детская площадка сломана, качели висят на одной цепи.",
    "Уличные фонари не горят на всей улице, темно.",
    "Когда отремонтируют подъезд? Штукатурка сыпется.",
    "Лифт не работает вторую неделю, пожилые люди не могут выйти.",
    "Во дворе огромная лужа, машины не проехать, люди ходят по грязи.",
    "Дорога разбита, грузовики ездят, дом трясётся.",
]


def _index() -> ProblemIndex:
    index = ProblemIndex()
    for text in BACKGROUND * 3:
        index.observe(case_terms(text))
    return index


class Builder:
    """Makes CaseFeatures with running ids."""

    def __init__(self) -> None:
        self.next_id = 1

    def case(
        self,
        text: str,
        day: float,
        place: tuple[str, int, str, int | None, str | None] | None,
        topic: str | None = "roads",
        subtopic: str | None = "roads.bridges",
        street: str | None = None,
    ) -> CaseFeatures:
        cid = self.next_id
        self.next_id += 1
        region, muni, muni_name, settlement, settlement_name = place or (None,) * 5
        return CaseFeatures(
            case_id=cid,
            created_at=T0 + timedelta(days=day),
            topic=topic,
            subtopic=subtopic,
            region=region,
            municipality_id=muni,
            settlement_id=settlement,
            street=street,
            house=None,
            text=text,
            settlement_name=settlement_name,
            municipality_name=muni_name,
        )


def lagan(village: str | None) -> tuple[str, int, str, int | None, str | None]:
    return (*LAGAN_MUNI, LAGAN[village] if village else None, village)


def kinel(village: str) -> tuple[str, int, str, int | None, str | None]:
    return (*KINEL_CHERKASSY_MUNI, KINEL_CHERKASSY[village], village)


def run(index: ProblemIndex, cases: list[CaseFeatures]) -> dict[int, Assignment]:
    return {c.case_id: assign(c, index) for c in cases}


# ---- stories ------------------------------------------------------------------------------
OVERPASS = [
    ("Путепровод на улице Лаврова в аварийном состоянии, трещины по всему пролёту.",
     "улица Лаврова", 0),
    ("На путепроводе по Лаврова отвалился кусок ограждения, страшно ходить по тротуару.",
     "улица Лаврова", 3),
    ("Лавровский путепровод держится на честном слове, грузовики трясут весь мост.", None, 6),
    ("Когда начнут ремонт путепровода на Лаврова? Другой дороги через железную дорогу нет!",
     "улица Лаврова", 11),
    ("Мост на Лаврова разваливается, куски бетона падают на пути. Ждём обрушения?",
     "улица Лаврова", 17),
    ("Каждый день стою в пробке перед путепроводом, объезд через переезд ещё хуже.", None, 24),
    ("Путепровод по улице Лаврова: арматура торчит, ограждение ржавое, ремонт обещают годами.",
     "улица Лаврова", 31),
    ("По путепроводу каждый день идет 22 000 машин, а он в аварийном состоянии!", None, 38),
    ("Сколько можно ждать ремонта моста на Лаврова? Пролёт в трещинах.", "Лаврова ул", 45),
    ("Путепровод на Лаврова опять закрыли на одну полосу, пробка до центра.",
     "улица Лаврова", 52),
    ("На Лавровском путепроводе колея и ямы, машины бьют подвеску.", None, 58),
]
POTHOLES = [
    ("Яма на улице Советской напротив аптеки, уже два колеса пробил.", "улица Советская", 2),
    ("На Гоголевской улице ямы по колено, маршрутки объезжают по встречке.",
     "улица Гоголевская", 5),
    ("Советская улица вся в ямах, когда положат асфальт?", "улица Советская", 9),
    ("Липецкое шоссе разбито, ямы после зимы никто не латает.", "шоссе Липецкое", 14),
    ("Гоголевская опять в ямах, заплатки смыло первым дождём.", "улица Гоголевская", 20),
]


def test_overpass_messages_over_two_months_form_one_problem() -> None:
    index, b = _index(), Builder()
    overpass = [b.case(t, d, MICHURINSK, street=s) for t, s, d in OVERPASS]
    potholes = [b.case(t, d, MICHURINSK, subtopic="roads.potholes", street=s)
                for t, s, d in POTHOLES]
    other_town = [b.case("Путепровод на улице Мичуринской в Тамбове весь в трещинах.", 4,
                         TAMBOV, street="улица Мичуринская")]
    stream = sorted(overpass + potholes + other_town, key=lambda c: (c.created_at, c.case_id))
    result = run(index, stream)

    keys = {result[c.case_id].problem_key for c in overpass}
    assert len(keys) == 1, [result[c.case_id] for c in overpass]
    key = keys.pop()
    assert key is not None
    assert not any(result[c.case_id].problem_key == key for c in potholes + other_town)
    state = index.problems[key]
    assert state.size == len(OVERPASS)
    assert state.last_seen - state.first_seen == timedelta(days=58)
    # Named by the rubricator's subtopic and the place, not by a word of the texts.
    assert title_for(state, index.idf) == "Мосты, путепроводы, эстакады — ул. Лаврова, Мичуринск"
    # The later joins say why.
    joined = [result[c.case_id] for c in overpass[1:]]
    assert all(not a.is_new and a.reasons for a in joined)
    assert any("путепровод" in " ".join(a.reasons) for a in joined)


def test_potholes_on_different_streets_are_different_problems() -> None:
    index, b = _index(), Builder()
    cases = [b.case(t, d, MICHURINSK, subtopic="roads.potholes", street=s)
             for t, s, d in POTHOLES]
    result = run(index, cases)
    by_street: dict[str | None, set[str | None]] = {}
    for c in cases:
        by_street.setdefault(street_key(c.street), set()).add(result[c.case_id].problem_key)
    assert all(len(keys) == 1 for keys in by_street.values()), by_street
    all_keys = [next(iter(keys)) for keys in by_street.values()]
    assert len(set(all_keys)) == len(by_street) == 3
    assert "ул. Советская" in index.problems[result[cases[0].case_id].problem_key or ""].title


WATER = [
    ("Лагань", "Третий день без воды в Лагани, посуду не помыть. Это ЧС или как?", 0.1),
    ("Красинское", "В Красинском нет воды со вчерашнего дня, скотину поить нечем.", 0.3),
    ("Улан Хол", "Подвоз воды только в центр, а в Улан Холе на Центральной никого нет. "
                 "Пенсионерам не дойти.", 0.5),
    (None, "Без воды весь Лаганский район, вода в магазинах кончилась.", 0.8),
    ("Джалыково", "Говорят, авария на водозаборе. В Джалыково воды нет вторые сутки.", 1.2),
    ("Лагань", "Когда дадут воду? Водозабор уже два дня чинят, люди без воды.", 1.6),
    ("Бергин", "В Бергине из крана ни капли, водовозка не приезжала.", 2.0),
    ("Красинское", "Воды как не было так и нет, сколько можно ждать ремонта водозабора?", 2.4),
    ("Улан Хол", "Нет водоснабжения в Улан Холе уже три дня, дети и старики без воды.", 2.9),
]


def test_water_intake_outage_in_one_district_is_one_problem() -> None:
    index, b = _index(), Builder()
    cases = [b.case(t, d, lagan(v), topic="utilities", subtopic="utilities.no_water")
             for v, t, d in WATER]
    # The same days, a district away: another outage, another problem.
    yashkul = b.case("В Яшкуле нет воды с утра, никто ничего не объясняет.", 1.0,
                     (*YASHKUL_MUNI, 85650101001, "Яшкуль"),
                     topic="utilities", subtopic="utilities.no_water")
    stream = sorted([*cases, yashkul], key=lambda c: c.created_at)
    result = run(index, stream)
    keys = {result[c.case_id].problem_key for c in cases}
    assert len(keys) == 1, [result[c.case_id] for c in cases]
    key = keys.pop()
    assert result[yashkul.case_id].problem_key not in (None, key)
    state = index.problems[key or ""]
    assert state.settlement_id is None and state.municipality_id == LAGAN_MUNI[1]
    assert state.title == "Нет воды — Лаганский район"


CONTAINERS = [
    ("Кинель-Черкассы", "Контейнерная площадка на Ленина завалена мусором, баки не вывозят "
                        "вторую неделю.", 0),
    ("Красная Горка", "В Красной Горке нет контейнерной площадки, мусор несут в лес, "
                      "а за вывоз платим.", 1),
    ("Садгород", "Контейнерную площадку в Садгороде не огородили, мусор разносит ветер "
                 "по всей улице.", 2),
    ("Кинель-Черкассы", "На площадке у магазина на Ленина опять гора мусора, контейнеры "
                        "переполнены.", 6),
    ("Красная Горка", "Обещали поставить контейнерную площадку в Красной Горке ещё летом, "
                      "до сих пор нет.", 9),
]


def test_container_sites_in_different_villages_are_separate_problems() -> None:
    index, b = _index(), Builder()
    cases = [b.case(t, d, kinel(v), topic="waste", subtopic="waste.container_sites")
             for v, t, d in CONTAINERS]
    result = run(index, cases)
    by_village: dict[int | None, set[str | None]] = {}
    for c in cases:
        by_village.setdefault(c.settlement_id, set()).add(result[c.case_id].problem_key)
    assert all(len(keys) == 1 for keys in by_village.values()), by_village
    assert len({next(iter(k)) for k in by_village.values()}) == 3
    title = index.problems[result[cases[1].case_id].problem_key or ""].title
    assert title == "Контейнерные площадки — Красная Горка", title


def test_case_after_the_window_opens_a_new_problem() -> None:
    index, b = _index(), Builder()
    first = b.case(OVERPASS[0][0], 0, MICHURINSK, street="улица Лаврова")
    second = b.case(OVERPASS[1][0], 2, MICHURINSK, street="улица Лаврова")
    late = b.case(OVERPASS[6][0], 62, MICHURINSK, street="улица Лаврова")
    result = run(index, [first, second, late])
    assert result[second.case_id].problem_key == result[first.case_id].problem_key
    assert result[late.case_id].is_new
    assert result[late.case_id].problem_key != result[first.case_id].problem_key
    # A wider window reaches back to the old problem.
    index2 = _index()
    run(index2, [replace(first), replace(second)])
    wide = assign(late, index2, window=timedelta(days=90))
    assert not wide.is_new


def test_cases_without_place_or_topic_form_no_problem() -> None:
    index, b = _index(), Builder()
    nowhere = b.case("Путепровод в аварийном состоянии, когда отремонтируют?", 0, None)
    result = assign(nowhere, index)
    assert result.problem_key is None and not result.is_new
    assert "место" in result.reasons[0]
    no_topic = b.case("Подскажите, где взять справку о составе семьи?", 0, MICHURINSK,
                      topic=None, subtopic=None)
    result = assign(no_topic, index)
    assert result.problem_key is None and "тем" in result.reasons[0]
    assert len(index) == 0


def test_placeless_near_duplicate_joins_the_problem_it_repeats() -> None:
    index, b = _index(), Builder()
    petition = ("Уважаемый губернатор! Мы, жители Мичуринска, просим включить в план ремонта "
                "путепровод на улице Лаврова. Трещины по всему пролёту, каждый день пробки.")
    original = b.case(petition, 0, MICHURINSK, street="улица Лаврова")
    copy = b.case("Подписываюсь: " + petition, 1, None)
    result = run(index, [original, copy])
    assert result[copy.case_id].problem_key == result[original.case_id].problem_key
    assert "повтор" in result[copy.case_id].reasons[0]
    # Its place is the original's: the copy had none.
    assert index.problems[result[original.case_id].problem_key or ""].street == "улица Лаврова"


def test_replayed_case_is_not_counted_twice() -> None:
    index, b = _index(), Builder()
    c = b.case(OVERPASS[0][0], 0, MICHURINSK, street="улица Лаврова")
    first = assign(c, index)
    again = assign(c, index)
    assert again.problem_key == first.problem_key and not again.is_new
    assert index.problems[first.problem_key or ""].size == 1


def test_merge_and_split() -> None:
    index, b = _index(), Builder()
    cases = [b.case(t, d, MICHURINSK, subtopic="roads.potholes", street=s)
             for t, s, d in POTHOLES]
    result = run(index, cases)
    sov = result[cases[0].case_id].problem_key or ""
    gog = result[cases[1].case_id].problem_key or ""
    size = index.problems[sov].size + index.problems[gog].size
    merged = index.merge(sov, gog)
    assert gog not in index.problems and merged.size == size
    assert merged.street is None and merged.settlement_id == MICHURINSK[3]
    assert merged.title.endswith("— Мичуринск")
    assert index.problem_of(cases[1].case_id) == sov

    moved = [cases[1], cases[4]]  # the Gogolevskaya cases go back out
    remaining = [cases[0], cases[2]]
    new = index.split(sov, moved, remaining)
    assert new.case_ids == {c.case_id for c in moved}
    assert index.problems[sov].case_ids == {c.case_id for c in remaining}
    assert index.problems[sov].size == 2 and new.size == 2
    assert street_key(new.street) == street_key("улица Гоголевская")
    # The operator's split is pinned: an automatic replay does not undo it.
    again = assign(cases[1], index)
    assert again.pinned and again.problem_key == new.key


def test_pin_moves_a_case_and_survives_replay() -> None:
    index, b = _index(), Builder()
    cases = [b.case(t, d, MICHURINSK, subtopic="roads.potholes", street=s)
             for t, s, d in POTHOLES[:2]]
    result = run(index, cases)
    target = result[cases[1].case_id].problem_key
    pinned = index.pin(cases[0].case_id, target, features=cases[0])
    assert pinned.pinned and pinned.problem_key == target
    assert result[cases[0].case_id].problem_key not in index.problems  # emptied, dropped
    assert index.problems[target or ""].size == 2
    replay = assign(cases[0], index)
    assert replay.pinned and replay.problem_key == target
    out = index.pin(cases[1].case_id, None, features=cases[1])
    assert out.problem_key is None and index.problems[target or ""].size == 1
    assert assign(cases[1], index).problem_key is None


def _scenario() -> list[CaseFeatures]:
    b = Builder()
    cases = [b.case(t, d, MICHURINSK, street=s) for t, s, d in OVERPASS]
    cases += [b.case(t, d, MICHURINSK, subtopic="roads.potholes", street=s)
              for t, s, d in POTHOLES]
    cases += [b.case(t, d, lagan(v), topic="utilities", subtopic="utilities.no_water")
              for v, t, d in WATER]
    cases += [b.case(t, d, kinel(v), topic="waste", subtopic="waste.container_sites")
              for v, t, d in CONTAINERS]
    return sorted(cases, key=lambda c: (c.created_at, c.case_id))


def _fingerprint(index: ProblemIndex, cases: list[CaseFeatures]) -> list[tuple[object, ...]]:
    return [
        (a.case_id, a.problem_key, a.is_new, a.score, tuple(a.reasons))
        for a in (assign(c, index) for c in cases)
    ]


def test_same_input_order_gives_same_output() -> None:
    cases = _scenario()
    first = _fingerprint(_index(), cases)
    assert first == _fingerprint(_index(), cases)
    assert len({k for _, k, *_ in first}) > 5


def test_output_does_not_depend_on_the_hash_seed() -> None:
    code = (
        "import json, sys; sys.path.insert(0, 'tests/problems');"
        "import test_clustering as t;"
        "print(json.dumps(t._fingerprint(t._index(), t._scenario()), ensure_ascii=False))"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    outs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run([sys.executable, "-c", code], cwd=root, env=env,
                              capture_output=True, text=True, check=True, timeout=120)
        outs.append(json.loads(proc.stdout))
    assert outs[0] == outs[1]


def test_snapshot_restores_the_index_exactly() -> None:
    cases = _scenario()
    half = len(cases) // 2
    whole = _index()
    expected = _fingerprint(whole, cases)
    part = _index()
    _fingerprint(part, cases[:half])
    restored = ProblemIndex.from_dict(json.loads(json.dumps(part.to_dict())))
    assert _fingerprint(restored, cases[half:]) == expected[half:]


def test_seeding_from_stored_problems_continues_them() -> None:
    index, b = _index(), Builder()
    cases = [b.case(t, d, MICHURINSK, street=s) for t, s, d in OVERPASS[:4]]
    result = run(index, cases)
    stored = index.problems[result[cases[0].case_id].problem_key or ""].to_dict()
    stored["key"], stored["problem_id"] = "", 501
    fresh = _index()
    from otklik.problems.clustering import ProblemState

    key = fresh.add_problem(ProblemState.from_dict(stored))
    assert key == "p501"
    follow = b.case(OVERPASS[4][0], OVERPASS[4][2], MICHURINSK, street=OVERPASS[4][1])
    out = assign(follow, fresh)
    assert out.problem_key == "p501" and fresh.problems["p501"].size == 5


@pytest.mark.parametrize(
    ("street", "key"),
    [("улица Лаврова", "лавров"), ("Лаврова ул.", "лавров"), ("пр-т Ленина", "ленин"),
     (None, None), ("улица", None)],
)
def test_street_key(street: str | None, key: str | None) -> None:
    assert street_key(street) == key


def test_street_named_only_in_the_text_goes_to_that_street() -> None:
    index, b = _index(), Builder()
    cases = [b.case(t, d, MICHURINSK, subtopic="roads.potholes", street=s)
             for t, s, d in POTHOLES[:2]]
    result = run(index, cases)
    # The territory stage missed the street; the text still names Gogolevskaya.
    unnamed = b.case("Когда на Гоголевской засыплют ямы? Вчера машину чуть не угробил.", 7,
                     MICHURINSK, subtopic="roads.potholes")
    out = assign(unnamed, index)
    assert out.problem_key == result[cases[1].case_id].problem_key
    assert any("улица по тексту" in r for r in out.reasons)


def test_outage_reports_a_week_apart_are_different_outages() -> None:
    index, b = _index(), Builder()
    first = b.case(WATER[0][1], 0, lagan("Лагань"), topic="utilities",
                   subtopic="utilities.no_water")
    later = b.case(WATER[5][1], 9, lagan("Лагань"), topic="utilities",
                   subtopic="utilities.no_water")
    result = run(index, [first, later])
    assert result[later.case_id].is_new


def test_seeded_keys_do_not_collide_with_new_ones() -> None:
    index, b = _index(), Builder()
    first = assign(b.case(OVERPASS[0][0], 0, MICHURINSK, street="улица Лаврова"), index)
    snapshot = index.problems[first.problem_key or ""].to_dict()
    fresh = _index()
    from otklik.problems.clustering import ProblemState

    fresh.add_problem(ProblemState.from_dict(snapshot))  # keeps its key "n1"
    other = assign(b.case(POTHOLES[0][0], 1, MICHURINSK, subtopic="roads.potholes",
                          street=POTHOLES[0][1]), fresh)
    assert other.is_new and other.problem_key != snapshot["key"]
    assert len(fresh) == 2


def test_case_naming_only_the_region_joins_a_strong_text_match() -> None:
    index, b = _index(), Builder()
    cases = [b.case(t, d, MICHURINSK, street=s) for t, s, d in OVERPASS[:5]]
    result = run(index, cases)
    key = result[cases[0].case_id].problem_key
    region_only = ("68", None, "", None, None)
    same = b.case("Путепровод на Лаврова разваливается, трещины по всему пролёту!", 6,
                  region_only)  # type: ignore[arg-type]
    other = b.case("Мост через реку в аварийном состоянии, перила сгнили.", 6,
                   region_only)  # type: ignore[arg-type]
    assert assign(same, index).problem_key == key
    out = assign(other, index)
    assert out.problem_key is None and "место" in out.reasons[0]
    assert index.problems[key or ""].street == "улица Лаврова"


def test_case_naming_only_the_region_needs_the_problems_place_not_just_alike_words() -> None:
    """«Нет тротуара, дети идут по дороге» is written the same way in every town: a case
    from a region-wide page that names no place joins a problem of the region only when it
    names that problem's street or town, however alike the words."""
    index, b = _index(), Builder()
    text = "Нет тротуара на улице Садовой, дети идут в школу прямо по дороге."
    first = assign(b.case(text, 0, MICHURINSK, subtopic="roads.sidewalks",
                          street="улица Садовая"), index)
    region_only = ("68", None, "", None, None)
    alike = b.case("Нет тротуара, дети идут в школу прямо по дороге. Сколько ждать?", 2,
                   region_only, subtopic="roads.sidewalks")  # type: ignore[arg-type]
    out = assign(alike, index)
    assert out.problem_key is None and "место" in out.reasons[0]
    named = b.case("Нет тротуара на Садовой, дети идут в школу прямо по дороге!", 3,
                   region_only, subtopic="roads.sidewalks")  # type: ignore[arg-type]
    assert assign(named, index).problem_key == first.problem_key


def test_the_heating_season_in_one_town_stays_one_problem_for_a_month() -> None:
    """Heating not switched on is a season, not a break: reports a week apart in one town
    are one problem (a burst of no water a week apart is two, see above); in another
    village of the district, or after a quiet month, it is another."""
    index, b = _index(), Builder()

    def heating(text: str, day: float, village: str = "Лагань") -> CaseFeatures:
        return b.case(text, day, lagan(village), topic="utilities",
                      subtopic="utilities.heating")

    first = heating("Когда включат отопление в Лагани? В квартирах +14.", 0)
    week = heating("Батареи холодные, отопительный сезон так и не начали.", 7)
    elsewhere = heating("В Красинском не включили отопление, дети мёрзнут.", 12, "Красинское")
    late = heating("Отопления нет, котельная не запущена, сколько ждать?", 40)
    result = run(index, [first, week, elsewhere, late])
    key = result[first.case_id].problem_key
    assert result[week.case_id].problem_key == key and not result[week.case_id].is_new
    assert result[elsewhere.case_id].problem_key != key
    assert result[late.case_id].is_new


def test_a_villages_missing_mobile_signal_lasts_while_a_power_cut_is_an_event() -> None:
    """No mobile signal or no gas in a village is a state of the place: reports two weeks
    apart are one problem. No power two weeks apart is two cuts."""
    index, b = _index(), Builder()

    def report(text: str, day: float, subtopic: str) -> CaseFeatures:
        topic = subtopic.split(".", 1)[0]
        return b.case(text, day, lagan("Лагань"), topic=topic, subtopic=subtopic)

    signal = report("В Лагани нет мобильной связи, до скорой не дозвониться.", 0,
                    "communications.mobile")
    signal_later = report("Связь опять пропала, вышка не работает, сети нет совсем.", 14,
                          "communications.mobile")
    gas = report("В Лагани нет газа, котлы не работают.", 0, "utilities.gas")
    gas_later = report("Газ так и не дали, сидим без газа вторую неделю.", 13, "utilities.gas")
    power = report("В Лагани отключили свет, холодильники разморозились.", 0, "utilities.power")
    power_later = report("Опять нет электричества, РЭС не отвечает.", 14, "utilities.power")
    result = run(index, [signal, gas, power, gas_later, signal_later, power_later])
    assert result[signal_later.case_id].problem_key == result[signal.case_id].problem_key
    assert result[gas_later.case_id].problem_key == result[gas.case_id].problem_key
    assert result[power_later.case_id].is_new


def test_a_town_wide_problem_moves_onto_a_street_only_when_most_of_its_cases_name_it() -> None:
    """Two of six cases naming «ул. Советская» do not make a town's potholes the potholes of
    Sovetskaya Street (later cases naming no street would no longer join them); two of
    three do."""
    def potholes(b: Builder, text: str, day: float, street: str | None = None) -> CaseFeatures:
        return b.case(text, day, MICHURINSK, subtopic="roads.potholes", street=street)

    text = "Ямы на дорогах Мичуринска, колесо пробил, когда залатают ямы?"
    named = "Ямы на дорогах Мичуринска на улице Советской, колесо пробил, когда залатают?"
    index, b = _index(), Builder()
    town = [potholes(b, text, d) for d in range(4)]
    street = [potholes(b, named, 4 + d, "улица Советская") for d in range(2)]
    result = run(index, town + street)
    key = result[town[0].case_id].problem_key
    assert {result[c.case_id].problem_key for c in town + street} == {key}
    assert index.problems[key or ""].street is None

    index, b = _index(), Builder()
    few = [potholes(b, text, 0), potholes(b, named, 1, "улица Советская"),
           potholes(b, named, 2, "улица Советская")]
    result = run(index, few)
    key = result[few[0].case_id].problem_key
    assert {result[c.case_id].problem_key for c in few} == {key}
    assert index.problems[key or ""].street == "улица Советская"
