"""Urgency: critical / high / normal / low from hazard signals in the text.

Signals are stem patterns over the lowercased clean text ("нет воды третьи сутки",
"пахнет газом в подъезде", "аварийное дерево над детской площадкой"): regular expressions
on stems survive declension, word order and typos in endings better than a lemma list, and
one compiled alternation per signal keeps the stage cheap. Aggravators (mass of people
affected, frost, how long it has lasted) raise a utility outage from high to critical.
A hazard found here also makes the text a complaint about a public matter when it names no
complaint words itself (``HAZARD_SIGNALS``, read by the pipeline): "в садике неделю нет
горячей воды".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar

import ahocorasick

from otklik.nlp.base import Doc, Stage, StageResult

_ABSENT = (
    r"(?:нет|нету|без|отключ\w*|отруб\w*|выключ\w*|пропал\w*|перекры\w*|не\s+дают|"
    r"не\s+подают|не\s+было|не\s+будет|не\s+включ\w*|лишил\w*|остал\w*\s+без|сидим\s+без)"
)
_GAP = r"(?:\s+[\w-]+){0,3}?\s+"  # up to three words between "нет" and what is missing


def _absent(thing: str) -> str:
    """'нет ... воды' or 'воды ... нет'."""
    return (
        rf"\b{_ABSENT}{_GAP}(?:{thing})|\b(?:{thing})(?:\s+[\w-]+){{0,2}}?\s+"
        r"(?:нет|не\s+(?:ид\w+|подают|дают|бывает|работает|было)|отключ\w+|пропал\w*)\b"
    )


_SIGNALS: dict[str, str] = {
    "gas_smell": r"(?:запах\w*|пахн\w*|пахло|воня\w*|вонь)(?:\s+[\w-]+){0,2}?\s+газ\w*"
    r"|\bгаз\w*(?:\s+[\w-]+){0,1}\s+(?:пахн\w*|воня\w*)|утечк\w*\s+газ\w*",
    "no_water": _absent(r"вод[аыуе]\b|водоснабжени\w*|холодн\w+\s+вод\w*|горяч\w+\s+вод\w*")
    + r"|из\s+крана\s+не\s+(?:течет|идет|бежит)",
    "no_heating": _absent(r"отоплени\w*|тепл[аоу]\b|теплоснабжени\w*")
    + r"|батаре\w*\s+(?:ледян\w*|холодн\w*)|(?:ледян\w*|холодн\w*)\s+батаре\w*"
    r"|в\s+квартир\w*\s+\+?\d{1,2}\s*(?:градус|°)|мерзн\w*\s+в\s+квартир",
    "no_power": _absent(r"свет[ауе]?\b|электричеств\w*|электроэнерги\w*|электроснабжени\w*"),
    "no_gas": _absent(r"газ[ауе]?\b|газоснабжени\w*"),
    "fire": r"\bпожар\w*|возгорани\w*|задымлени\w*|\bгор(?:ит|ят|ел[аои]?)\s+(?:дом|квартир\w*|"
    r"подъезд|машин\w*|лес|трава|мусор\w*|свалк\w*|сара\w*|гараж\w*|крыш\w*|здани\w*)|\bдым\s+"
    r"(?:из|в|валит|идет)|\bпламя\b",
    "explosion": r"\bвзрыв\w*|\bвзорвал\w*|\bхлопок\s+газ",
    "accident": r"\bдтп\b|\bавари[яиюей]\b|\bсбил[аио]?\s+(?:пешеход|человек|ребен|женщин|мужчин)"
    r"|\bстолкнул\w*|\bперевернул\w*|машин\w*\s+(?:в\s+ям[уе]|провалил\w*|улетел\w*)",
    "collapse": r"\bобрушени\w*|\bобрушил\w*|\bрухнул\w*|\bобвал\w*|провал\w*\s+(?:асфальт\w*|"
    r"грунт\w*|дорог\w*|земл\w*)|(?:асфальт|дорог[аи]|грунт|земля)\s+провалил\w*|трещин\w*\s+"
    r"(?:в|по|на)\s+(?:стен\w*|доме|фасад\w*|несущ\w*)|аварийн\w+\s+(?:дом|здани\w*|балкон\w*|"
    r"перекрыти\w*|жиль\w*)|(?:пада|сыпл|отвалива)\w*\s+(?:кирпич\w*|штукатурк\w*|плит\w*)",
    "threat_to_life": r"угроз\w*\s+(?:для\s+)?(?:жизн\w*|здоровь\w*)|опасн\w*\s+для\s+жизн\w*"
    r"|могут\s+погибн\w*|\bпогиб\w*|\bнасмерть|\bжертв\w*|\bпострадал\w*|\bтравм\w*"
    r"|скорая\s+не\s+(?:приезжа|еде|може)\w*|\bумира\w*|\bзадыха\w*|\bтонет|\bутонул\w*",
    "live_wire": r"оголенн?\w*\s+провод\w*|провод\w*\s+(?:висит|висят|оборван\w*|на\s+земле|"
    r"лежит|лежат|искрит)|под\s+напряжени\w*|\bискрит",
    "open_manhole": r"открыт\w*\s+(?:люк\w*|колод\w*)|(?:люк|колодец)\s+(?:без\s+крышки|открыт\w*)"
    r"|без\s+крышки",
    "hazard_tree": r"аварийн\w+\s+дерев\w*|дерев\w+\s+(?:упал\w*|пада\w*|накренил\w*|может\s+упасть"
    r"|вот-вот\s+упад\w*|вот-вот\s+рухн\w*)|упал\w*\s+дерев\w*|\bсухостой\w*",
    "flood": r"\bзатопил\w*|\bзатоплен\w*|\bподтоплен\w*|\bтопит\b|\bпотоп\w*|\bзалил[аио]?\b"
    r"|\bзаливает|прорыв\w*\s+(?:труб\w*|водопровод\w*|канализ\w*|теплотрас\w*)"
    r"|теч[её]т\s+с\s+потолк\w*|кипят\w*|\bпаводок|\bразлив\w*\s+рек\w*",
    "sewage": r"канализаци\w*\s+(?:теч\w*|затопил\w*|забит\w*|разлив\w*)|\bфекали\w*|\bнечистот\w*"
    r"|засор\w*\s+канализ\w*",
    "ice_snow": r"\bгололед\w*|\bналед\w*|\bсосульк\w*|снег\w*\s+(?:с\s+крыш\w*|пада\w*|"
    r"не\s+убира\w*|не\s+чист\w*)|не\s+(?:чистят|убирают|посыпают)\s+(?:снег|лед|дорог\w*|"
    r"тротуар\w*)|снежн\w+\s+(?:завал\w*|занос\w*)|\bзамело|\bзанесло|\bскользко",
    "people_trapped": r"\bзастрял\w*\s+(?:\w+\s+){0,2}?в\s+лифт\w*|\bзастрял\w*\s+лифт\w*"
    r"|\bлифт\w*\s+(?:\w+\s+){0,2}?застрял\w*|не\s+мо\w+\s+выйти\s+из\s+(?:квартир\w*|дом\w*|"
    r"подъезд\w*)",
    "animal_attack": r"\bпокусал\w*|\bукусил\w*|\bискусал\w*|\bзагрызл\w*|\bнапал[аи]?\b"
    r"|\bнапада\w*\s+на\b|(?:кида|броса)\w*ся\s+на\s+(?:люд\w*|прохож\w*|дет\w*|ребен\w*|"
    r"человек\w*|школьник\w*|пенсионер\w*|машин\w*|велосипед\w*)",
    "children_at_risk": r"(?:дет[иейья]\w*|ребен\w*|ребят\w*|школьник\w*|малыш\w*)"
    r"(?:\s+[\w-]+){0,6}?\s+(?:по\s+проезж\w+\s+част\w*|по\s+дорог\w*|через\s+трасс\w*|без\s+тротуар\w*|"
    r"в\s+темноте|по\s+обочин\w*)|(?:детск\w+\s+площадк\w*|школ\w*|детск\w+\s+сад\w*)(?:\s+[\w-]+)"
    r"{0,4}?\s+(?:аварийн\w*|опасн\w*|провод\w*|люк\w*|яма|торчат\w*|арматур\w*)|(?:аварийн\w*|"
    r"опасн\w*|упавш\w*)\s+\w+\s+(?:над|на|у|возле|рядом\s+с)\s+(?:детск\w+\s+площадк\w*|школ\w*)",
}
_SIGNAL_RES = {name: re.compile(rx) for name, rx in _SIGNALS.items()}
#: Signals that report a hazard (frost, a long duration and many affected only aggravate one).
HAZARD_SIGNALS = frozenset(_SIGNALS)
# Cheap substring checks run first: most messages mention none of a signal's stems, and
# a substring test is ~100x cheaper than the full pattern.
_TRIGGERS: dict[str, tuple[str, ...]] = {
    "gas_smell": ("газ",),
    "no_water": ("вод",),
    "no_heating": ("отоплен", "тепл", "батаре", "градус", "мерзн"),
    "no_power": ("свет", "электр"),
    "no_gas": ("газ",),
    "fire": ("пожар", "возгоран", "задымл", "гор", "дым", "плам"),
    "explosion": ("взрыв", "взорв", "хлопок"),
    "accident": ("дтп", "авари", "сбил", "столкн", "перевер", "машин"),
    "collapse": ("обруш", "рухн", "обвал", "провал", "трещин", "аварийн", "кирпич", "штукатур",
                 "плит"),
    "threat_to_life": ("угроз", "опасн", "погиб", "насмерть", "жертв", "пострада", "травм",
                       "скор", "умира", "задыха", "тонет", "утонул"),
    "live_wire": ("провод", "напряжен", "искрит"),
    "open_manhole": ("люк", "колод", "крышк"),
    "hazard_tree": ("дерев", "сухосто"),
    "flood": ("затоп", "подтоп", "топит", "потоп", "залил", "залива", "прорыв", "потол", "кипят",
              "паводок", "разлив"),
    "sewage": ("канализ", "фекал", "нечистот"),
    "ice_snow": ("гололед", "налед", "сосульк", "снег", "снеж", "замело", "занесло", "скольз",
                 "чистят", "убирают", "посыпают"),
    "children_at_risk": ("дет", "ребен", "ребят", "школ", "малыш"),
    "people_trapped": ("застрял", "выйти"),
    "animal_attack": ("кусал", "кусил", "загрыз", "напал", "напада", "кида", "броса"),
}

_FROST_RE = re.compile(
    r"\bмороз\w*|минус\s+\d{2}|-\s?[1-5]\d\s*(?:°|градус)|\bхолодин\w*|\bзамерза\w*|\bмерзн\w*"
)
_ORDINAL_DAYS = {
    "втор": 2, "трет": 3, "четверт": 4, "пят": 5, "шест": 6, "седьм": 7, "восьм": 8,
    "десят": 10, "несколько": 3, "нескольк": 3, "который": 3, "уже": 1, "целые": 1, "целый": 1,
}
_DURATION_RE = re.compile(
    r"(?P<n>\d{1,3}|втор\w*|трет\w*|четверт\w*|пят\w*|шест\w*|седьм\w*|восьм\w*|десят\w*|"
    r"нескольк\w*|котор\w*|уже|целы\w*)\s+(?P<unit>дн\w*|день|сут\w*|недел\w*|месяц\w*)"
    r"|\b(?P<alone>неделю|месяц|полгода)\b"
)
_MASS_WORDS_RE = re.compile(
    r"\bвесь\s+(?:район|микрорайон|поселок|город|квартал|дом|массив)|\bвсе\s+(?:село|дома|улиц\w*"
    r"|жител\w*)|\bвс[ея]\s+(?:село|деревня|улица|станица)|\bцел\w+\s+(?:район|микрорайон|улиц\w*|"
    r"село|поселок|квартал)|\bнескольк\w+\s+(?:домов|улиц|сел|подъездов|многоэтажек)"
    r"|\bтысяч\w*\s+(?:жител\w*|человек|людей|абонент\w*)|\bсотн\w+\s+(?:жител\w*|человек|людей"
    r"|семей)"
)
_MASS_NUMBER_RE = re.compile(
    r"(?P<num>\d[\d\s]{0,7}(?:[.,]\d)?)\s*(?P<mult>тыс\w*\.?)?\s*"
    r"(?P<what>человек|жител\w*|абонент\w*|домов|дома|многоквартирн\w*|семей|семьи|подъезд\w*"
    r"|улиц\w*|сел\b|населенн\w+)"
)
_LOW_RE = re.compile(
    r"\bспасибо|\bблагодар\w*|\bпредлага\w*|\bпредложени\w*|\bподскажите|\bинтересует"
    r"|\bпоздравля\w*"
)

# Substrings without which a pattern cannot match (its literal stems): one Aho-Corasick
# pass over the text finds which of them occur, and only those patterns are run.
_NEEDS: dict[str, tuple[str, ...]] = {
    "frost": ("мороз", "минус", "°", "градус", "холодин", "замерза", "мерзн"),
    "duration": ("дн", "день", "сут", "недел", "месяц", "полгода"),
    "mass_words": ("весь", "все", "вся", "цел", "нескольк", "тысяч", "сотн"),
    "mass_number": tuple("0123456789"),
    "low": ("спасибо", "благодар", "предлага", "предложени", "подскажите", "интересует",
            "поздравля"),
}


def _build_triggers() -> ahocorasick.Automaton:
    owners: dict[str, set[str]] = {}
    for name, needles in (*_TRIGGERS.items(), *_NEEDS.items()):
        for needle in needles:
            owners.setdefault(needle, set()).add(name)
    automaton = ahocorasick.Automaton()
    for needle, names in owners.items():
        automaton.add_word(needle, frozenset(names))
    automaton.make_automaton()
    return automaton


_TRIGGER_AUTOMATON = _build_triggers()
_DIGIT_RE = re.compile(r"\d")


def _present(low: str) -> set[str]:
    """Names of the signals and helper patterns whose stems occur in the text."""
    found: set[str] = set()
    for _end, names in _TRIGGER_AUTOMATON.iter(low):
        found |= names
    # "\d" is wider than ASCII digits (Arabic-Indic and other decimal digits match too).
    if "mass_number" not in found and _DIGIT_RE.search(low):
        found.add("mass_number")
    return found


_CRITICAL = frozenset({"gas_smell", "fire", "explosion", "threat_to_life", "collapse"})
_UTILITIES = frozenset({"no_water", "no_heating", "no_power", "no_gas"})
_HIGH = _UTILITIES | frozenset(
    {"accident", "flood", "ice_snow", "children_at_risk", "hazard_tree", "live_wire",
     "open_manhole", "sewage", "animal_attack", "people_trapped"}
)
_MAX_SCAN = 20_000


def _duration_days(text: str) -> tuple[float, str]:
    best, phrase = 0.0, ""
    for m in _DURATION_RE.finditer(text):
        if m.group("alone"):
            days = {"неделю": 7.0, "месяц": 30.0, "полгода": 180.0}[m.group("alone")]
        else:
            n = m.group("n")
            if n.isdigit():
                days = float(n)
            else:
                days = next((float(v) for k, v in _ORDINAL_DAYS.items() if n.startswith(k)), 1.0)
            unit = m.group("unit")
            if unit.startswith("недел"):
                days *= 7
            elif unit.startswith("месяц"):
                days *= 30
        if days > best:
            best, phrase = days, m.group(0)
    return best, phrase


def _mass_affected(text: str, present: set[str] | None = None) -> tuple[int, str]:
    """Estimated number of people affected (0 if no mention), and the phrase.

    ``present`` (from :func:`_present`) lets the patterns whose stems are absent be skipped.
    """
    best, phrase = 0, ""
    numbers = present is None or "mass_number" in present
    for m in _MASS_NUMBER_RE.finditer(text) if numbers else ():
        try:
            num = float(m.group("num").replace(" ", "").replace(",", "."))
        except ValueError:
            continue
        if m.group("mult"):
            num *= 1000
        what = m.group("what")
        # Houses, streets and villages stand for many people each.
        if what.startswith(("дом", "многоквартир", "подъезд")):
            num *= 50
        elif what.startswith(("улиц", "сел", "населен")):
            num *= 300
        elif what.startswith("сем"):
            num *= 3
        if num > best:
            best, phrase = int(num), m.group(0).strip()
    m2 = _MASS_WORDS_RE.search(text) if present is None or "mass_words" in present else None
    if m2:
        # A whole district or village is thousands of people; a whole house is a hundred.
        area = not re.search(r"\bдом|подъезд|многоэтаж", m2.group(0))
        estimate = 1000 if area else 200
        if estimate > best:
            best, phrase = estimate, m2.group(0)
    return best, phrase


def assess(text: str) -> tuple[str, list[str], float, dict[str, Any]]:
    """Return (level, signals, confidence, explanation) for a text."""
    if not text or not text.strip():
        return "low", [], 0.3, {"reason": "no text"}
    low = text[:_MAX_SCAN].lower().replace("ё", "е")
    present = _present(low)
    matched: dict[str, str] = {}
    for name, rx in _SIGNAL_RES.items():
        if name not in present:
            continue
        m = rx.search(low)
        if m:
            matched[name] = m.group(0).strip()
    # A smell of gas is not the same as "no gas"; an outage wording may hide in the smell.
    if "gas_smell" in matched:
        matched.pop("no_gas", None)
    frost = _FROST_RE.search(low) if "frost" in present else None
    days, days_phrase = _duration_days(low) if "duration" in present else (0.0, "")
    people, mass_phrase = _mass_affected(low, present)
    signals = list(matched)
    explain: dict[str, Any] = {"matched": dict(matched)}
    if frost:
        explain["frost"] = frost.group(0)
    if days:
        explain["duration_days"] = days
        explain["duration_phrase"] = days_phrase
    if people >= 100:
        signals.append("mass_affected")
        explain["people_affected"] = people
        explain["mass_phrase"] = mass_phrase
    sig = set(signals)
    utilities = sig & _UTILITIES
    if sig & _CRITICAL:
        level, conf = "critical", 0.85
    elif utilities and (people >= 1000 or (frost and "no_heating" in sig)
                        or (frost and people >= 100) or (days >= 2 and people >= 100)):
        level, conf = "critical", 0.8
    elif "children_at_risk" in sig and len(sig & _HIGH) >= 2:
        level, conf = "critical", 0.7
    elif sig & _HIGH:
        level, conf = "high", 0.75
        if days >= 2 or people >= 100 or frost:
            conf = 0.85
    elif days >= 7 and people >= 100:
        level, conf = "high", 0.6
    elif "low" in present and _LOW_RE.search(low):
        level, conf = "low", 0.6
    else:
        level, conf = "normal", 0.6
    if days >= 2 and "long_duration" not in signals and level in ("high", "critical"):
        signals.append("long_duration")
    if frost and utilities:
        signals.append("frost")
    conf = min(0.95, conf + 0.03 * max(len(sig) - 1, 0))
    return level, signals, round(conf, 3), explain


class UrgencyStage(Stage):
    """How fast a message needs a human: critical / high / normal / low, with signals."""

    name: ClassVar[str] = "urgency"

    def process(self, docs: Sequence[Doc]) -> list[StageResult]:
        """One result per document; value = {"level", "signals"}."""
        results: list[StageResult] = []
        for doc in docs:
            try:
                level, signals, conf, explain = assess(doc.clean or doc.text or "")
            except Exception as exc:  # noqa: BLE001 - never break the batch
                level, signals, conf, explain = "normal", [], 0.0, {"error": repr(exc)}
            results.append(
                StageResult({"level": level, "signals": signals}, conf, explain)
            )
        return results
