"""Problem titles read as a person would name them: the rubricator's subtopic and the place,
refined only among problems of one subtopic and place (pure, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from otklik.problems.clustering import ProblemState, title_for

T0 = datetime(2024, 9, 2, 9, 0, tzinfo=UTC)


def _state(subtopic: str, terms: dict[str, float], size: int, *, street: str | None = None,
           settlement: str | None = "Тамбов", municipality: str = "город Тамбов",
           days: int = 0, subtopics: dict[str, int] | None = None) -> ProblemState:
    return ProblemState(
        topic=subtopic.split(".")[0], subtopic=subtopic, region="68", municipality_id=68701,
        settlement_id=68701000001 if settlement else None, street=street,
        first_seen=T0 + timedelta(days=days), last_seen=T0 + timedelta(days=days + 5),
        terms=terms, size=size, settlement_name=settlement, municipality_name=municipality,
        subtopics=subtopics if subtopics is not None else {subtopic: size})


def test_a_problem_is_named_by_its_subtopic_and_place() -> None:
    roof = _state("housing.roof", {"куртка": 3.0, "крыша": 3.0, "протекать": 2.0}, 3,
                  street="улица Советская")
    assert title_for(roof) == "Протекающая крыша — ул. Советская, Тамбов"
    dogs = _state("ecology.stray_animals", {"собака": 4.0, "стая": 2.0}, 4,
                  settlement="Мичуринск", municipality="город Мичуринск")
    assert title_for(dogs) == "Бездомные собаки и животные без владельцев — Мичуринск"
    district = _state("utilities.no_water", {"вода": 9.0}, 9, settlement=None,
                      municipality="Лаганский район")
    assert title_for(district) == "Нет воды — Лаганский район"


def test_no_word_of_the_texts_names_a_lone_problem() -> None:
    """«Куртка», «Сильный подрядчик», «Участник»: words every case shares but that name
    no subject never make a title."""
    site = _state("construction.sites",
                  {"куртка": 5.0, "подрядчик": 5.0, "сильный подрядчик": 5.0, "участник": 5.0},
                  5, settlement="Мичуринск", municipality="город Мичуринск")
    title = title_for(site, lambda term: 5.0)
    assert title == "Строительные площадки и нарушения — Мичуринск"


def test_cases_spread_over_subtopics_are_named_by_the_topic() -> None:
    street = _state("roads.potholes", {"яма": 2.0, "тротуар": 2.0}, 4, street="улица Советская",
                    subtopics={"roads.potholes": 2, "roads.sidewalks": 2})
    assert title_for(street) == "Дороги — ул. Советская, Тамбов"
    mostly = _state("roads.potholes", {"яма": 3.0}, 4, street="улица Советская",
                    subtopics={"roads.potholes": 3, "roads.sidewalks": 1})
    assert title_for(mostly) == "Ямы и разрушение дорожного покрытия — ул. Советская, Тамбов"


def test_problems_of_one_subtopic_and_place_are_told_apart_by_a_rubricator_phrase() -> None:
    where = {"street": "улица Лаврова", "settlement": "Мичуринск",
             "municipality": "город Мичуринск"}
    overpass = _state("roads.bridges", {"путепровод": 3.0, "трещина": 2.0}, 3, **where)
    bridge = _state("roads.bridges", {"мост": 2.0, "пролет": 1.0}, 2, days=40, **where)
    assert title_for(overpass, siblings=[bridge]) == (
        "Мосты, путепроводы, эстакады: путепровод — ул. Лаврова, Мичуринск")
    assert title_for(bridge, siblings=[overpass]) == (
        "Мосты, путепроводы, эстакады: мост — ул. Лаврова, Мичуринск")
    # Alone, each is named by its subtopic and place only.
    assert title_for(overpass) == "Мосты, путепроводы, эстакады — ул. Лаврова, Мичуринск"


def test_without_a_distinctive_phrase_siblings_say_when_they_began() -> None:
    first = _state("ecology.stray_animals", {"собака": 3.0}, 3)
    later = _state("ecology.stray_animals", {"собака": 2.0}, 2, days=45)
    assert title_for(first, siblings=[later]) == (
        "Бездомные собаки и животные без владельцев — Тамбов (с 2 сентября)")
    assert title_for(later, siblings=[first]) == (
        "Бездомные собаки и животные без владельцев — Тамбов (с 17 октября)")
    # A phrase that only repeats the subtopic's name tells nothing apart.
    sites = _state("waste.container_sites", {"контейнерный площадка": 3.0}, 3)
    other = _state("waste.container_sites", {"бак": 2.0}, 2, days=45)
    assert title_for(sites, siblings=[other]) == "Контейнерные площадки — Тамбов (с 2 сентября)"
