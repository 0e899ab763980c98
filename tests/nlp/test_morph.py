"""Shared tokenization/lemmatization."""

from __future__ import annotations

from typing import Any

import pytest

from otklik.nlp.base import Doc
from otklik.nlp.morph import PhraseMatcher, ensure_prepared, lemma, lemmatize, prepare, tokenize


def test_tokenize_lowercases_folds_yo_and_keeps_hyphenated_words_and_numbers() -> None:
    tokens = tokenize("Ещё раз: в Ростове-на-Дону 5-й день нет света, ул. Ленина д.12!")
    assert tokens[:2] == ["еще", "раз"]
    assert "ростове-на-дону" in tokens
    assert "5-й" in tokens
    assert "12" in tokens
    assert all(t == t.lower() for t in tokens)


def test_tokenize_bad_input() -> None:
    assert tokenize("") == []
    assert tokenize("😡😡 !!! ...") == []
    assert tokenize("\x00\x01abc") == ["abc"]


def test_lemma_declensions_reduce_to_one_form() -> None:
    assert {lemma(w) for w in ["дороги", "дорогу", "дорогой", "дорогами"]} >= {"дорога"}
    assert lemma("отопления") == "отопление"
    assert lemma("Починят") == "починить"
    assert lemma("ёлки") == "елка"
    assert lemma("iphone") == "iphone"
    assert lemma("2024") == "2024"


def test_lemmatize_and_prepare_fill_the_doc() -> None:
    doc = Doc(id="1", text="Сидим без света третьи сутки")
    prepare(doc)
    assert doc.tokens == ["сидим", "без", "света", "третьи", "сутки"]
    assert doc.lemmas[:3] == ["сидеть", "без", "свет"]
    assert lemmatize(["ямы"]) == ["яма"]


def test_prepare_prefers_clean_text() -> None:
    doc = Doc(id="1", text="<p>Ямы</p>", clean="Ямы")
    prepare(doc)
    assert doc.tokens == ["ямы"]


def test_ensure_prepared_does_not_mutate() -> None:
    doc = Doc(id="1", text="Нет воды")
    tokens, lemmas = ensure_prepared(doc)
    assert lemmas == ["нет", "вода"]
    assert doc.tokens == []


def test_phrase_matcher_matches_any_inflection_longest_first() -> None:
    m = PhraseMatcher({"не работает": -2.0, "работает": 1.0, "лифт": 0.5})
    found = m.find(lemmatize(tokenize("Лифты не работали неделю, а теперь работает")))
    assert [(f[3], f[2]) for f in found] == [("лифт", 0.5), ("не работает", -2.0),
                                             ("работает", 1.0)]


def test_the_lemmatizer_and_problem_clustering_share_one_analysis_of_a_word(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The part of speech problem clustering reads of a lemma is the analyzer's first parse
    of it, the one the lemmatizer cached when the lemma was a token: a word is analysed
    once for both."""
    from otklik.nlp import morph
    from otklik.problems import clustering_text

    real = morph.analyzer()
    first = real.parse("путепровод")[0]
    assert morph.first_parse("путепровод") == (first.normal_form, first.tag)
    calls: list[str] = []

    class Counting:
        def parse(self, word: str) -> Any:
            calls.append(word)
            return real.parse(word)

    monkeypatch.setattr(morph, "_morph", Counting())
    for cached in (morph.lemma, morph.first_parse, clustering_text._kind):
        cached.cache_clear()
    assert morph.lemma("путепровод") == "путепровод"
    assert clustering_text._kind("путепровод") == clustering_text._NOUN
    assert calls == ["путепровод"]
