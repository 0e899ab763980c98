"""Cheap pre-checks and rewritten patterns find exactly what the plain patterns find.

Each rewrite is compared with the original pattern (kept here as the reference) on real-looking
texts and on random strings over an alphabet chosen to hit the edge cases (case variants,
word boundaries, digits, punctuation runs).
"""

from __future__ import annotations

import gc
import random
import re

import pytest

from otklik.nlp import normalize, pii, relevance, sentiment
from otklik.nlp.pipeline import Pipeline

TEXTS = [
    "Здравствуйте! Ооочень плохо!!! Третий день нет воды?!?! Звоните 8-910-123-45-67......",
    "СРОЧНО!!! ВОДЫ НЕТ УЖЕ НЕДЕЛЮ, тел. 2-34-56, т.: 12 34 56, звоните 5-55-55",
    "Σίσυφος ΣΣΣ İİİ iii ııı ſſs KKk — «кавычки» … (((( )))) ---- //// ____ ++ == ~~",
    "СНИЛС 112-233-445 95, паспорт серия 38 04 номер 123456, карта 4276 1234 5678 9012",
    "+7 (910) 123-45-67, 8(4712)51-23-45, 89101234567, _8 910 123 45 67, a8 910 1234567",
    "Спасибо 🙂👍 за ремонт дороги :) ;-) xD ))) ☹ ☺",
    "",
    "ааа",
    "Ааа, Ёёё, ёЁё, ЖжЖ",
]


def _random_texts(alphabet: str, n: int = 20_000, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))) for _ in range(n)]


def test_normalize_pre_checks_are_exact() -> None:
    texts = TEXTS + _random_texts("аАоОёЁiIİıΣσςsSſkKK!?.…()*~_=+#<>|/\\- \n1ß😀")
    for text in texts:
        assert normalize._has_punct_work(text) == bool(normalize._PUNCT_WORK_RE.search(text))
        if normalize._REPEAT_LETTER_RE.search(text):
            assert normalize._may_repeat_letters(text), text


def test_normalize_text_unchanged_without_pre_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = TEXTS + _random_texts("аАоОиИ!?.()- \n1Σς", n=3000, seed=2)
    fast = [normalize.normalize_text(t) for t in texts]
    monkeypatch.setattr(normalize, "_may_repeat_letters", lambda t: True)
    monkeypatch.setattr(normalize, "_has_punct_work",
                        lambda t: bool(normalize._PUNCT_WORK_RE.search(t)))
    assert [normalize.normalize_text(t) for t in texts] == fast


def test_rewritten_patterns_match_the_originals() -> None:
    phone = re.compile(r"(?:\+7|\b8)[\s(-]*\d{3}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}\b")
    caps = re.compile(r"\b[А-ЯЁ]{4,}\b")
    texts = TEXTS + _random_texts("8+7 -()9123_aZЖЁЖЖЖЖжж\n.é1")
    for text in texts:
        assert ([m.span() for m in relevance._PHONE_RE.finditer(text)]
                == [m.span() for m in phone.finditer(text)]), text
        assert ([m.span() for m in sentiment._CAPS_WORD_RE.finditer(text)]
                == [m.span() for m in caps.finditer(text)]), text
        if text:
            has_emoji_range = sentiment._FROM_MIN_EMOJI_RE.search(text) is not None
            assert has_emoji_range == (max(text) >= sentiment._MIN_EMOJI)


def test_pii_digit_counts_only_skip_patterns_that_cannot_match(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stage = pii.PiiStage()
    texts = TEXTS + _random_texts("0123456789 -()+т.ел:№N", n=5000, seed=3)
    fast = [stage.find(t) for t in texts]
    plain_numbers = pii.PiiStage._numbers
    monkeypatch.setattr(pii.PiiStage, "_numbers", staticmethod(
        lambda text, longest, found, digits=0: plain_numbers(text, longest, found)))
    monkeypatch.setattr(pii, "_LOCAL_NUMBER_TAIL_RE", re.compile(""))  # always "found"
    assert [stage.find(t) for t in texts] == fast
    assert any(fast)  # the texts do contain personal data


def test_pipeline_pauses_the_collector_for_a_batch_only() -> None:
    pipeline = Pipeline.default()
    seen: list[bool] = []
    stage = pipeline.stages[0]
    original = stage.process

    def spy(docs):  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        return original(docs)

    stage.process = spy  # type: ignore[method-assign]
    assert gc.isenabled()
    pipeline.process([{"id": "1", "text": "Нет воды"}])
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        pipeline.process([{"id": "2", "text": "Нет света"}])
        assert not gc.isenabled()  # a collector that was off stays off
    finally:
        gc.enable()
