"""Edits an admin makes to a rubricator document (its JSON form), without a database.

Each function takes a document (``Taxonomy.to_dict()``), returns an edited copy and raises
:class:`otklik.errors.InvalidInput` with a message saying what to fix. The result is
checked as a whole by :func:`validate` (``Taxonomy.from_dict``) before it is saved.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from otklik.errors import InvalidInput
from otklik.nlp.taxonomy.taxonomy import URGENCY_LEVELS, Taxonomy, TaxonomyError

_SLUG_RE = re.compile(r"^[a-z][a-z0-9_]*$")
#: A lexicon line: a term, optionally followed by its weight ("ямочный ремонт 2.5").
_LINE_RE = re.compile(r"^(?P<term>.+?)(?:\s*[\t;=:]\s*|\s+)(?P<weight>\d+(?:[.,]\d+)?)$")
DEFAULT_WEIGHT = 1.0


def validate(document: dict[str, Any]) -> Taxonomy:
    """The taxonomy of a document, or InvalidInput listing every problem to fix."""
    if not isinstance(document, dict):
        raise InvalidInput("рубрикатор: ожидался JSON-объект с полями version и topics")
    try:
        return Taxonomy.from_dict(document)
    except TaxonomyError as exc:
        raise InvalidInput(str(exc)) from None


def _find(document: dict[str, Any], code: str) -> dict[str, Any]:
    for topic in document.get("topics") or []:
        if topic.get("code") == code:
            return topic
        for sub in topic.get("subtopics") or []:
            if sub.get("code") == code:
                return sub
    raise InvalidInput(f"в рубрикаторе нет темы или подтемы с кодом {code!r}")


def _name(value: str, what: str) -> str:
    name = " ".join((value or "").split())
    if not name:
        raise InvalidInput(f"{what}: название не может быть пустым")
    if len(name) > 200:
        raise InvalidInput(f"{what}: название длиннее 200 знаков")
    return name


def rename(document: dict[str, Any], code: str, name_ru: str, name_en: str = "") -> dict[str, Any]:
    """Rename a topic or subtopic (Russian name required, English optional)."""
    edited = copy.deepcopy(document)
    node = _find(edited, code)
    node["name_ru"] = _name(name_ru, code)
    node["name_en"] = " ".join((name_en or "").split()) or node["name_ru"]
    return edited


def set_urgency(document: dict[str, Any], code: str, urgency: str) -> dict[str, Any]:
    """Set the default urgency of a topic or subtopic."""
    if urgency not in URGENCY_LEVELS:
        raise InvalidInput(f"{code}: срочность {urgency!r} не из {', '.join(URGENCY_LEVELS)}")
    edited = copy.deepcopy(document)
    _find(edited, code)["urgency"] = urgency
    return edited


def parse_lexicon(text: str, where: str = "лексикон") -> dict[str, float]:
    """Lexicon lines → {term: weight}: one term per line, an optional weight after it
    ("выбоина 2.5", "ямочный ремонт; 2"); no weight means 1. Empty lines are skipped."""
    terms: dict[str, float] = {}
    problems: list[str] = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _LINE_RE.match(line)
        term, weight = (m.group("term"), float(m.group("weight").replace(",", "."))) if m else (
            line, DEFAULT_WEIGHT)
        term = " ".join(term.lower().replace("ё", "е").split())
        if not re.search(r"[^\W\d_]", term):
            problems.append(f"строка {number}: «{line}» — нет слова")
        elif weight <= 0 or weight > 10:
            problems.append(f"строка {number}: вес {weight:g} — нужен от 0,1 до 10")
        else:
            terms[term] = weight
    if problems:
        raise InvalidInput(f"{where}: " + "; ".join(problems))
    if not terms:
        raise InvalidInput(f"{where}: нужен хотя бы один термин (слово или фраза)")
    return terms


def format_lexicon(lexicon: dict[str, float]) -> str:
    """The inverse of :func:`parse_lexicon`: one "term weight" line per term."""
    return "\n".join(f"{term} {weight:g}" for term, weight in lexicon.items())


def set_lexicon(document: dict[str, Any], code: str, text: str) -> dict[str, Any]:
    """Replace the lexicon of a topic or subtopic with the terms of ``text``."""
    edited = copy.deepcopy(document)
    _find(edited, code)["lexicon"] = parse_lexicon(text, f"{code}: лексикон")
    return edited


def add_subtopic(
    document: dict[str, Any],
    topic_code: str,
    slug: str,
    name_ru: str,
    name_en: str = "",
    urgency: str = "normal",
    lexicon_text: str = "",
) -> dict[str, Any]:
    """Add a subtopic ``<topic>.<slug>`` at the end of a topic."""
    slug = (slug or "").strip().lower()
    if not _SLUG_RE.match(slug):
        raise InvalidInput(f"код подтемы {slug!r}: латинские буквы, цифры и «_», "
                           "с буквы, например «night_lighting»")
    code = f"{topic_code}.{slug}"
    edited = copy.deepcopy(document)
    topic = _find(edited, topic_code)
    if "." in topic_code or "subtopics" not in topic and topic.get("code") != topic_code:
        raise InvalidInput(f"{topic_code!r} — подтема; новую подтему добавляют в тему")
    for sub in topic.get("subtopics") or []:
        if sub.get("code") == code:
            raise InvalidInput(f"подтема {code!r} уже есть")
    if urgency not in URGENCY_LEVELS:
        raise InvalidInput(f"{code}: срочность {urgency!r} не из {', '.join(URGENCY_LEVELS)}")
    name = _name(name_ru, code)
    topic.setdefault("subtopics", []).append({
        "code": code,
        "name_ru": name,
        "name_en": " ".join((name_en or "").split()) or name,
        "urgency": urgency,
        "seasonality": [],
        "lexicon": parse_lexicon(lexicon_text, f"{code}: лексикон"),
    })
    return edited
