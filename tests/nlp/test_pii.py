"""Personal data detection and masking."""

from __future__ import annotations

import pytest

from otklik.nlp.base import Doc
from otklik.nlp.pii import PiiStage, mask, valid_inn, valid_luhn, valid_snils


@pytest.fixture(scope="module")
def stage() -> PiiStage:
    return PiiStage()


def types(stage: PiiStage, text: str) -> list[tuple[str, str]]:
    return [(s["type"], text[s["start"] : s["end"]]) for s in stage.find(text)]


@pytest.mark.parametrize(
    "phone",
    ["+7 (912) 345-67-89", "8-912-345-67-89", "89123456789", "+79123456789", "8 (4712) 51-23-45",
     "8 800 555-35-35", "(912) 345 67 89"],
)
def test_phones_in_russian_formats(stage: PiiStage, phone: str) -> None:
    text = f"Мой номер {phone}, звоните вечером"
    assert types(stage, text) == [("phone", phone)]


def test_local_phone_needs_context(stage: PiiStage) -> None:
    assert types(stage, "тел. 34-56-78") == [("phone", "34-56-78")]
    assert types(stage, "счёт 34-56-78") == []


def test_email(stage: PiiStage) -> None:
    text = "пишите на ivan.petrov-1980@mail.ru или адм@админ.рф"
    assert [t for t, _ in types(stage, text)] == ["email", "email"]


def test_checksummed_numbers() -> None:
    assert valid_snils("112-233-445 95")
    assert not valid_snils("112-233-445 96")
    assert valid_inn("7707083893") and valid_inn("500100732259")
    assert not valid_inn("7707083894")
    assert valid_luhn("4276 3800 1234 5679") and not valid_luhn("4276 3800 1234 5678")


def test_snils_passport_card_inn(stage: PiiStage) -> None:
    text = ("СНИЛС 112-233-445 95, паспорт 45 10 123456, карта 4276 3800 1234 5679, "
            "ИНН 7707083893")
    assert [t for t, _ in types(stage, text)] == ["snils", "passport", "card", "inn"]


def test_passport_needs_context_words(stage: PiiStage) -> None:
    assert types(stage, "серия 4510 номер 123456") == [("passport", "4510 номер 123456")]
    assert [t for t, _ in types(stage, "Заказ 45 10 123456 доставлен")] == []


def test_invalid_checksums_are_not_pii(stage: PiiStage) -> None:
    text = "СНИЛС 112-233-445 96, карта 4276 3800 1234 5678, ИНН 7707083894"
    assert [t for t, _ in types(stage, text) if t != "phone"] == []


def test_numbers_that_are_not_pii(stage: PiiStage) -> None:
    text = "В 2023 году 15 домов, 150 000 руб, дом 12 кв 345, 12.03.2024, 3 500 000 рублей"
    assert types(stage, text) == []


def test_person_names_rule(stage: PiiStage) -> None:
    text = ("Я, Иванова Мария Петровна, живу на ул. Карла Маркса 15. "
            "Глава района Петров С.И. не отвечает. Спросите у Сергея Кузнецова.")
    found = types(stage, text)
    assert ("person", "Иванова Мария Петровна") in found
    assert ("person", "Петров С.И.") in found
    assert ("person", "Сергея Кузнецова") in found
    assert all("Маркса" not in v for _, v in found)


def test_names_can_be_switched_off() -> None:
    assert PiiStage(names=False).find("Иванова Мария Петровна") == []


def test_offsets_refer_to_original_text_and_mask(stage: PiiStage) -> None:
    text = "<p>Иванов Иван Иванович, тел +7 912 345 67 89</p> 😡"
    spans = stage.process([Doc(id="1", text=text)])[0].value
    assert mask(text, spans) == "<p>[ФИО], тел [телефон]</p> 😡"


def test_mask_ignores_overlapping_and_out_of_range_spans() -> None:
    spans = [{"type": "phone", "start": 0, "end": 4}, {"type": "email", "start": 2, "end": 6},
             {"type": "inn", "start": 50, "end": 60}]
    assert mask("1234567", spans) == "[телефон]567"


@pytest.mark.parametrize(
    "text",
    ["", "😡😡", bytes(range(256)).decode("latin-1") * 20,
     "Позвоните 89123456789 " * 5_000, "Call John Smith at +1 212 555 0100"],
)
def test_bad_input(stage: PiiStage, text: str) -> None:
    res = stage.process([Doc(id="1", text=text)])[0]
    assert isinstance(res.value, list)
    assert 0.0 <= res.confidence <= 1.0
    for sp in res.value:
        assert 0 <= sp["start"] < sp["end"] <= len(text)


def test_natasha_names_offline() -> None:
    pytest.importorskip("natasha")
    stage = PiiStage(use_natasha=True)
    text = "Глава района Сергей Петров обещал, а Мария Ивановна ждёт"
    found = [(s["type"], text[s["start"] : s["end"]]) for s in stage.find(text)]
    assert ("person", "Сергей Петров") in found
