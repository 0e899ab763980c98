"""Property-based tests (hypothesis) of address and territory resolution: any text, with or
without a region hint, gives streets and a place (or none) and never raises."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from otklik.nlp.address import find_streets
from otklik.nlp.features import place_of
from otklik.nlp.territory import TerritoryStage

SETTINGS = settings(max_examples=80, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
#: Words that steer the parsers into their branches: street types, house numbers, places.
WORDS = st.sampled_from(["ул.", "улица", "пр-т", "проспект", "пер.", "д.", "дом", "корп.",
                         "Лаврова", "Мира", "Ленина", "1-я", "Мичуринск", "Тамбов", "г.",
                         "село", "район", "р-н", "Элиста", "5", "12а", "/", ",", "—", "\n",
                         "2-й", "им.", "Советская", "мкр", "Курск", "область"])
TEXT = st.lists(WORDS | st.text(max_size=12), max_size=25).map(" ".join) | st.text(max_size=300)
HINT = st.sampled_from([None, "68", "08", "46", "77", "", "999", "xx"])


@SETTINGS
@given(text=TEXT)
def test_any_text_gives_streets_or_none(text: str) -> None:
    for match in find_streets(text):
        assert match.street and 0 <= match.start <= match.end <= len(text)


@SETTINGS
@given(text=TEXT, hint=HINT)
def test_any_text_gives_a_place_or_none(text: str, hint: str | None) -> None:
    place_of(text, hint)
    result = TerritoryStage().recognize(text, hint)
    assert 0.0 <= result.confidence <= 1.0
