"""The taxonomy (рубрикатор): topics and subtopics as data, versioned and validated.

The shipped rubricator lives in ``taxonomy.json`` next to this module. An admin will edit
it through the database later; the database layer only needs :meth:`Taxonomy.from_dict`
and :meth:`Taxonomy.to_dict`, which round-trip losslessly and refuse inconsistent data
with one message listing every problem.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

URGENCY_LEVELS: tuple[str, ...] = ("critical", "high", "normal", "low")
DEFAULT_PATH = Path(__file__).with_name("taxonomy.json")
OTHER_CODE = "other"

_TOPIC_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_SUBTOPIC_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


class TaxonomyError(ValueError):
    """The taxonomy data is inconsistent; ``errors`` lists every problem found."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("Рубрикатор не прошёл проверку:\n- " + "\n- ".join(errors))


@dataclass(frozen=True)
class Subtopic:
    """A subtopic such as ``roads.potholes``."""

    code: str
    name_ru: str
    name_en: str
    lexicon: Mapping[str, float]
    urgency: str = "normal"
    seasonality: tuple[int, ...] = ()

    @property
    def topic_code(self) -> str:
        """Code of the parent topic."""
        return self.code.split(".", 1)[0]

    def in_season(self, month: int) -> bool:
        """True when ``month`` (1-12) is one of the months this subject is more likely."""
        return month in self.seasonality

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (the inverse of the taxonomy loader)."""
        return {
            "code": self.code,
            "name_ru": self.name_ru,
            "name_en": self.name_en,
            "urgency": self.urgency,
            "seasonality": list(self.seasonality),
            "lexicon": dict(self.lexicon),
        }


@dataclass(frozen=True)
class Topic(Subtopic):
    """A top-level topic such as ``roads``; holds its subtopics in order."""

    subtopics: tuple[Subtopic, ...] = field(default=())

    @property
    def topic_code(self) -> str:
        """A topic is its own topic."""
        return self.code

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form including nested subtopics."""
        data = super().to_dict()
        data["subtopics"] = [s.to_dict() for s in self.subtopics]
        return data


class Taxonomy:
    """A versioned rubricator with lookup by code."""

    def __init__(self, version: str, topics: list[Topic], description: str = "") -> None:
        self.version = version
        self.description = description
        self.topics: tuple[Topic, ...] = tuple(topics)
        self._by_code: dict[str, Subtopic] = {}
        for topic in self.topics:
            self._by_code[topic.code] = topic
            for sub in topic.subtopics:
                self._by_code[sub.code] = sub

    # --- lookup -------------------------------------------------------------------------
    def get(self, code: str) -> Subtopic | None:
        """Return the topic or subtopic with this code, or None."""
        return self._by_code.get(code)

    def __getitem__(self, code: str) -> Subtopic:
        try:
            return self._by_code[code]
        except KeyError:
            raise KeyError(f"нет темы с кодом {code!r} в рубрикаторе {self.version}") from None

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __len__(self) -> int:
        return len(self._by_code)

    def __iter__(self) -> Iterator[Subtopic]:
        """Iterate topics and subtopics, each topic followed by its subtopics."""
        for topic in self.topics:
            yield topic
            yield from topic.subtopics

    def topic(self, code: str) -> Topic:
        """Return the topic of a topic or subtopic code."""
        node = self[code.split(".", 1)[0]]
        assert isinstance(node, Topic)
        return node

    @property
    def topic_codes(self) -> list[str]:
        """Codes of the top-level topics, in order."""
        return [t.code for t in self.topics]

    @property
    def subtopic_codes(self) -> list[str]:
        """Codes of all subtopics, in order."""
        return [s.code for t in self.topics for s in t.subtopics]

    def name(self, code: str, lang: str = "ru") -> str:
        """Display name of a code in Russian (default) or English."""
        node = self[code]
        return node.name_en if lang == "en" else node.name_ru

    # --- (de)serialisation --------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Taxonomy:
        """Build and validate a taxonomy from its JSON form.

        Accepts nested subtopics (``topics[].subtopics[]``) and, for rows coming from a
        database, a flat top-level ``subtopics`` list whose items carry a ``topic`` code.
        Raises :class:`TaxonomyError` listing every problem.
        """
        errors: list[str] = []
        version = str(data.get("version") or "").strip()
        if not version:
            errors.append("нет поля version (версия рубрикатора)")
        raw_topics = data.get("topics")
        if not isinstance(raw_topics, list) or not raw_topics:
            raise TaxonomyError(errors + ["нет списка topics или он пуст"])
        seen: set[str] = set()
        topics: list[Topic] = []
        flat: dict[str, list[Mapping[str, Any]]] = {}
        for item in data.get("subtopics") or []:
            parent = str(item.get("topic") or item.get("code", "").split(".", 1)[0])
            flat.setdefault(parent, []).append(item)
        for i, raw in enumerate(raw_topics):
            where = f"topics[{i}]"
            code = str(raw.get("code") or "")
            if not _TOPIC_CODE_RE.match(code):
                errors.append(f"{where}: код темы {code!r} должен быть латиницей: 'roads'")
            subs: list[Subtopic] = []
            raw_subs = list(raw.get("subtopics") or []) + flat.pop(code, [])
            for j, raw_sub in enumerate(raw_subs):
                sub = _node(Subtopic, raw_sub, f"{where}.subtopics[{j}]", errors)
                if sub is None:
                    continue
                if not _SUBTOPIC_CODE_RE.match(sub.code):
                    errors.append(f"{sub.code!r}: код подтемы должен иметь вид 'тема.подтема'")
                elif sub.topic_code != code:
                    errors.append(f"{sub.code!r}: подтема лежит в теме {code!r}, а код — нет")
                subs.append(sub)
            topic = _node(Topic, raw, where, errors, subtopics=tuple(subs))
            if topic is not None:
                topics.append(topic)
        for parent, items in flat.items():
            codes = ", ".join(str(it.get("code")) for it in items)
            errors.append(f"подтемы {codes} ссылаются на несуществующую тему {parent!r}")
        for node in (n for t in topics for n in (t, *t.subtopics)):
            if node.code in seen:
                errors.append(f"код {node.code!r} повторяется")
            seen.add(node.code)
        if errors:
            raise TaxonomyError(errors)
        return cls(version, topics, str(data.get("description") or ""))

    def to_dict(self) -> dict[str, Any]:
        """JSON form; ``Taxonomy.from_dict(t.to_dict())`` gives an equal taxonomy."""
        return {
            "version": self.version,
            "description": self.description,
            "topics": [t.to_dict() for t in self.topics],
        }

    @classmethod
    def load(cls, path: str | Path) -> Taxonomy:
        """Read and validate a taxonomy JSON file."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise TaxonomyError([f"{path}: не JSON ({exc.msg}, строка {exc.lineno})"]) from exc
        return cls.from_dict(data)


def _node(
    kind: type[Subtopic], raw: Mapping[str, Any], where: str, errors: list[str], **extra: Any
) -> Any:
    """Validate the common fields of a topic/subtopic; return the node or None."""
    if not isinstance(raw, Mapping):
        errors.append(f"{where}: ожидался объект, получено {type(raw).__name__}")
        return None
    code = str(raw.get("code") or "")
    label = f"{where} ({code or 'без кода'})"
    before = len(errors)
    name_ru = str(raw.get("name_ru") or "").strip()
    if not name_ru:
        errors.append(f"{label}: нет названия name_ru")
    urgency = str(raw.get("urgency") or "normal")
    if urgency not in URGENCY_LEVELS:
        errors.append(f"{label}: срочность {urgency!r} не из {', '.join(URGENCY_LEVELS)}")
    months = raw.get("seasonality") or []
    if not isinstance(months, list) or any(
        not isinstance(m, int) or not 1 <= m <= 12 for m in months
    ):
        errors.append(f"{label}: seasonality — список месяцев 1..12, получено {months!r}")
        months = []
    lexicon = raw.get("lexicon") or {}
    if isinstance(lexicon, list):  # a plain list of terms means weight 1 each
        lexicon = {str(t): 1.0 for t in lexicon}
    if not isinstance(lexicon, Mapping) or not lexicon:
        errors.append(f"{label}: пустой лексикон (нужны леммы или фразы с весами)")
        lexicon = {}
    clean: dict[str, float] = {}
    for term, weight in lexicon.items():
        if not str(term).strip():
            errors.append(f"{label}: пустой термин в лексиконе")
        elif not isinstance(weight, int | float) or isinstance(weight, bool) or weight <= 0:
            errors.append(f"{label}: вес термина {term!r} должен быть числом > 0")
        else:
            clean[" ".join(str(term).lower().split())] = float(weight)
    if len(errors) > before:
        return None
    return kind(
        code=code,
        name_ru=name_ru,
        name_en=str(raw.get("name_en") or name_ru),
        lexicon=clean,
        urgency=urgency,
        seasonality=tuple(sorted(set(months))),
        **extra,
    )


@lru_cache(maxsize=4)
def load_taxonomy(path: str | None = None) -> Taxonomy:
    """Return the taxonomy at ``path`` or the shipped default (cached per path)."""
    return Taxonomy.load(path or DEFAULT_PATH)
