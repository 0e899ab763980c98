"""Personal data: find phones, e-mails, SNILS, passports, cards, INN and names; mask them.

Spans are offsets into the ORIGINAL ``doc.text`` (what is stored), so masking can be applied
to exactly what is shown. Numbers are validated (SNILS and INN checksums, Luhn for cards,
context words for passports) to keep false positives (dates, sums, house numbers) out.

Names: by default a cheap rule — runs of capitalized words that pymorphy3 tags as first
name / surname / patronymic (two or more, or a surname with initials). natasha's NER
(``PiiStage(use_natasha=True)``) is more accurate but costs ~2 ms per message, about
twenty times the rest of the pipeline, so it is opt-in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, ClassVar

from otklik.nlp.base import Doc, Stage, StageResult
from otklik.nlp.morph import analyzer

MASKS: dict[str, str] = {
    "phone": "[телефон]",
    "email": "[e-mail]",
    "snils": "[СНИЛС]",
    "passport": "[паспорт]",
    "card": "[карта]",
    "inn": "[ИНН]",
    "person": "[ФИО]",
}
_CONFIDENCE = {
    "email": 0.99, "snils": 0.97, "card": 0.95, "inn": 0.9, "passport": 0.85,
    "phone": 0.9, "person": 0.6,
}

_EMAIL_RE = re.compile(
    r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})*\.[a-zA-Zа-яА-Я]{2,}"
)
_SNILS_RE = re.compile(r"(?<![\d-])\d{3}[- ]?\d{3}[- ]?\d{3}[- ]?\d{2}(?![\d-])")
_CARD_RE = re.compile(r"(?<![\d-])\d{4}(?:[ -]?\d{4}){3}(?:[ -]?\d{1,3})?(?![\d-])")
_PASSPORT_RE = re.compile(r"(?<!\d)\d{2}\s?\d{2}\s?(?:№\s?|N\s?)?\d{6}(?!\d)")
_PASSPORT_CTX_RE = re.compile(r"паспорт|серия|серии|номер|выдан|№", re.I)
_PASSPORT_SPLIT_RE = re.compile(
    r"сери[яи]\s*:?\s*(?P<s>\d{2}\s?\d{2})\s*,?\s*(?:номер|№|н\.)\s*:?\s*(?P<n>\d{6})(?!\d)", re.I
)
_INN_RE = re.compile(r"(?<![\d-])(?:\d{10}|\d{12})(?![\d-])")
_INN_CTX_RE = re.compile(r"инн", re.I)
_PHONE_RE = re.compile(
    r"(?<![\w+])(?:\+\s?7|8|7)?[\s\-‐(]{0,3}\(?\d{3,5}\)?[\s\-‐)]{0,3}\d{1,3}[\s\-‐]?\d{2}"
    r"[\s\-‐]?\d{2}(?![\d])"
)
_LOCAL_PHONE_RE = re.compile(
    r"(?:тел\w*\.?|звон\w*|т\.)\s*:?\s*(?P<num>\d{1,3}[\s-]\d{2}[\s-]\d{2})(?!\d)", re.I
)
_DIGIT_RUN_RE = re.compile(r"\d+")
_LOCAL_NUMBER_TAIL_RE = re.compile(r"\d[\s-]\d\d[\s-]\d\d")
_CAP_WORD_RE = re.compile(r"[А-ЯЁ][а-яё]+(?:-[А-ЯЁ][а-яё]+)?|[А-ЯЁ]\.\s?(?:[А-ЯЁ]\.)?")
_STREET_BEFORE_RE = re.compile(
    r"(?:ул|улиц\w*|пр|просп\w*|пер|переул\w*|бул\w*|пл|площад\w*|им|имени|шоссе|наб\w*|"
    r"проезд|ш|мкр|пос|поселок|с|д|дер|деревн\w*|г|город\w*|школ\w*|станц\w*)\.?\s*$",
    re.I,
)


def _digits(s: str) -> str:
    return "".join(ch for ch in s if ch.isdigit())


def valid_snils(number: str) -> bool:
    """SNILS checksum (numbers up to 001-001-998 have no checksum)."""
    d = _digits(number)
    if len(d) != 11 or d[:9] == "000000000":
        return False
    total = sum(int(c) * (9 - i) for i, c in enumerate(d[:9]))
    if int(d[:9]) <= 1001998:
        return True
    while total > 101:
        total %= 101
    check = 0 if total in (100, 101) else total
    return check == int(d[9:])


def valid_luhn(number: str) -> bool:
    """Luhn checksum of a card number (13-19 digits)."""
    d = _digits(number)
    if not 13 <= len(d) <= 19 or len(set(d)) == 1:
        return False
    total = 0
    for i, c in enumerate(reversed(d)):
        n = int(c)
        if i % 2:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def valid_inn(number: str) -> bool:
    """INN checksum: 10 digits (organization) or 12 digits (person)."""
    d = [int(c) for c in _digits(number)]

    def check(coefs: list[int], digits: list[int]) -> int:
        return sum(c * x for c, x in zip(coefs, digits, strict=False)) % 11 % 10

    if len(d) == 10:
        return check([2, 4, 10, 3, 5, 9, 4, 6, 8], d) == d[9]
    if len(d) == 12:
        c11 = check([7, 2, 4, 10, 3, 5, 9, 4, 6, 8], d)
        c12 = check([3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8], d)
        return c11 == d[10] and c12 == d[11]
    return False


def _is_phone(raw: str) -> bool:
    d = _digits(raw)
    stripped = raw.lstrip()
    if len(d) == 11 and d[0] in "78":
        return True
    # "912 345-67-89" / "(912) 345 67 89": a mobile number without the country code.
    return len(d) == 10 and d[0] == "9" and not stripped.startswith(("8", "7", "+"))


@lru_cache(maxsize=50_000)
def _name_kind(word: str) -> str:
    """'Name' / 'Surn' / 'Patr' if a likely parse of the word is a person-name part, else ''."""
    if len(word) < 2 or word.endswith("."):
        return "Init" if word.endswith(".") else ""
    for p in analyzer().parse(word)[:3]:
        if p.score < 0.1:
            continue
        for tag in ("Surn", "Patr", "Name"):
            if tag in p.tag:
                return tag
    return ""


def _find_people(text: str) -> list[tuple[int, int]]:
    """Runs of capitalized name parts: 2+ name words, or a surname/name with initials."""
    spans: list[tuple[int, int]] = []
    run: list[tuple[int, int, str]] = []

    def flush() -> None:
        if not run:
            return
        kinds = [k for _, _, k in run]
        words = [k for k in kinds if k != "Init"]
        ok = (len(words) >= 2 and any(k in ("Name", "Patr", "Surn") for k in words)) or (
            len(words) >= 1 and "Init" in kinds and any(k in ("Surn", "Name") for k in words)
        )
        if ok and len(run) <= 4:
            spans.append((run[0][0], run[-1][1]))
        run.clear()

    for m in _CAP_WORD_RE.finditer(text):
        word = m.group(0)
        kind = _name_kind(word.strip())
        if kind and run and text[run[-1][1] : m.start()].strip(" ") not in ("", ","):
            flush()
        if kind and run and text[run[-1][1] : m.start()].strip() == ",":
            flush()
        if not kind:
            flush()
            continue
        if not run and _STREET_BEFORE_RE.search(text[max(0, m.start() - 12) : m.start()]):
            continue  # "ул. Карла Маркса", "школа им. Пушкина" are places, not people
        run.append((m.start(), m.end(), kind))
    flush()
    return spans


class PiiStage(Stage):
    """Find personal data; value = [{"type", "start", "end"}] over ``doc.text``."""

    name: ClassVar[str] = "pii"

    def __init__(self, names: bool = True, use_natasha: bool = False) -> None:
        self.names = names
        self.use_natasha = use_natasha
        self._ner: Any = None

    def _natasha_people(self, text: str) -> list[tuple[int, int]]:
        if self._ner is None:
            from natasha import NewsEmbedding, NewsNERTagger, Segmenter

            self._ner = (Segmenter(), NewsNERTagger(NewsEmbedding()))
        from natasha import Doc as NDoc

        segmenter, tagger = self._ner
        ndoc = NDoc(text)
        ndoc.segment(segmenter)
        ndoc.tag_ner(tagger)
        return [(s.start, s.stop) for s in ndoc.spans if s.type == "PER"]

    @staticmethod
    def _numbers(
        text: str, longest: int, found: list[tuple[int, int, str]], digits: int = 10**9
    ) -> None:
        """SNILS, card, passport, INN and phone numbers (``longest``: longest digit run,
        ``digits``: how many digits the text has; a pattern that needs more is skipped,
        which changes nothing: SNILS 11, card 13, passport 10, phone 10)."""
        for m in _SNILS_RE.finditer(text) if digits >= 11 else ():
            # Eleven bare digits are a SNILS only when the word says so (else: a phone).
            ctx = "снилс" in text[max(0, m.start() - 30) : m.start()].lower()
            if valid_snils(m.group(0)) and (ctx or re.search(r"\D", m.group(0))):
                found.append((m.start(), m.end(), "snils"))
        if longest >= 4 and digits >= 13:
            for m in _CARD_RE.finditer(text):
                if valid_luhn(m.group(0)):
                    found.append((m.start(), m.end(), "card"))
        if longest >= 6 and digits >= 10:
            for m in _PASSPORT_SPLIT_RE.finditer(text):
                found.append((m.start("s"), m.end("n"), "passport"))
            for m in _PASSPORT_RE.finditer(text):
                if _PASSPORT_CTX_RE.search(text[max(0, m.start() - 40) : m.start()]):
                    found.append((m.start(), m.end(), "passport"))
        if longest >= 10:
            for m in _INN_RE.finditer(text):
                named = _INN_CTX_RE.search(text[max(0, m.start() - 20) : m.start()])
                bare_ok = len(m.group(0)) == 12 and not _is_phone(m.group(0))
                if valid_inn(m.group(0)) and (named or bare_ok):
                    found.append((m.start(), m.end(), "inn"))
        for m in _PHONE_RE.finditer(text) if digits >= 10 else ():
            if _is_phone(m.group(0)):
                start = m.start() + len(m.group(0)) - len(m.group(0).lstrip(" -‐)"))
                found.append((start, m.end(), "phone"))

    def find(self, text: str) -> list[dict[str, Any]]:
        """All PII spans in a text, sorted, non-overlapping (stronger types win)."""
        if not text:
            return []
        found: list[tuple[int, int, str]] = []
        if "@" in text:  # every e-mail has one
            for m in _EMAIL_RE.finditer(text):
                found.append((m.start(), m.end(), "email"))
        # Each number pattern needs a run of consecutive digits of some length (3 for SNILS
        # groups and phones, 4 for cards, 6 for passports, 10 for INN): texts without such
        # a run skip the pattern, with the same result.
        runs = [len(run) for run in _DIGIT_RUN_RE.findall(text)]
        longest = max(runs, default=0)
        if longest >= 3:
            self._numbers(text, longest, found, sum(runs))
        # A local number ("т. 2-34-56") ends in digits, a separator, two digits, a
        # separator and two digits: a cheap scan for that decides if the pattern can match.
        if longest >= 2 and _LOCAL_NUMBER_TAIL_RE.search(text):
            for m in _LOCAL_PHONE_RE.finditer(text):
                found.append((m.start("num"), m.end("num"), "phone"))
        if self.names:
            people = self._natasha_people(text) if self.use_natasha else _find_people(text)
            found.extend((s, e, "person") for s, e in people)
        order = {t: i for i, t in enumerate(["email", "snils", "card", "passport", "inn", "phone",
                                             "person"])}
        found.sort(key=lambda f: (order[f[2]], f[0]))
        taken: list[tuple[int, int, str]] = []
        for s, e, t in found:
            if all(e <= ts or s >= te for ts, te, _ in taken):
                taken.append((s, e, t))
        taken.sort()
        return [{"type": t, "start": s, "end": e} for s, e, t in taken]

    def process(self, docs: Sequence[Doc]) -> list[StageResult]:
        """One result per document; never raises."""
        results: list[StageResult] = []
        for doc in docs:
            try:
                spans = self.find(doc.text or "")
            except Exception as exc:  # noqa: BLE001 - never break the batch
                results.append(StageResult([], 0.0, {"error": repr(exc)}))
                continue
            counts: dict[str, int] = {}
            for sp in spans:
                counts[sp["type"]] = counts.get(sp["type"], 0) + 1
            conf = min((_CONFIDENCE[t] for t in counts), default=0.9)
            explain: dict[str, Any] = {"counts": counts}
            if self.names:
                explain["names"] = "natasha" if self.use_natasha else "rule"
            results.append(StageResult(spans, conf, explain))
        return results


def mask(text: str, spans: Sequence[dict[str, Any]]) -> str:
    """Replace each span with its placeholder ("[телефон]", "[ФИО]", ...)."""
    out: list[str] = []
    pos = 0
    for sp in sorted(spans, key=lambda s: s["start"]):
        start, end = int(sp["start"]), int(sp["end"])
        if start < pos or end > len(text):
            continue
        out.append(text[pos:start])
        out.append(MASKS.get(sp["type"], "[скрыто]"))
        pos = end
    out.append(text[pos:])
    return "".join(out)
