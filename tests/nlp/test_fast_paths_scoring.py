"""Fast paths of street parsing, territory scoring and sentiment give exactly what the
straightforward code gives (see test_fast_paths.py for the other stages)."""

from __future__ import annotations

import random
import re
import sys

import numpy as np
import pytest

from otklik.nlp import address, territory
from otklik.nlp.sentiment import LexiconScore, SentimentLexicon
from otklik.nlp.territory import TerritoryStage

STREET_TEXTS = [
    "Третий день нет воды на ул. Ленина, д. 12. Водоканал трубку не берёт!",
    "на улице Курской 5 яма, на УЛ.Мира д.3 тоже, Ул Садовая 7",
    "пр-т Победы 45, пр-кт Ленина, просп. Мира 1, проспект Гагарина 3а",
    "пер. Садовый 2, переулок Тихий, Ш. Энтузиастов 9, шоссе Курское",
    "б-р Строителей 4, бул. Победы, бульвар Роз 1, пр-д Заводской 2, проезд Мира 5",
    "наб. Сейма 3, набережная Тускари, пл. Ленина 1, площадь Победы, мкр Северный 5",
    "мкрн Юбилейный, микрорайон Московский д. 7, туп. Глухой 1, тупик Заречный",
    "аллея Славы 2, кв-л Южный 4, квартал Северный, МКР-Н Звёздный",
    "Советская улица 12, Садовом переулке, на Курской улице, Кировский проспект 3",
    "на Ленина 3а, по Гагарина, 15, около Пушкинского 7, возле Мирова д. 2",
    "пустой текст без адресов, пробка, бульон, плюшка, туловище, квас, аллергия",
    "",
    "улица",
    "ул. К. Маркса 59/2 корп. 3, ул. 50 лет Октября 8-го, ул. 8-го Марта д.4 стр.1",
    "Ivanovka street, Ул.ЛЕНИНА 4, УЛИЦА Мира",
    "Ленинградская ул 133, Фрунзе ул., д. 81, Октябрьская ул., Моршанском ш. 22, гулять ул",
    "Ленинский пр-т 3, Садовом пер. 4, 17-й квартал утопает, бульвар Приморском, Советская ул",
]


def _plain_streets(text: str) -> list[address.StreetMatch]:
    """find_streets without its pre-checks: every regular expression over the whole text."""
    saved = address._TYPE_AFTER_WORDS, address._type_first_matches
    address._TYPE_AFTER_WORDS = ("",)  # "" is in every text
    address._type_first_matches = lambda t: list(address._TYPE_FIRST_RE.finditer(t))
    try:
        return address.find_streets(text)
    finally:
        address._TYPE_AFTER_WORDS, address._type_first_matches = saved


@pytest.mark.parametrize("text", STREET_TEXTS)
def test_street_pre_checks_change_nothing(text: str) -> None:
    spans = [m.span() for m in address._type_first_matches(text)]
    assert spans == [m.span() for m in address._TYPE_FIRST_RE.finditer(text)]
    assert address.find_streets(text) == _plain_streets(text)


PLACE_TEXTS = [
    "Ямы на дороге в с. Ивановка Льговского р-на, машины ломают подвеску.",
    "в Ивановке нет света третий день",
    "в ивановка опять нет воды",
    "Александровка, Никольское и Покровка Курской области без газа",
    "д. Александровка Курского района: упало дерево",
    "Ивановка Ивановка Ивановка, хутор Ивановка, пос. Ивановка, на ул. Ивановка 5",
    "Администрация Льговского района не реагирует, село Никольское Льговский район",
    "В Мичуринске и мичуринские дороги, Ивановские пруды",
    "Новоселки, Новоселки Рыльского района",
]


@pytest.fixture(scope="module")
def stage() -> TerritoryStage:
    return TerritoryStage()


@pytest.mark.parametrize("hint", [None, "46", "68"])
def test_many_settlements_scored_as_arrays_like_one_by_one(
    stage: TerritoryStage, hint: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def run(threshold: int) -> list[tuple[object, float, object]]:
        monkeypatch.setattr(territory, "MANY_SETTLEMENTS", threshold)
        results = [stage.recognize(text, hint) for text in PLACE_TEXTS]
        return [(r.value, r.confidence, r.explain) for r in results]

    one_by_one = run(10**9)
    assert run(1) == one_by_one  # every entry scored with arrays
    assert run(32) == one_by_one  # the default mix
    assert any(r[0]["settlement"] for r in one_by_one)  # the texts do name settlements


def test_sentiment_probas_equal_proba_row_by_row() -> None:
    lexicon = SentimentLexicon()
    scores = [LexiconScore(positive=p, negative=n)
              for p in (0.0, 0.9, 2.5, 7.3, 30.0) for n in (0.0, 1.1, 4.25, 55.0)]
    batch = lexicon.probas(scores)
    assert np.array_equal(batch, np.vstack([lexicon.proba(s) for s in scores]))
    assert lexicon.probas([]).shape == (0, 3)


def test_dedup_batch_keys_equal_one_by_one() -> None:
    from otklik.nlp import dedup
    from otklik.nlp.base import Doc

    texts = [*STREET_TEXTS, *PLACE_TEXTS, STREET_TEXTS[0], PLACE_TEXTS[0] + " Помогите!"]
    values = [v for v in dedup.hashvalues_batch(texts) if v is not None]
    matrix = np.stack(values)
    stage = dedup.DedupStage()
    assert dedup._batch_signatures(matrix) == [dedup.encode_signature(v) for v in values]
    assert stage._batch_band_keys(matrix) == [stage._band_keys(v) for v in values]
    docs = [Doc(id=str(i), text=t) for i, t in enumerate(texts)]
    batch = dedup.DedupStage().process(docs)
    single = dedup.DedupStage()
    one_by_one = [single.check(d.id, d.text) for d in docs]
    assert [(r.value, r.confidence, r.explain) for r in batch] == [
        (r.value, r.confidence, r.explain) for r in one_by_one]
    assert any(r.value["duplicate_of"] for r in batch)


_ORIGINAL_BARE_HEAD = r"(?<![А-Яа-яЁё])(?:на|по|от|около|возле|у)\s+"
_ORIGINAL_TYPE_FIRST_START = r"(?<![А-Яа-яЁё])(?:ул|пр|пер|ш|б|наб|пл|мк|ми|туп|алле|кв)"


def test_case_sensitive_start_pattern_covers_every_case_variant() -> None:
    # Every character that a case-insensitive letter of the type words matches (across all of
    # Unicode) is listed in the case-sensitive start pattern.
    every_char = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    pattern = address._TYPE_FIRST_START_RE.pattern
    for letter in set("улпршбнамкитве"):
        for variant in set(re.findall(letter, every_char, re.IGNORECASE)):
            assert variant in pattern, (letter, variant)


@pytest.mark.parametrize("seed", [1, 2])
def test_street_patterns_rewritten_for_speed_match_the_originals(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = "улпершбнамкитвоУЛПЕРШБНАМКИТВОᲄᲅᲀᲂёЁ -.1Ж"
    texts = STREET_TEXTS + PLACE_TEXTS + [
        "около Гагарина 5", "на Ленина 3а", "возле Мирова д. 2", "у Пушкинского 7",
        "пон Ленина 3", "оноколо Ленина 5", "кᲀ-л Южный 4", "ᲄуп. Глухой 1",
    ] + ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(20_000)]
    bare_head = address._BARE_RE.pattern.split(r"\s+", 1)[0] + r"\s+"
    original_bare = re.compile(address._BARE_RE.pattern.replace(bare_head, _ORIGINAL_BARE_HEAD))
    assert original_bare.pattern.startswith(_ORIGINAL_BARE_HEAD)
    original_start = re.compile(_ORIGINAL_TYPE_FIRST_START, re.IGNORECASE)
    for text in texts:
        old = [(m.span(), m.groupdict()) for m in original_bare.finditer(text)]
        assert [(m.span(), m.groupdict()) for m in address._BARE_RE.finditer(text)] == old
        starts = {m.start() for m in address._TYPE_FIRST_START_RE.finditer(text)}
        assert {m.start() for m in original_start.finditer(text)} <= starts
        assert ([m.span() for m in address._type_first_matches(text)]
                == [m.span() for m in address._TYPE_FIRST_RE.finditer(text)])


def test_lexicon_canonical_lemmas_cached_per_word_form(monkeypatch: pytest.MonkeyPatch) -> None:
    from otklik.nlp import topic
    from otklik.nlp.morph import lemmatize, tokenize

    index = topic.LexiconIndex(topic.load_taxonomy())

    def plain(tokens: list[str], lemmas: list[str]) -> list[str]:
        out = list(lemmas)
        for i, lem in enumerate(lemmas):
            if lem not in index._vocab:
                out[i] = next((a for a in topic._normal_forms(tokens[i]) if a in index._vocab),
                              lem)
        return out

    texts = [*STREET_TEXTS, *PLACE_TEXTS, "ямы ямы люков люков, нету воды, батареи ледяные"]
    monkeypatch.setattr(topic, "_ALTERNATIVES_CACHE", 7)  # cleared again and again
    for _ in range(2):  # the second pass finds the word forms cached
        for text in texts:
            tokens = tokenize(text)
            lemmas = lemmatize(tokens)
            assert index.canonical(tokens, lemmas) == plain(tokens, lemmas)
    assert 0 < len(index._alternatives) <= 7
