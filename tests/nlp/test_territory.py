"""Territory recognition on real-looking residents' messages."""

from __future__ import annotations

from typing import Any

import pytest

from otklik.nlp.address import find_streets, stem
from otklik.nlp.base import Doc, StageResult
from otklik.nlp.territory import TerritoryStage


@pytest.fixture(scope="module")
def stage() -> TerritoryStage:
    return TerritoryStage()


def recognize(stage: TerritoryStage, text: str, hint: str | None = None) -> dict[str, Any]:
    result = stage.recognize(text, hint)
    assert isinstance(result, StageResult)
    value: dict[str, Any] = result.value
    value["_confidence"] = result.confidence
    value["_explain"] = result.explain
    return value


def muni_key(value: dict[str, Any]) -> str | None:
    return value["municipality"]["key"] if value["municipality"] else None


@pytest.mark.parametrize(
    ("text", "hint", "municipality", "settlement"),
    [
        ("В Медвежьегорском районе третий день нет света", "86", "86624", None),
        ("в Мичуринске на перекрёстке не работает светофор", "68", "68715", "Мичуринск"),
        ("Когда в Элисте починят дорогу к рынку?", None, "85701", "Элиста"),
        ("В Петрозаводске опять отключили горячую воду", None, "86701", "Петрозаводск"),
        ("В Тольятти не вывозят мусор уже неделю", None, "36740", "Тольятти"),
        ("в Ставрополе на остановке сломана лавка", None, "07701", "Ставрополь"),
        ("в петрозаводске нет автобусов после десяти", "86", "86701", "Петрозаводск"),
        ("Администрация Льговского района не отвечает на звонки", "38", "38622", None),
        ("Прошу администрацию города Курска убрать снег", "38", "38701", "Курск"),
        ("г. Льгов, ул. Красная — упала опора", "38", "38710", "Льгов"),
    ],
)
def test_case_forms_and_administrations(
    stage: TerritoryStage, text: str, hint: str | None, municipality: str, settlement: str | None
) -> None:
    value = recognize(stage, text, hint)
    assert muni_key(value) == municipality
    if settlement is None:
        assert value["settlement"] is None
    else:
        assert value["settlement"]["name"] == settlement
    assert value["region"]["code"] == municipality[:2]
    assert value["_confidence"] >= 0.5


def test_adjective_of_a_town(stage: TerritoryStage) -> None:
    value = recognize(stage, "мичуринские дороги — это позор, ямы на каждом шагу", "68")
    assert value["settlement"]["name"] == "Мичуринск"


def test_abbreviations_and_district(stage: TerritoryStage) -> None:
    value = recognize(stage, "Курский р-н, с. Клюква: разбита дорога до школы", "38")
    assert muni_key(value) == "38620"
    assert value["settlement"]["name"] == "Клюква"
    assert value["settlement"]["type"] == "с"


def test_co_mentioned_district_resolves_a_common_village_name(stage: TerritoryStage) -> None:
    text = "Жители д. Александровка Курского района просят отсыпать дорогу"
    value = recognize(stage, text, "38")
    assert muni_key(value) == "38620"
    assert value["settlement"]["name"] == "Александровка"
    # The same village name without the district is ambiguous: lower confidence.
    alone = recognize(stage, "Жители д. Александровка просят отсыпать дорогу", "38")
    assert alone["settlement"]["name"] == "Александровка"
    assert alone["_confidence"] < value["_confidence"]


def test_region_hint_chooses_between_same_name_districts(stage: TerritoryStage) -> None:
    text = "В Октябрьском районе не ходит автобус"
    assert muni_key(recognize(stage, text, "38")) == "38628"
    assert muni_key(recognize(stage, text, "85")) == "85623"


def test_whole_country_without_hint(stage: TerritoryStage) -> None:
    value = recognize(stage, "В Ростове-на-Дону снова затопило подземный переход", None)
    assert value["region"]["code"] == "60"
    assert value["settlement"]["name"] == "Ростов-на-Дону"
    value = recognize(stage, "в Нижнем Новгороде не убирают снег", None)
    assert value["region"]["code"] == "22"


def test_common_word_village_needs_a_type_word(stage: TerritoryStage) -> None:
    with_type = recognize(stage, "В деревне Мир Пошехонского района нет дороги", "78")
    assert with_type["settlement"]["name"] == "Мир"
    assert muni_key(with_type) == "78634"
    without = recognize(stage, "Хочется, чтобы в мире было больше порядка", "78")
    assert without["settlement"] is None and without["municipality"] is None


def test_a_lowercase_common_noun_is_not_a_village(stage: TerritoryStage) -> None:
    # «мусорка» is a bin; the village Мусорка of Ставропольский район (Samara) needs the
    # district named or a type word.
    bin_ = recognize(stage, "На мусорке опять свалка, никто не убирает", "36")
    assert bin_["settlement"] is None and bin_["municipality"] is None
    named = recognize(stage, "На мусорке в Ставропольском районе опять свалка", "36")
    assert named["settlement"]["name"] == "Мусорка"
    typed = recognize(stage, "В селе Мусорка опять свалка", "36")
    assert typed["settlement"]["name"] == "Мусорка"
    # A town or a large village written in lowercase is still found.
    town = recognize(stage, "в кинель-черкассах нет воды третий день", "36")
    assert town["settlement"]["name"] == "Кинель-Черкассы"
    assert recognize(stage, "в мичуринске опять ямы", "68")["settlement"]["name"] == "Мичуринск"


@pytest.mark.parametrize(
    "text",
    [
        "Мир во всём мире, труд на благо школы, весна пришла, а ключи от подвала потеряли",
        "В школе нет учителей физики, а поле за школой никто не косит",
        "Иванов Иван Петрович просит помочь с оформлением пенсии",
        "Спасибо за быстрый ответ, всё починили!",
        "Ключ от щитовой у председателя, а на дворе весна и лужи",
    ],
)
def test_no_place_texts(stage: TerritoryStage, text: str) -> None:
    value = recognize(stage, text, "38")
    assert value["region"] is None
    assert value["municipality"] is None
    assert value["settlement"] is None
    assert value["_confidence"] < 0.2


def test_a_street_in_the_postal_form_is_not_a_village(stage: TerritoryStage) -> None:
    value = recognize(stage, "Отопления нет Октябрьская ул., д. 97А который месяц", "07")
    assert value["settlement"] is None and value["street"] == "улица Октябрьская"
    value = recognize(stage, "Машины паркуются на газонах на Моршанском ш. 22", "68")
    assert value["settlement"] is None and value["street"] == "шоссе Моршанское"


def test_street_names_are_not_taken_for_places(stage: TerritoryStage) -> None:
    value = recognize(stage, "На улице Курской у дома 5 яма", "68")
    assert value["street"] == "улица Курская"
    assert value["house"] == "5"
    assert value["municipality"] is None


def test_explanation_names_spans_and_candidates(stage: TerritoryStage) -> None:
    value = recognize(stage, "В селе Паданы Медвежьегорского района нет связи", "86")
    assert value["settlement"]["name"] == "Паданы"
    assert muni_key(value) == "86624"
    spans = {m["span"] for m in value["_explain"]["mentions"]}
    assert {"Паданы", "Медвежьегорского"} <= spans
    top = value["_explain"]["mentions"][0]["top"][0]
    assert {"level", "name", "key", "region", "score"} <= set(top)


def test_stage_contract_uses_clean_text_and_region(stage: TerritoryStage) -> None:
    docs = [
        Doc(id="1", text="<p>ignored</p>", clean="В Мичуринске прорвало трубу", region="68"),
        Doc(id="2", text="Спасибо!"),
    ]
    results = stage.process(docs)
    assert len(results) == 2
    assert results[0].value["settlement"]["name"] == "Мичуринск"
    assert results[1].value["settlement"] is None
    assert stage.name == "territory"


@pytest.mark.parametrize(
    ("text", "street", "house"),
    [
        ("г. Курск, ул. Союзная д. 71Б, не убирают двор", "улица Союзная", "71б"),
        ("улица Советская 12, подъезд 3", "улица Советская", "12"),
        ("на Ленина 3а опять прорвало трубу", "улица Ленина", "3а"),
        ("пр-т Победы весь в ямах", "проспект Победы", None),
        ("мкр Северный, дом 5к2", "микрорайон Северный", "5к2"),
        ("переулок Школьный д 4", "переулок Школьный", "4"),
        ("на Советской улице 15 нет света", "улица Советская", "15"),
        ("ул. 50 лет Октября, д. 10/2", "улица 50 лет Октября", "10/2"),
        ("ул.К.Маркса, д.3", "улица К. Маркса", "3"),
        ("Московское шоссе, 5 — нет разметки", "шоссе Московское", "5"),
        ("бульвар Рокоссовского не освещён", "бульвар Рокоссовского", None),
        ("проезд Сергеева 7", "проезд Сергеева", "7"),
        ("набережная Варяжская заросла", "набережная Варяжская", None),
        # An adjective naming a masculine or neuter street type, in the nominative.
        ("бульвар Приморском весь в ямах", "бульвар Приморский", None),
        ("На бульваре Приморском яма", "бульвар Приморский", None),
        ("на Невском проспекте пробка", "проспект Невский", None),
        ("в Садовом переулке, д. 4 нет света", "переулок Садовый", "4"),
        ("на Московском шоссе, 5 авария", "шоссе Московское", "5"),
        # A verb after the type word is not a name; the ordinal before it is.
        ("в районе 17-й квартал утопает в мусоре", "квартал 17-й", None),
        ("3-й микрорайон без света", "микрорайон 3-й", None),
        # The postal form: the abbreviated type after the name.
        ("Отопления нет Октябрьская ул., д. 97А который месяц", "улица Октябрьская", "97а"),
        ("паркуются на газонах на Моршанском ш. 22", "шоссе Моршанское", "22"),
        ("Ленинский пр-т 3 без света", "проспект Ленинский", "3"),
        ("Лифт стоит Ленинградская ул 133 который день", "улица Ленинградская", "133"),
        ("Когда заменят лифты Фрунзе ул., д. 81?", "улица Фрунзе", "81"),
        ("г. Самара ул. Ленина 5", "улица Ленина", "5"),
        # A street named without its type word, with a house: an adjective in the nominative,
        # a surname as written.
        ("ст-ца Боргустанская на Октябрьской 180", "улица Октябрьская", "180"),
        ("по Советской, 5 нет света", "улица Советская", "5"),
        ("на Ковалевской 3 яма", "улица Ковалевской", "3"),
        # «-ей»: a soft adjective in the nominative, a noun's genitive plural as written.
        ("на улице Верхней 7 прорвало трубу", "улица Верхняя", "7"),
        ("улица Строителей 5 без света", "улица Строителей", "5"),
        # «проезд» the street type, not the passage of vehicles.
        ("проезд Шокальского", "проезд Шокальского", None),
        ("Проезд 2-й Тамбовский", "проезд 2-й Тамбовский", None),
        ("по проезду Мира", "проезд Мира", None),
        # An ordinal before the name is part of it (1-й and 2-й Садовый are two streets).
        ("1-й Садовый проезд", "проезд 1-й Садовый", None),
        ("на 1-м Садовом проезде яма", "проезд 1-й Садовый", None),
        ("на 2-й Советской улице 4 нет света", "улица 2-я Советская", "4"),
        ("в 3-м Лесном переулке не пройти", "переулок 3-й Лесной", None),
        ("пр-д Фрунзе 3", "проезд Фрунзе", "3"),
    ],
)
def test_street_and_house(text: str, street: str, house: str | None) -> None:
    found = find_streets(text)
    assert found, text
    assert found[0].street == street
    assert found[0].house == house


def test_a_verb_after_a_type_word_names_no_street() -> None:
    assert find_streets("весь квартал утопает в мусоре") == []
    assert [s.street for s in find_streets("ул. ленина 5, улица советская")] == [
        "улица Ленина", "улица Советская"]


@pytest.mark.parametrize("text", [
    "запретить проезд фур",
    "Просим запретить проезд грузовиков по улице",
    "проезд машин через двор",
    "Ограничить проезд большегрузов, площадь дворов мала",
    # after «проезд» and «площадь» (also common nouns) the genitive singular as well
    "запретить проезд транспорта по двору",
    "площадь застройки превышена",
])
def test_a_type_word_before_a_common_noun_in_the_genitive_plural_is_no_street(text: str) -> None:
    """«проезд фур» is the passage of lorries: a lowercase common noun in the genitive plural
    after a street type word written in full names no street; after «проезд» and «площадь»
    one in the genitive singular neither («проезд транспорта»)."""
    assert find_streets(text) == []


def test_a_lowercase_name_in_the_genitive_plural_that_is_a_street_stays() -> None:
    # Animate plurals name streets («проспект Металлургов», «проезд Энтузиастов»).
    assert [s.street for s in find_streets("проспект металлургов 5")] == ["проспект Металлургов"]
    assert [s.street for s in find_streets("проезд энтузиастов")] == ["проезд Энтузиастов"]
    # ... and a name in the genitive singular after a type word that is only a street's
    assert [s.street for s in find_streets("улица мира 5")] == ["улица Мира"]
    assert [s.street for s in find_streets("площадь ленина 3")] == ["площадь Ленина"]


def test_a_surname_in_the_genitive_stays_as_written() -> None:
    assert find_streets("бульвар Рокоссовского, 3")[0].street == "бульвар Рокоссовского"
    assert find_streets("переулок Чкалова")[0].street == "переулок Чкалова"


def test_stem_meets_case_forms() -> None:
    pairs = [("Мичуринск", "Мичуринске"), ("Элиста", "Элисте"), ("Тамбов", "Тамбове"),
             ("Ставрополь", "Ставрополем"), ("Медвежьегорский", "Медвежьегорском")]
    for base, form in pairs:
        assert stem(base) == stem(form)
