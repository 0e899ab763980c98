"""Normalization and language identification."""

from __future__ import annotations

import pytest

from otklik.nlp.base import Doc
from otklik.nlp.language import LanguageStage, detect_language
from otklik.nlp.normalize import NormalizeStage, normalize_text, repair_mojibake

PHRASE = "Добрый день! Всё плохо — нет воды третий день"

BAD_INPUTS = [
    "",
    "   \n\t ",
    "😡😡😡🤬",
    bytes(range(256)).decode("latin-1") * 20,
    "Нет воды " * 12_000,  # ~108k chars
    "Hello, when will you fix the road?",
    "Дорога Road дорога 道路 ✓",
]


def run(text: str) -> Doc:
    doc = Doc(id="1", text=text)
    NormalizeStage().process([doc])
    return doc


def test_html_tags_and_entities() -> None:
    doc = run("<p>Яма&nbsp;на&nbsp;дороге</p><br/>Когда&hellip; &laquo;починят&raquo;?")
    assert doc.clean == "Яма на дороге\nКогда... «починят»?"


def test_script_content_is_dropped() -> None:
    assert "alert" not in run("<script>alert(1)</script>Нет света").clean


def test_mojibake_cp1251_and_cp1252_and_latin1() -> None:
    assert repair_mojibake(PHRASE.encode().decode("cp1251"))[0] == PHRASE
    assert repair_mojibake(PHRASE.encode().decode("latin-1"))[0] == PHRASE
    assert normalize_text("Ð¿Ñ€Ð¸Ð²ÐµÑ‚")[0] == "привет"
    assert normalize_text("РїСЂРёРІРµС‚")[0] == "привет"
    # A partly broken message keeps its good part.
    broken = "Жалоба: " + "нет света в доме".encode().decode("cp1251")
    assert normalize_text(broken)[0] == "Жалоба: нет света в доме"


def test_genuine_russian_is_not_touched_by_mojibake_repair() -> None:
    for text in ["Сёма сказал всё", "Рё — странное слово", "СССР", "Рожь и Сталь"]:
        assert repair_mojibake(text)[0] == text


def test_invisible_bidi_and_control_characters_removed() -> None:
    doc = run("Нет\u200b во\u00adды\u202e!\x07 \ufeffсрочно")
    assert doc.clean == "Нет воды! срочно"


def test_emoji_out_of_text_but_counted() -> None:
    doc = Doc(id="1", text="Опять яма 😡😡👎🏻 на Ленина 🇷🇺")
    res = NormalizeStage().process([doc])[0]
    assert doc.clean == "Опять яма на Ленина"
    assert res.explain["emoji"] == 4
    assert "😡" in res.explain["emoji_top"]


def test_repeated_characters_collapsed() -> None:
    assert normalize_text("Ооочень плохооо!!!!! Почему???")[0] == "Очень плохо! Почему?"
    assert normalize_text("Спасибо)))")[0] == "Спасибо)"
    # Real double letters and numbers survive.
    assert normalize_text("Ванна, 1000000 руб, класс")[0] == "Ванна, 1000000 руб, класс"


def test_long_text_is_cut_and_flagged() -> None:
    res = NormalizeStage(max_chars=5000).process([Doc(id="1", text="Нет воды. " * 10_000)])[0]
    assert len(res.value) <= 5000
    assert res.explain["truncated"] is True
    assert res.explain["original_length"] == 100_000


@pytest.mark.parametrize("text", BAD_INPUTS)
def test_bad_input_never_raises(text: str) -> None:
    docs = [Doc(id="1", text=text)]
    res = NormalizeStage().process(docs)[0]
    lang = LanguageStage().process(docs)[0]
    assert 0.0 <= res.confidence <= 1.0
    assert 0.0 <= lang.confidence <= 1.0
    assert lang.value in {"ru", "en", "other", "unknown"}


def test_language_ru_en_other_unknown() -> None:
    assert detect_language("Когда починят дорогу на улице Ленина?")[0] == "ru"
    assert detect_language("Спс")[0] == "ru"
    assert detect_language("Please fix the road near the school")[0] == "en"
    assert detect_language("Привіт, коли відремонтують дорогу? Їдемо")[0] == "other"
    assert detect_language("Bonjour à tous, où est la mairie?")[0] == "other"
    assert detect_language("")[0] == "unknown"
    assert detect_language("12345 ... !!!")[0] == "unknown"
    garbage = normalize_text(bytes(range(256)).decode("latin-1") * 5)[0]
    assert detect_language(garbage)[0] == "unknown"


def test_language_stage_sets_doc_language() -> None:
    docs = [Doc(id="1", text="Нет света"), Doc(id="2", text="")]
    NormalizeStage().process(docs)
    out = LanguageStage().process(docs)
    assert [d.language for d in docs] == ["ru", "unknown"]
    assert out[0].explain["cyrillic_share"] == 1.0
