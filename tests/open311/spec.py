"""The JSON schemas Otklik writes from the GeoReport v2 field tables
(src/otklik/open311/schemas/), with their formats checked.

jsonschema checks ``format: date-time`` only when the optional ``rfc3339-validator`` is
installed, and silently passes it otherwise; the checker here brings its own RFC 3339 check,
so a date without its offset fails whatever is installed."""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

NAMES = ("discovery", "errors", "post_response", "service_definition", "service_requests",
         "services", "tokens")
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")

FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True  # the type keyword speaks for non-strings
    if not _RFC3339.fullmatch(value):
        return False
    datetime.fromisoformat(value.replace("Z", "+00:00"))  # a real date and time
    return True


@cache
def schema(name: str) -> Draft202012Validator:
    """The validator of one of the project's GeoReport schemas."""
    text = resources.files("otklik.open311").joinpath(f"schemas/{name}.json").read_text()
    body = json.loads(text)
    Draft202012Validator.check_schema(body)
    return Draft202012Validator(body, format_checker=FORMATS)


def errors(name: str, body: Any) -> list[str]:
    """What is wrong with ``body`` by schema ``name`` (empty: valid)."""
    return [e.message for e in schema(name).iter_errors(body)]


def valid(name: str, body: Any) -> Any:
    """``body``, asserted valid by schema ``name``."""
    found = errors(name, body)
    assert not found, (name, found[:3])
    return body
