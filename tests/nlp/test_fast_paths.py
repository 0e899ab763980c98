"""The fast paths of the stages give exactly what the straightforward code gives.

Speed work replaced per-text loops by batch numpy code, one-pass scans and cheap
pre-checks; these tests pin each fast path to a plain reference implementation.
"""

from __future__ import annotations

import numpy as np
import pytest
from datasketch import MinHash

from otklik.nlp import dedup

TEXTS = [
    "Третий день нет воды на ул. Ленина, д. 12. Водоканал трубку не берёт!",
    "третий день нет воды на улице Ленина дом 12, водоканал не отвечает",
    "Спасибо!",
    "Да",
    "",
    "   ...   ",
    "Ямы на дороге в с. Ивановка Льговского р-на, машины ломают подвеску. " * 40,
    "Мусор не вывозят вторую неделю, контейнерная площадка переполнена 🤬",
]


def _datasketch_values(text: str) -> np.ndarray | None:
    """The MinHash of a text computed the slow way, with datasketch itself."""
    shingles = dedup.shingle_hashes(text)
    if not len(shingles):
        return None
    m = MinHash(num_perm=dedup.NUM_PERM, hashfunc=lambda v: v,
                permutations=dedup._PROTO.permutations, scheme="affine32")
    m.update_batch(shingles.tolist())
    return (np.asarray(m.hashvalues, dtype=np.uint64) & 0xFFFF).astype(np.uint16)


def test_batch_minhash_is_bit_for_bit_datasketch() -> None:
    batch = dedup.hashvalues_batch(TEXTS)
    for text, got in zip(TEXTS, batch, strict=True):
        want = _datasketch_values(text)
        if want is None:
            assert got is None
        else:
            assert got is not None and np.array_equal(got, want), text[:40]
        single = dedup.hashvalues(text)
        assert (single is None) == (want is None)


def test_batch_minhash_across_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    # Force many small blocks so that texts are split across block boundaries.
    monkeypatch.setattr(dedup, "_BLOCK_SHINGLES", 50)
    for text, got in zip(TEXTS, dedup.hashvalues_batch(TEXTS), strict=True):
        want = _datasketch_values(text)
        assert (got is None and want is None) or np.array_equal(got, want)


MIXED = [
    "Здравствуйте! Третий день нет воды, водоканал молчит 😡😡 Ооочень плохо!!!",
    "Привіт, як справи? Ґанок зламаний, їжак",
    "Hello, please fix the road near my house :) www.example.com",
    "Р—РґСЂР°РІСЃС‚РІСѓР№С‚Рµ, РЅРµС‚ РІРѕРґС‹",
    "\u00e9\u00e8\u00ff\u00fe\u00a0\u00a0 ÿþýü binary ¤¥¦",
    "Текст\u200bс\u00adневидимыми\tсимволами\r\nи переносами\n\n  строк",
    "①②③ ½ ٣٤٥ 𝟙𝟚 — цифры разных видов, ₽ 500 руб.",
    "",
]


def test_language_counts_match_the_patterns() -> None:
    from otklik.nlp import language as lang

    for text in MIXED:
        sample = text[:1000]
        want = (
            len(lang._LETTER_RE.findall(sample)),
            len(lang._SPACE_RE.findall(sample)),
            len(lang._CYR_RE.findall(sample)),
            len(lang._CYR_OTHER_RE.findall(sample)),
            len(lang._ASCII_LAT_RE.findall(sample)),
            len(lang._LATIN1_SUPPLEMENT_RE.findall(sample)),
        )
        assert lang.char_counts(sample) == want, text


def test_language_counts_match_the_patterns_beyond_the_table() -> None:
    from otklik.nlp import language as lang

    # Emoji, mathematical letters, CJK and a lone surrogate lie outside the lookup array.
    for sample in ["Ямы 😡😡 на 𝐝𝐨𝐫𝐨𝐠𝐞 ул. Мира 漢字 \ud800!", "🙂" * 50, "ｆｕｌｌｗｉｄｔｈ Ａ"]:
        want = tuple(len(rx.findall(sample)) for rx in (
            lang._LETTER_RE, lang._SPACE_RE, lang._CYR_RE, lang._CYR_OTHER_RE,
            lang._ASCII_LAT_RE, lang._LATIN1_SUPPLEMENT_RE))
        assert lang.char_counts(sample) == want, sample


def test_urgency_stems_found_like_substring_checks() -> None:
    from otklik.nlp import urgency

    texts = [
        "пахнет газом в подъезде, нет света и воды вторую неделю, мороз -25 градусов",
        "затопило подвал, прорыв трубы, дети ходят по проезжей части",
        "спасибо за оперативную работу, весь микрорайон благодарит",
        "тысячи жителей без отопления уже 3 суток",
        "обычный текст без сигналов",
    ]
    for text in texts:
        low = text.lower().replace("ё", "е")
        present = urgency._present(low)
        for name, needles in (*urgency._TRIGGERS.items(), *urgency._NEEDS.items()):
            assert (name in present) == any(n in low for n in needles), (name, text)


def test_phrase_matcher_group_equals_single_matchers() -> None:
    from otklik.nlp.morph import PhraseMatcher, PhraseMatcherGroup, lemmatize, tokenize

    matchers = [
        PhraseMatcher({"не работать": 2.0, "не": 0.5, "нет вода": 3.0}),
        PhraseMatcher({"вода": 1.0, "горячий вода": 2.0, "нет": 0.3}),
        PhraseMatcher({"спасибо": 2.0}),
    ]
    group = PhraseMatcherGroup(matchers)
    for text in ("Нет воды, горячая вода не работает, не работали лифты. Спасибо!",
                 "не не не вода вода", ""):
        lemmas = lemmatize(tokenize(text))
        assert group.find(lemmas) == [m.find(lemmas) for m in matchers]


def test_model_labels_same_with_lent_lexicon_scans() -> None:
    from otklik.nlp.base import Doc
    from otklik.nlp.morph import prepare
    from otklik.nlp.topic import CombinedTopicStage, LexiconTopicStage, ModelTopicStage
    from otklik.nlp.training import TrainOptions, train

    texts = [
        *(f"Яма на дороге по улице {s}, асфальт разбит" for s in ("Ленина", "Мира", "Садовой")),
        *(f"Мусор не вывозят с площадки у дома {n}" for n in (1, 2, 3)),
    ]
    model = train(list(zip(texts, ["roads"] * 3 + ["waste"] * 3, strict=True)),
                  TrainOptions(folds=2), evaluate=False).model
    queries = ["Огромные ямы на дорогах, колея", "Контейнеры переполнены, мусор не вывозят",
               "Спасибо за ремонт дороги и вывоз мусора"]

    def docs() -> list[Doc]:
        out = [Doc(id=str(i), text=t, clean=t) for i, t in enumerate(queries)]
        for doc in out:
            prepare(doc)
        return out

    combined = CombinedTopicStage(LexiconTopicStage(), ModelTopicStage(model))
    combined.process(docs())  # the model borrows the lexicon scans of this batch
    alone = ModelTopicStage(model).process(docs())  # the model scans by itself
    for lent, own in zip(combined.last_labels, alone, strict=True):
        assert lent.value == own.value and lent.explain == own.explain
