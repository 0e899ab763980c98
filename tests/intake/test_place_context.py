"""The pure helpers of where a message is when its text does not say (no database)."""

from __future__ import annotations

from otklik.intake.place_context import settlement_text, stated_settlement


def test_the_settlement_a_form_states() -> None:
    assert stated_settlement({"fields": {"settlement": " Мичуринск "}}) == "Мичуринск"
    assert stated_settlement({"fields": {"settlement": ""}}) is None
    assert stated_settlement({"fields": {"name": "Анна"}}) is None
    assert stated_settlement({"fields": "Мичуринск"}) is None
    assert stated_settlement({}) is None and stated_settlement(None) is None


def test_a_bare_name_is_read_as_a_settlement() -> None:
    assert settlement_text("Буровой") == "г. Буровой"
    assert settlement_text("с. Тимофеевка") == "с. Тимофеевка"
    assert settlement_text("посёлок Буровой") == "посёлок Буровой"
    assert settlement_text("Самара, ул. Ленина 5") == "Самара, ул. Ленина 5"
