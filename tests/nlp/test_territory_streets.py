"""A street-looking mention («на Чичерина», «по Советской») is a street of the town the
message speaks from (its thread's or its channel's), not a same-named village elsewhere,
unless the text names that village's district (pure: the territory stage, no database)."""

from __future__ import annotations

from typing import Any

import pytest

from otklik.intake.place_context import Town, street_over_village, town_of, village_to_street
from otklik.nlp.territory import TerritoryStage
from otklik.nlp.territory_text import bare_street, street_looking

# The channel «Администрация города Тамбова» speaks for the town of Tambov.
TAMBOV = Town("68", 68701, 68701000001,
             {"settlement": {"name": "Тамбов", "oktmo": "68701000001"}})
VILLAGE_IDS = {"municipality_id": 68642, "settlement_id": 68642475101}


@pytest.fixture(scope="module")
def stage() -> TerritoryStage:
    return TerritoryStage()


def _record(stage: TerritoryStage, text: str) -> dict[str, Any]:
    """The pipeline's record of a text as intake sees it (territory answer and explanation)."""
    found = stage.recognize(text, "68")
    return {"territory": dict(found.value), "explain": {"territory": found.explain}}


def _values(record: dict[str, Any]) -> dict[str, Any]:
    territory = record["territory"]
    named = territory.get("settlement") is not None
    return {"region_code": "68", "street": territory.get("street"), "house": None,
            **(VILLAGE_IDS if named else {"municipality_id": None, "settlement_id": None})}


@pytest.mark.parametrize(("text", "span", "street"), [
    ("Когда расселят барак на Чичерина?", "Чичерина", "улица Чичерина"),
    ("Ямы по Советской не латают", "Советской", "улица Советская"),
    ("Напротив Гагарина свалка", "Гагарина", "улица Гагарина"),
    ("Живу в Чичерино", "Чичерино", None),
    ("Еду из Чичерина", "Чичерина", None),
    ("Чичерина", "Чичерина", None),
])
def test_street_looking_mentions(text: str, span: str, street: str | None) -> None:
    start = text.index(span)
    assert street_looking(text, start, start + len(span)) == street


def test_street_in_the_channels_town_before_a_village_elsewhere(stage: TerritoryStage) -> None:
    text = "Когда расселят барак на Чичерина? Живём в аварийном доме, крыша течёт."
    record = _record(stage, text)
    # Alone, the stage takes «Чичерина» for the village Чичерино of Токарёвский район.
    assert record["territory"]["settlement"]["name"] == "Чичерино"
    assert street_over_village(text, record) == "улица Чичерина"
    values = _values(record)
    village_to_street(values, text, record, TAMBOV)
    assert (values["region_code"], values["municipality_id"],
            values["settlement_id"]) == TAMBOV[:3]
    assert values["street"] == "улица Чичерина"
    assert record["territory"]["settlement"]["name"] == "Тамбов"
    assert "Чичерино" in record["explain"]["territory_street_not_village"]


def test_the_village_stays_when_its_district_is_named(stage: TerritoryStage) -> None:
    text = "Барак на Чичерина Токарёвского района разваливается, когда расселят?"
    record = _record(stage, text)
    assert record["territory"]["municipality"]["name"] == "Токарёвский район"
    assert street_over_village(text, record) is None
    values = _values(record)
    village_to_street(values, text, record, TAMBOV)
    assert values["settlement_id"] == VILLAGE_IDS["settlement_id"]


def test_the_village_stays_when_named_as_a_village_or_without_a_town(
        stage: TerritoryStage) -> None:
    text = "В деревне Чичерино барак разваливается, когда расселят?"
    record = _record(stage, text)
    assert record["territory"]["settlement"]["name"] == "Чичерино"
    assert street_over_village(text, record) is None
    # No thread or channel town: nothing to resolve the street to.
    text = "Когда расселят барак на Чичерина?"
    record = _record(stage, text)
    values = _values(record)
    village_to_street(values, text, record, None)
    assert values["settlement_id"] == VILLAGE_IDS["settlement_id"] and not values["street"]
    # A town of another region does not take it either.
    village_to_street(values, text, record, Town("36", 36701, 36701000001))
    assert values["settlement_id"] == VILLAGE_IDS["settlement_id"]


def test_the_town_is_the_threads_place_else_the_channels() -> None:
    parent = {"region_code": "68", "municipality_id": 68715, "settlement_id": 68715000001,
              "result": {"territory": {"settlement": {"name": "Мичуринск"}}}}
    town = town_of(parent, None)
    assert town is not None and town[:3] == ("68", 68715, 68715000001)
    assert town.nodes["settlement"] == {"name": "Мичуринск"}
    assert town_of({"region_code": "68", "municipality_id": None, "settlement_id": None},
                   None) is None


@pytest.mark.parametrize(("text", "street"), [
    ("Дорога на Красной вся в ямах, каждый день езжу на работу.", "улица Красная"),
    ("Площадка на Гидротурбинной утопает в мусоре уже месяц.", "улица Гидротурбинная"),
    ("Кто отвечает за дорогу на Партизанской? Куда писать?", "улица Партизанская"),
    ("Ямы по Чапаева не латают с весны.", "улица Чапаева"),
    # An adjective before its noun, a person after «жалоба на», a town: no street.
    ("Дороги по Тамбовской области разбиты.", None),
    ("Написали жалобу на Иванова, ответа нет.", None),
    ("В Мичуринске нет воды.", None),
])
def test_a_street_named_without_its_type_word(text: str, street: str | None) -> None:
    found = bare_street(text)
    assert (found[0] if found else None) == street


def test_the_stage_reads_a_bare_street_but_leaves_a_village_it_chose(
        stage: TerritoryStage) -> None:
    found = stage.recognize("В Тамбове дорога на Партизанской вся в ямах.", "68").value
    assert found["settlement"]["name"] == "Тамбов"
    assert found["street"] == "улица Партизанская"
    # «на Чичерина» was taken for the village Чичерино: intake settles it
    # (street_over_village), so the stage reports no street of that word.
    village = stage.recognize("Когда расселят барак на Чичерина?", "68").value
    assert village["settlement"]["name"] == "Чичерино" and village["street"] is None
