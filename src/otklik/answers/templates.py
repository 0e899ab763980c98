"""Answer templates with ``{{ name }}`` placeholders, rendered by a small safe renderer.

The syntax is a strict subset of Jinja2's: ``{{ name }}``, ``{{ name | default('житель') }}``
and a few formatting filters (``date``, ``short_date``, ``datetime``, ``time``, ``upper``,
``lower``, ``capitalize``). Nothing else is parsed: no attribute access, no calls, no
``{% %}`` blocks, so an operator-edited template cannot run code (``{{ ''.__class__ }}`` is
refused with a message). Values are inserted once and never re-rendered. Output is plain
text for a social network or e-mail; whoever shows it in HTML escapes it.

Dates and datetimes are written the Russian way: "15 декабря 2026 г.", "15 декабря 2026 г.,
18:00" (midnight is shown as a date only). Aware datetimes are printed as given: convert
them to the executor's time zone first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path

from otklik.errors import InvalidInput

DATA_DIR = Path(__file__).with_name("data")

MONTHS_GENITIVE: tuple[str, ...] = (
    "января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
    "октября", "ноября", "декабря",
)

#: Every field the built-in templates and the case service may fill.
STANDARD_FIELDS: frozenset[str] = frozenset({
    "resident_name", "case_number", "topic", "subtopic", "address", "territory", "executor",
    "executor_contact", "deadline", "reply_until", "question", "action", "reason", "advice",
    "original_number", "received_at", "today", "operator", "region",
})

_TAG_RE = re.compile(r"\{\{(.*?)\}\}", re.S)
_EXPR_RE = re.compile(
    r"""^\s*(?P<name>[A-Za-z][A-Za-z0-9_]*)\s*
        (?P<filters>(?:\|\s*[A-Za-z_]+\s*(?:\(\s*(?:'[^'\\]*'|"[^"\\]*")?\s*\))?\s*)*)$""",
    re.X,
)
_FILTER_RE = re.compile(r"""\|\s*(?P<f>[A-Za-z_]+)\s*(?:\(\s*(?P<arg>'[^']*'|"[^"]*")?\s*\))?""")
_BLOCK_RE = re.compile(r"\{%|%\}|\{#|#\}")


class TemplateError(InvalidInput):
    """A template cannot be rendered or saved; ``errors`` lists every problem (in Russian)."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("Шаблон ответа содержит ошибки: " + "; ".join(errors))


class MissingPlaceholderError(TemplateError):
    """Some placeholders have no value and no default; ``names`` lists them."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        listed = ", ".join(names)
        super().__init__([f"не заполнены поля шаблона: {listed}"])


@dataclass(frozen=True)
class _Filter:
    name: str
    arg: str | None


@dataclass(frozen=True)
class _Tag:
    start: int
    end: int
    name: str
    filters: tuple[_Filter, ...]

    @property
    def default(self) -> str | None:
        for f in self.filters:
            if f.name == "default":
                return f.arg if f.arg is not None else ""
        return None


# --- formatting -----------------------------------------------------------------------------


def format_date_ru(value: date | datetime) -> str:
    """A date in words: "15 декабря 2026 г."."""
    return f"{value.day} {MONTHS_GENITIVE[value.month - 1]} {value.year} г."


def format_datetime_ru(value: datetime) -> str:
    """A date and time: "15 декабря 2026 г., 18:00" (a midnight time is left out)."""
    if value.time() == time(0, 0):
        return format_date_ru(value)
    return f"{format_date_ru(value)}, {value:%H:%M}"


def _to_date(value: object, filter_name: str) -> date | datetime:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"фильтр {filter_name} ожидает дату, получено {value!r}")


def _format(value: object) -> str:
    """Plain text of a context value: Russian dates, "да"/"нет", comma-joined lists."""
    if isinstance(value, datetime):
        return format_datetime_ru(value)
    if isinstance(value, date):
        return format_date_ru(value)
    if isinstance(value, bool):
        return "да" if value else "нет"
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(_format(v) for v in value)
    return str(value)


def _date_filter(value: object) -> str:
    return format_date_ru(_to_date(value, "date"))


def _short_date_filter(value: object) -> str:
    return f"{_to_date(value, 'short_date'):%d.%m.%Y}"


def _datetime_filter(value: object) -> str:
    when = _to_date(value, "datetime")
    return format_datetime_ru(when) if isinstance(when, datetime) else format_date_ru(when)


def _time_filter(value: object) -> str:
    when = _to_date(value, "time")
    if not isinstance(when, datetime):
        raise ValueError(f"фильтр time ожидает дату со временем, получено {value!r}")
    return f"{when:%H:%M}"


_FILTERS: dict[str, Callable[[object], str]] = {
    "date": _date_filter,
    "short_date": _short_date_filter,
    "datetime": _datetime_filter,
    "time": _time_filter,
    "upper": lambda v: _format(v).upper(),
    "lower": lambda v: _format(v).lower(),
    "capitalize": lambda v: (lambda s: s[:1].upper() + s[1:])(_format(v)),
}
FILTER_NAMES: frozenset[str] = frozenset(_FILTERS) | {"default"}


# --- parsing --------------------------------------------------------------------------------


def _parse(template: str) -> tuple[list[_Tag], list[str]]:
    """The placeholders of a template and every syntax problem found."""
    tags, errors = _parsed(template)
    return list(tags), list(errors)


@lru_cache(maxsize=256)
def _parsed(template: str) -> tuple[tuple[_Tag, ...], tuple[str, ...]]:
    """:func:`_parse`, kept per template text (every interim answer of a batch renders the
    same template)."""
    errors: list[str] = []
    tags: list[_Tag] = []
    if _BLOCK_RE.search(template):
        errors.append("блоки {% … %} и комментарии {# … #} не поддерживаются: только {{ поле }}")
    pos = 0
    for m in _TAG_RE.finditer(template):
        pos = m.end()
        inner = m.group(1)
        expr = _EXPR_RE.match(inner)
        if expr is None:
            errors.append(
                f"недопустимое выражение {{{{{inner}}}}}: разрешены только имя поля и фильтры, "
                "например {{ deadline | date }} или {{ resident_name | default('житель') }}"
            )
            continue
        filters: list[_Filter] = []
        for fm in _FILTER_RE.finditer(expr.group("filters")):
            arg = fm.group("arg")
            filters.append(_Filter(fm.group("f"), arg[1:-1] if arg is not None else None))
        name = expr.group("name")
        for f in filters:
            if f.name not in FILTER_NAMES:
                known = ", ".join(sorted(FILTER_NAMES))
                errors.append(f"неизвестный фильтр «{f.name}» у поля «{name}» (есть: {known})")
            elif f.name != "default" and f.arg is not None:
                errors.append(f"фильтр «{f.name}» у поля «{name}» не принимает аргументов")
        tags.append(_Tag(m.start(), m.end(), name, tuple(filters)))
    tail = template[pos:]
    if "{{" in tail:
        errors.append("незакрытая скобка «{{» в конце шаблона")
    elif "}}" in tail:
        errors.append("лишняя закрывающая скобка «}}»")
    return tuple(tags), tuple(errors)


def placeholders(template: str) -> list[str]:
    """Names of the fields a template uses, in order of first use."""
    tags, _errors = _parse(template)
    return list(dict.fromkeys(t.name for t in tags))


def required_placeholders(template: str) -> list[str]:
    """Fields the template needs a value for (used without a default)."""
    tags, _errors = _parse(template)
    return list(dict.fromkeys(t.name for t in tags if t.default is None))


def validate_template(template: str, allowed: set[str] | frozenset[str]) -> list[str]:
    """Every problem of a template (syntax, unknown fields or filters), in Russian; [] if fine."""
    tags, errors = _parse(template)
    unknown = [n for n in dict.fromkeys(t.name for t in tags) if n not in allowed]
    if unknown:
        permitted = ", ".join(sorted(allowed)) or "нет"
        errors.extend(f"неизвестное поле «{n}» (допустимы: {permitted})" for n in unknown)
    if not template.strip():
        errors.append("шаблон пуст")
    return errors


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def render_template(template: str, context: Mapping[str, object]) -> str:
    """Fill the placeholders from ``context``.

    Raises :class:`MissingPlaceholderError` naming every field that has no value (None or
    an empty string count as no value) and no default, and :class:`TemplateError` for bad
    syntax or a value a filter cannot format.
    """
    tags, errors = _parse(template)
    if errors:
        raise TemplateError(errors)
    missing = [
        t.name for t in tags if _missing(context.get(t.name)) and t.default is None
    ]
    if missing:
        raise MissingPlaceholderError(list(dict.fromkeys(missing)))
    out: list[str] = []
    pos = 0
    problems: list[str] = []
    for tag in tags:
        out.append(template[pos : tag.start])
        pos = tag.end
        value = context.get(tag.name)
        if _missing(value):
            out.append(tag.default or "")
            continue
        text: str | None = None
        for f in tag.filters:
            if f.name == "default":
                continue
            try:
                text = _FILTERS[f.name](value if text is None else text)
            except ValueError as exc:
                problems.append(f"поле «{tag.name}»: {exc}")
                break
        out.append(_format(value) if text is None else text)
    if problems:
        raise TemplateError(problems)
    out.append(template[pos:])
    return "".join(out)


# --- built-in templates ---------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerTemplate:
    """A named template: code (``interim``, ``final``, ``reject_spam`` ...), names and text."""

    code: str
    name_ru: str
    name_en: str
    text: str

    @property
    def fields(self) -> list[str]:
        """Fields the text uses."""
        return placeholders(self.text)

    @property
    def required(self) -> list[str]:
        """Fields that must be given (no default)."""
        return required_placeholders(self.text)

    def render(self, context: Mapping[str, object]) -> str:
        """Render this template (see :func:`render_template`)."""
        return render_template(self.text, context)


def load_templates(path: str | Path | None = None) -> dict[str, AnswerTemplate]:
    """Read templates from JSON (the shipped set by default), validating each one."""
    raw = json.loads(Path(path or DATA_DIR / "templates_ru.json").read_text("utf-8"))
    out: dict[str, AnswerTemplate] = {}
    errors: list[str] = []
    for item in raw["templates"]:
        tpl = AnswerTemplate(item["code"], item["name_ru"], item.get("name_en", ""),
                             item["text"])
        errors.extend(f"{tpl.code}: {e}" for e in validate_template(tpl.text, STANDARD_FIELDS))
        out[tpl.code] = tpl
    if errors:
        raise TemplateError(errors)
    return out


@lru_cache(maxsize=1)
def _default_templates() -> dict[str, AnswerTemplate]:
    return load_templates()


def default_templates() -> dict[str, AnswerTemplate]:
    """The built-in Russian templates by code (a copy: edit freely)."""
    return dict(_default_templates())


def get_template(code: str) -> AnswerTemplate:
    """A built-in template by code; raises :class:`TemplateError` naming the known codes."""
    templates = _default_templates()
    if code not in templates:
        raise TemplateError([f"нет шаблона «{code}» (есть: {', '.join(templates)})"])
    return templates[code]


def render_default(code: str, context: Mapping[str, object]) -> str:
    """Render a built-in template by code."""
    return get_template(code).render(context)


TEMPLATE_CODES: tuple[str, ...] = (
    "interim", "clarification", "final", "extension", "reject_spam", "reject_not_authority",
    "reject_duplicate",
)


def describe(codes: Iterable[str] = TEMPLATE_CODES) -> list[dict[str, object]]:
    """A list for the UI: code, names and fields of each built-in template."""
    return [
        {"code": t.code, "name_ru": t.name_ru, "name_en": t.name_en, "fields": t.fields,
         "required": t.required}
        for t in (get_template(c) for c in codes)
    ]
