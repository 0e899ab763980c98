"""Dates and terms in Russian answers: exact ("до 15 декабря"), vague ("в 2027 году") or hedges.

Decision on vague terms (documented in the moderation help): a term counts as *exact* when it
names a day, a week, a month, a quarter or a number of hours/days/weeks/months ("до 15
декабря", "в течение 3 дней", "в мае 2027 года", "в IV квартале 2026 года", "до 18:00",
"на следующей неделе"). A term that names only a year, a half-year or a season with a year
("в 2027 году", "до конца года", "в летний период 2027 года") is *vague*: the resident can
hold the executor to it, so it satisfies "a term is given", but the moderator is warned.
A season without a year ("в летний период", "в строительный сезон") and hedges ("в
ближайшее время", "в плановом порядке") are not terms at all.

Dates that refer to documents ("на обращение от 12.11.2026", "№ 15 от 3 ноября") are skipped.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

TermKind = Literal["exact", "vague", "none"]

_MONTHS_GEN = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
               "сентября", "октября", "ноября", "декабря")
_MONTHS_PREP = ("январе", "феврале", "марте", "апреле", "мае", "июне", "июле", "августе",
                "сентябре", "октябре", "ноябре", "декабре")
_MONTHS_NOM = ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август",
               "сентябрь", "октябрь", "ноябрь", "декабрь")
_MONTH_NUMBER = {
    name: i + 1 for names in (_MONTHS_GEN, _MONTHS_PREP, _MONTHS_NOM) for i, name in
    enumerate(names)
}
_GEN = "|".join(_MONTHS_GEN)
_PREP = "|".join(_MONTHS_PREP)
_NOM = "|".join(_MONTHS_NOM)
_YEAR = r"(?:\s*(?P<year>\d{4})\s*(?:г\.|года|году|год|г\b)?)?"
_NUMWORD = (r"(?:\d+|одн\w*|дв\w*|тр\w*|четыр\w*|пят\w*|шест\w*|сем\w*|восьм\w*|девят\w*|"
            r"десят\w*|пятнадцат\w*|двадцат\w*|тридцат\w*|нескольк\w*)")
_UNIT = r"(?:час\w*|дн(?:я|ей|ем|ь)|сут\w*|недел\w*|месяц\w*)"
_QUARTERS = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4,
             "перв": 1, "втор": 2, "трет": 3, "четверт": 4}

# (kind, unit of the "when" date, regex); the first pattern that claims a span wins.
_PATTERNS: list[tuple[TermKind, str, re.Pattern[str]]] = [
    ("exact", "day", re.compile(r"\b(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<year>\d{4}|\d{2})\b")),
    ("exact", "day", re.compile(
        rf"\b(?P<d>\d{{1,2}})(?:-?го)?\s+(?P<mon>{_GEN})\b{_YEAR}")),
    ("exact", "", re.compile(r"\b(?:до|к|в|с|не позднее)\s+\d{1,2}[:.]\d{2}\b(?!\.\d)")),
    ("exact", "", re.compile(r"\bдо\s+\d{1,2}\s+час\w*")),
    ("exact", "", re.compile(
        rf"\bв\s+течение\s+(?:{_NUMWORD}\s*(?:\([^)]{{1,20}}\)\s*)?)?"
        rf"(?:(?:рабоч|календарн)\w+\s+)?{_UNIT}")),
    ("exact", "", re.compile(
        rf"\b(?:через|за|не\s+позднее|не\s+более|в\s+срок\s+до|в\s+срок)\s+{_NUMWORD}\s*"
        rf"(?:\([^)]{{1,20}}\)\s*)?(?:(?:рабоч|календарн)\w+\s+)?{_UNIT}")),
    ("exact", "", re.compile(r"\bв\s+\d+-?(?:дневный|часовой|недельный)\s+срок")),
    ("exact", "quarter", re.compile(
        r"\b(?P<q>iv|i{1,3}|[1-4]|перв|втор|трет|четверт)(?:\w*)[-\s]*(?:м|ом|й|го)?\s+"
        rf"квартал\w*{_YEAR}")),
    ("vague", "half", re.compile(
        rf"\b(?P<h>перв|втор|[12])\w*[-\s]*(?:м|ом|й|го)?\s+полугоди\w*{_YEAR}")),
    ("exact", "month", re.compile(
        rf"\b(?:в|во|до|к|с|по|на|на\s+конец|в\s+конце|в\s+начале|в\s+середине|до\s+конца|"
        rf"до\s+середины|декад\w+|половин\w+)\s+(?P<mon>{_PREP}|{_GEN}|{_NOM})\b{_YEAR}")),
    ("exact", "", re.compile(
        r"\b(?:сегодня|завтра|послезавтра|на\s+(?:этой|текущей|следующей|будущей)\s+неделе|"
        r"до\s+конца\s+(?:текущей\s+|этой\s+|следующей\s+)?недели|"
        r"до\s+конца\s+(?:текущего\s+|этого\s+|следующего\s+)?месяца|"
        r"(?:в|во|до|к)\s+(?:понедельник|вторник|сред|четверг|пятниц|суббот|воскресень)\w*)")),
    ("vague", "year", re.compile(
        r"\b(?:до\s+|к\s+)?конц\w*\s+(?:(?:текущего|этого|следующего)\s+)?(?P<year>\d{4})?\s*"
        r"(?:г\.|года)")),
    ("vague", "year", re.compile(
        r"\b(?:в|во|до|на|к|с|в\s+течение)\s+(?P<year>\d{4})\s*(?:[-–]\s*\d{4}\s*)?"
        r"(?:гг\.|г\.|год\w*|г\b)")),
    ("vague", "", re.compile(r"\bв\s+(?:текущем|этом|следующем|будущем)\s+году")),
    ("vague", "season", re.compile(
        r"\b(?:в\s+)?(?:(?:весенне|летне|осенне|зимне)-)?(?:весенн|летн|осенн|зимн)\w*\s+"
        r"(?:период|сезон)\w*" + _YEAR)),
    ("vague", "season", re.compile(
        r"\b(?:весной|летом|осенью|зимой|в\s+(?:строительный|дорожный|ремонтный|"
        r"межотопительный|отопительный|навигационный)\s+(?:сезон|период)|в\s+навигацию)"
        + _YEAR)),
    ("none", "", re.compile(
        r"\b(?:в\s+ближайшее\s+время|в\s+кратчайш\w+\s+срок\w*|в\s+плановом\s+порядке|"
        r"в\s+порядке\s+(?:общей\s+)?очередности|по\s+мере\s+возможност\w+|"
        r"в\s+установленн\w+\s+срок\w*|своевременно|в\s+дальнейшем|в\s+перспективе|"
        r"в\s+будущем|в\s+разумные\s+сроки|по\s+возможности)")),
]
_REFERENCE_RE = re.compile(r"(?:\bот|№\s*\S+\s+от|\bдата)\s*$")
_DEADLINE_RE = re.compile(r"(?:\bдо|\bк|не\s+позднее|\bпо|\bсрок[:\s—–-]*)\s*$")


@dataclass(frozen=True)
class Term:
    """A date or term found in a text."""

    text: str
    kind: TermKind
    when: date | None = None
    deadline: bool = False


def _year(raw: str | None, today: date) -> int | None:
    if not raw:
        return None
    value = int(raw)
    return value + 2000 if value < 100 else value


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _when(unit: str, m: re.Match[str], today: date) -> date | None:
    """The last day the term allows (for "already passed" checks), when it names one."""
    groups = m.groupdict()
    year = _year(groups.get("year"), today)
    try:
        if unit == "day":
            month = int(groups["m"]) if groups.get("m") else _MONTH_NUMBER[groups["mon"]]
            day = int(groups["d"])
            if year is None:
                year = today.year
                # "до 15 января" written in December means the coming January.
                if date(year, month, day) < today and (today.month - month) % 12 >= 6:
                    year += 1
            return date(year, month, day)
        if year is None:
            return None
        if unit == "month":
            return _month_end(year, _MONTH_NUMBER[groups["mon"]])
        if unit == "quarter":
            quarter = _QUARTERS[groups["q"]]
            return _month_end(year, quarter * 3)
        if unit == "half":
            return _month_end(year, 6 if groups["h"] in ("перв", "1") else 12)
        if unit in ("year", "season"):
            return date(year, 12, 31)
    except (ValueError, KeyError):
        return None
    return None


def find_terms(text: str, today: date | None = None) -> list[Term]:
    """All dates and terms of a text, left to right (document references skipped)."""
    today = today or date.today()
    low = text.lower().replace("ё", "е")
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, Term]] = []
    for kind, unit, pattern in _PATTERNS:
        for m in pattern.finditer(low):
            start, end = m.span()
            if any(start < b and a < end for a, b in taken):
                continue
            before = low[max(0, start - 16) : start]
            if _REFERENCE_RE.search(before):
                continue
            groups = m.groupdict()
            term_kind: TermKind = kind
            if unit == "season" and not groups.get("year"):
                term_kind = "none"  # a season of no particular year is not a term
            if unit == "day" and groups.get("m") and not 1 <= int(groups["m"]) <= 12:
                continue
            taken.append((start, end))
            when = _when(unit, m, today)
            deadline = bool(_DEADLINE_RE.search(before)) or m.group().startswith(("до", "к "))
            found.append((start, Term(text[start:end].strip(), term_kind, when, deadline)))
    return [t for _s, t in sorted(found, key=lambda x: x[0])]
