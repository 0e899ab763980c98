"""Language identification: ru / en / other / unknown, by script share and stop words.

Residents write in Russian; the point of this stage is to route the rest (English spam,
Ukrainian or Kazakh posts, transliteration, binary garbage) away from Russian-only models
with an honest confidence, not to be a general language identifier.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np

from otklik.nlp.base import Doc, Stage, StageResult

_CYR_RE = re.compile(r"[а-яёА-ЯЁ]")
_CYR_OTHER_RE = re.compile(r"[іїєґўәғқңөұүһђљњћџјІЇЄҐЎӘҒҚҢӨҰҮҺЂЉЊЋЏЈ]")
_ASCII_LAT_RE = re.compile(r"[a-zA-Z]")
_LETTER_RE = re.compile(r"[^\W\d_]")
_WORD_RE = re.compile(r"[a-zA-Zа-яёА-ЯЁ']+")
_SPACE_RE = re.compile(r"\s")
_LATIN1_SUPPLEMENT_RE = re.compile(r"[\u00a0-\u00ff]")



@lru_cache(maxsize=8192)
def _char_class(ch: str) -> tuple[int, int, int, int, int, int]:
    """(letter, space, cyrillic, other cyrillic, ascii latin, latin-1 supplement) flags of a
    character, decided by the same patterns a per-class ``findall`` would use."""
    return (
        1 if _LETTER_RE.match(ch) else 0,
        1 if _SPACE_RE.match(ch) else 0,
        1 if _CYR_RE.match(ch) else 0,
        1 if _CYR_OTHER_RE.match(ch) else 0,
        1 if _ASCII_LAT_RE.match(ch) else 0,
        1 if _LATIN1_SUPPLEMENT_RE.match(ch) else 0,
    )


def _pack(flags: tuple[int, ...]) -> int:
    return sum(flag << bit for bit, flag in enumerate(flags))


#: Class flags (packed as bits) of every code point below this, in one array.
_TABLE_SIZE = 0x3000
_table: np.ndarray | None = None
#: Row b: 1 for the packed codes that have flag b (counts per code @ this = counts per flag).
_BITS = np.array([[code >> bit & 1 for bit in range(6)] for code in range(64)], dtype=np.int64)


def _class_table() -> np.ndarray:
    global _table
    if _table is None:
        _table = np.array([_pack(_char_class(chr(c))) for c in range(_TABLE_SIZE)],
                          dtype=np.intp)
    return _table


def char_counts(sample: str) -> tuple[int, int, int, int, int, int]:
    """Counts of letters, spaces, Cyrillic, other-Cyrillic, ASCII Latin and Latin-1 characters.

    The classes of the first 12,288 code points (every script residents write in) are looked
    up in one precomputed array; rarer characters (emoji) one by one. The same counts as a
    regular-expression scan per class.
    """
    cps = np.frombuffer(sample.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    inside = cps < _TABLE_SIZE
    per_code = np.bincount(_class_table()[cps[inside]], minlength=64)
    if not inside.all():
        for cp in cps[~inside].tolist():
            per_code[_pack(_char_class(chr(cp)))] += 1
    letters, spaces, cyr, cyr_other, lat, latin1 = (per_code @ _BITS).tolist()
    return letters, spaces, cyr, cyr_other, lat, latin1


_EN_STOP = frozenset(
    "the a an and or of to in on for is are was were be been it this that with you your "
    "we our they their i my me he she his her not no do does did have has had will would "
    "can could should at by from as if but so what when where who how why all any please "
    "hello hi thanks thank".split()
)
_RU_STOP = frozenset(
    "и в во не на я что он она оно они мы вы с со как а то все всё это так его ее её но да "
    "ты к у же за бы по от из о об для до вот ли если уже или ни нет быть был была были "
    "когда где почему кто мне меня нас нам вам их там тут здесь очень".split()
)


def detect_language(text: str) -> tuple[str, float, dict[str, Any]]:
    """Return (language, confidence, explanation) for a normalized text."""
    if not text or not text.strip():
        return "unknown", 0.9, {"reason": "empty"}
    sample = text[:1000]  # the first thousand characters decide; longer costs time only
    letters, spaces, cyr, cyr_other, lat, latin1 = char_counts(sample)
    visible = len(sample) - spaces
    if letters < 2:
        return "unknown", 0.8, {"reason": "no letters", "letters": letters}
    letter_share = letters / max(visible, 1)
    explain: dict[str, Any] = {
        "letters": letters,
        "cyrillic_share": round((cyr + cyr_other) / letters, 3),
        "latin_share": round(lat / letters, 3),
    }
    # Bytes decoded as latin-1 look like a soup of accented letters and symbols.
    if latin1 / max(visible, 1) > 0.3:
        explain["reason"] = "binary-looking"
        return "unknown", 0.7, explain
    if letter_share < 0.35 and letters < 20:
        explain["reason"] = "mostly symbols"
        return "unknown", 0.6, explain
    words = list(map(str.lower, _WORD_RE.findall(sample)))
    ru_hits = sum(map(_RU_STOP.__contains__, words))
    en_hits = sum(map(_EN_STOP.__contains__, words))
    explain["stop_words"] = {"ru": ru_hits, "en": en_hits}

    cyr_share = (cyr + cyr_other) / letters
    lat_share = lat / letters
    if cyr_share >= 0.5:
        # Ukrainian/Belarusian/Kazakh/Serbian letters are strong evidence of another language.
        if cyr_other / max(cyr + cyr_other, 1) > 0.03 and cyr_other >= 2:
            return "other", min(0.95, 0.6 + cyr_other / (cyr + cyr_other)), explain
        conf = 0.55 + 0.4 * cyr_share + (0.05 if ru_hits else 0.0)
        if letters < 6:
            conf -= 0.2
        return "ru", round(min(conf, 0.99), 3), explain
    if lat_share >= 0.5:
        accented = letters - cyr - cyr_other - lat  # é, ü, ß...: French, German, Polish
        if accented / letters > 0.04:
            return "other", 0.65, explain
        if en_hits >= 1 or (lat_share > 0.9 and len(words) <= 2):
            conf = 0.5 + 0.3 * lat_share + min(en_hits, 4) * 0.04
            return "en", round(min(conf, 0.97), 3), explain
        return "other", 0.6, explain
    if letter_share < 0.5:
        explain["reason"] = "mixed symbols"
        return "unknown", 0.5, explain
    return "other", 0.5, explain


class LanguageStage(Stage):
    """Set ``doc.language`` to ru / en / other / unknown."""

    name: ClassVar[str] = "language"

    def process(self, docs: Sequence[Doc]) -> list[StageResult]:
        """Detect the language of each document's clean text (raw text as a fallback)."""
        results: list[StageResult] = []
        for doc in docs:
            try:
                lang, conf, explain = detect_language(doc.clean or doc.text or "")
            except Exception as exc:  # noqa: BLE001 - never break the batch
                lang, conf, explain = "unknown", 0.0, {"error": repr(exc)}
            doc.language = lang
            results.append(StageResult(value=lang, confidence=conf, explain=explain))
        return results
