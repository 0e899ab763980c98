"""The fake matcher: variants of a claim are copies; same-topic complaints and denials are not."""

from __future__ import annotations

import pytest

from otklik.fakes.matcher import Fake, FakeMatcher, lemmas
from otklik.fakes.synthetic import KINDS, generate

WATER = ("В Элисте в водопровод попали сточные воды, вода заражена кишечной палочкой, "
         "не пейте воду из крана до пятницы")
SCHOOL = ("С понедельника в школах Лагани вводят платное питание, родителей обяжут сдавать "
          "по 500 рублей в месяц")


@pytest.fixture(scope="module")
def matcher() -> FakeMatcher:
    return FakeMatcher([Fake("water", WATER), Fake("school", SCHOOL)])


@pytest.mark.parametrize("text", [
    "СРОЧНО! Распространите! 😱‼️ " + WATER + " 🔥 #срочно #элиста",
    "Не пейте водичку из водопровода до пятницы, а в Элисте вода отравлена кишечной палочкой, "
    "попали сточные воды",
    "в водопровод попали сточные воды, вода заражена кишечной палочкой",
    "В Элисте в водопрвод попалли сточыне воды, вода зараженна кишечной палочкй, не пейте",
    "Соседка переслала: " + WATER + ". Что делать, куда звонить?",
    "V Eliste v vodoprovod popali stochnye vody, voda zarazhena kishechnoy palochkoy, "
    "ne peyte vodu iz krana do pyatnitsy",
])
def test_variants_of_a_claim_are_its_copies(matcher: FakeMatcher, text: str) -> None:
    result = matcher.match(text)
    assert result.fake_id == "water", result
    assert result.score >= matcher.threshold and "water" in result.explain


@pytest.mark.parametrize("text", [
    "Третий день нет воды в Элисте на улице Ленина, когда дадут?",
    "Из крана в Элисте течет ржавая вода, фильтр забивается за неделю",
    "Почему школьное питание в Лагани такое невкусное, дети приходят голодные",
    "В школе номер 3 в Лагани холодно, дети сидят в куртках",
])
def test_a_complaint_on_the_same_topic_is_not_a_copy(matcher: FakeMatcher, text: str) -> None:
    result = matcher.match(text)
    assert result.fake_id is None and result.refutes is None, result
    assert result.score < matcher.threshold


@pytest.mark.parametrize("text", [
    "Администрация сообщает: информация о том, что " + WATER.lower() + ", — фейк.",
    "«" + WATER + "» — сведения не соответствуют действительности, сообщили в мэрии",
    "Это неправда! " + WATER,
])
def test_a_denial_quoting_the_claim_word_for_word_is_not_a_copy(
        matcher: FakeMatcher, text: str) -> None:
    result = matcher.match(text)
    assert result.fake_id is None and result.refutes == "water", result
    assert "опровержение" in result.explain


def test_insisting_it_is_not_a_fake_is_a_copy(matcher: FakeMatcher) -> None:
    result = matcher.match("Это не фейк! " + WATER)
    assert result.fake_id == "water" and result.refutes is None, result


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01\x02" * 1000, "😱🔥" * 50,
                                  "вода " * 200_000])
def test_bad_input_gets_a_result(matcher: FakeMatcher, text: str) -> None:
    result = matcher.match(text)
    assert result.fake_id is None and 0.0 <= result.score <= 1.0 and result.explain


def test_an_empty_registry_matches_nothing() -> None:
    assert FakeMatcher([]).match(WATER).fake_id is None


def test_synonyms_and_transliteration_read_as_one_word() -> None:
    assert lemmas("водичку") == lemmas("воду") == ["вода"]
    assert lemmas("voda v vodoprovode") == lemmas("вода в водопроводе")


def test_the_seeded_test_set_meets_the_targets() -> None:
    data = generate(seed=3, rounds=1, unrelated=200)
    matcher = FakeMatcher([Fake(k, v) for k, v in data.claims.items()])
    results = matcher.match_batch([str(m["text"]) for m in data.messages])
    predicted = [(m, r) for m, r in zip(data.messages, results, strict=True) if r.fake_id]
    correct = sum(r.fake_id == m["fake_id"] for m, r in predicted)
    positives = sum(1 for m in data.messages if m["kind"] in KINDS)
    assert correct / len(predicted) >= 0.97
    assert correct / positives >= 0.85  # 72 variants here; the benchmark's 216 give 0.93
