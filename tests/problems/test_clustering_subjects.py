"""What one problem is: one subject in one place, as a regional center's curator files it
(no database). The street tells problems apart only for a subject at an address in a town;
villages are filed by district; an outage is its own event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from otklik.problems.clustering import Assignment, CaseFeatures, ProblemIndex, assign

T0 = datetime(2024, 9, 2, 9, 0, tzinfo=UTC)
MICHURINSK = dict(region="68", municipality_id=68715, municipality_name="город Мичуринск",
                  settlement_id=68715000001, settlement_name="Мичуринск",
                  settlement_population=93_000)
TOKAREVKA = dict(region="68", municipality_id=68642, municipality_name="Токарёвский район")


def _case(cid: int, text: str, day: float, subtopic: str, street: str | None = None,
          **place: object) -> CaseFeatures:
    where = {**MICHURINSK, **place}
    return CaseFeatures(case_id=cid, created_at=T0 + timedelta(days=day),
                        topic=subtopic.split(".")[0], subtopic=subtopic, street=street,
                        house=None, text=text, **where)  # type: ignore[arg-type]


def _run(cases: list[CaseFeatures]) -> tuple[ProblemIndex, dict[int, Assignment]]:
    index = ProblemIndex()
    return index, {c.case_id: assign(c, index) for c in cases}


def test_stray_dogs_of_one_town_are_one_problem_whatever_the_street_and_words() -> None:
    index, out = _run([
        _case(1, "Стая бродячих собак на улице Гоголевской кидается на прохожих.", 0,
              "ecology.stray_animals", "улица Гоголевская"),
        _case(2, "У школы на Советской псы бегают без хозяина, дети боятся.", 3,
              "ecology.stray_animals", "улица Советская"),
        _case(3, "Когда отловят бездомных животных? Страшно выйти вечером.", 9,
              "ecology.stray_animals"),
    ])
    keys = {a.problem_key for a in out.values()}
    assert len(keys) == 1, out
    state = index.problems[keys.pop() or ""]
    assert state.street is None and state.size == 3
    assert state.title == "Бездомные собаки и животные без владельцев — Мичуринск"


def test_one_street_of_a_town_is_one_problem_across_road_subtopics() -> None:
    index, out = _run([
        _case(1, "Ямы на Советской по колено, колесо пробил.", 0, "roads.potholes",
              "улица Советская"),
        _case(2, "На Советской тротуар разбит, плитка вздыбилась.", 2, "roads.sidewalks",
              "улица Советская"),
        _case(3, "Гоголевская вся в ямах, маршрутки объезжают по встречке.", 4,
              "roads.potholes", "улица Гоголевская"),
    ])
    assert out[1].problem_key == out[2].problem_key != out[3].problem_key
    assert index.problems[out[1].problem_key or ""].title.endswith("ул. Советская, Мичуринск")


def test_a_bridge_is_a_problem_apart_from_the_potholes_of_its_street() -> None:
    _, out = _run([
        _case(1, "Путепровод на Лаврова разрушается, бетон сыплется.", 0, "roads.bridges",
              "улица Лаврова"),
        _case(2, "На Лаврова ямы по колено, колесо пробил.", 1, "roads.potholes",
              "улица Лаврова"),
        _case(3, "Мост на Лаврова в трещинах, когда ремонт?", 2, "roads.bridges",
              "улица Лаврова"),
    ])
    assert out[1].problem_key == out[3].problem_key != out[2].problem_key


def test_no_water_and_no_power_the_same_day_are_two_problems() -> None:
    _, out = _run([
        _case(1, "Нет воды с утра, ничего не объясняют.", 0, "utilities.no_water"),
        _case(2, "Отключили свет во всём районе, холодильники текут.", 0.2, "utilities.power"),
        _case(3, "Воды нет уже полдня, когда дадут?", 0.4, "utilities.no_water"),
    ])
    assert out[1].problem_key == out[3].problem_key != out[2].problem_key


def test_villages_are_filed_by_district_towns_by_themselves() -> None:
    chicherino = dict(TOKAREVKA, settlement_id=68642475101, settlement_name="Чичерино",
                      settlement_population=358)
    polyana = dict(TOKAREVKA, settlement_id=68642410101, settlement_name="Полетаево",
                   settlement_population=900)
    index, out = _run([
        _case(1, "В Чичерино контейнерную площадку не убирают, мусор по всей улице.", 0,
              "waste.container_sites", **chicherino),
        _case(2, "В Полетаево нет площадки для мусора, несём в лес.", 5,
              "waste.container_sites", **polyana),
        # Another subject in the same district stays apart.
        _case(3, "В Полетаево собаки без хозяина бегают стаей.", 6,
              "ecology.stray_animals", **polyana),
        # A town keeps its own problem.
        _case(4, "Контейнерная площадка на Гоголевской завалена мусором.", 6,
              "waste.container_sites", "улица Гоголевская"),
    ])
    assert out[1].problem_key == out[2].problem_key
    assert len({out[1].problem_key, out[3].problem_key, out[4].problem_key}) == 3
    district = index.problems[out[1].problem_key or ""]
    assert district.settlement_id is None and district.rural
    assert district.title == "Контейнерные площадки — Токарёвский район"


def test_a_street_names_no_separate_problem_in_a_village() -> None:
    village = dict(TOKAREVKA, settlement_id=68642475101, settlement_name="Чичерино",
                   settlement_population=358)
    index, out = _run([
        _case(1, "Яма на улице Центральной, не проехать.", 0, "roads.potholes",
              "улица Центральная", **village),
        _case(2, "На Садовой в Чичерино дорогу размыло.", 2, "roads.potholes",
              "улица Садовая", **village),
    ])
    assert out[1].problem_key == out[2].problem_key
    assert index.problems[out[1].problem_key or ""].street is None


def test_the_clinic_queue_and_the_medicines_of_a_town_are_two_problems() -> None:
    _, out = _run([
        _case(1, "К терапевту не записаться, талонов нет неделями.", 0, "health.appointments"),
        _case(2, "Льготные лекарства в аптеке не выдают второй месяц.", 1, "health.medicines"),
        _case(3, "В регистратуре поликлиники очередь на запись к врачу на месяц.", 2,
              "health.appointments"),
    ])
    assert out[1].problem_key == out[3].problem_key != out[2].problem_key
