"""Text and time normalisation shared by the connectors and the file readers.

The raw payload keeps what arrived; the ``text`` field gets a clean version:
no control characters (newlines and tabs stay), HTML reduced to text, at most
:data:`MAX_TEXT` characters.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from html.parser import HTMLParser
from typing import Any

MAX_TEXT = 20_000

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\ufeff\ufffe\uffff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
#: Surrogates that are not a byte smuggled in by ``surrogateescape`` (U+DC80..U+DCFF).
_LONE_SURROGATE = re.compile(r"[\ud800-\udc7f\udd00-\udfff]")
_LOOKS_HTML = re.compile(
    r"</?(?:br|p|div|span|a|b|i|u|em|strong|ul|ol|li|table|tr|td|h[1-6]|blockquote|img|font)"
    r"(?:\s[^<>]*)?/?>|&(?:nbsp|amp|lt|gt|quot|laquo|raquo|mdash|#\d+);",
    re.IGNORECASE,
)
_BLOCK_TAGS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}


def moscow_tz() -> tzinfo:
    """Europe/Moscow, or a fixed UTC+3 where the tz database is missing."""
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Europe/Moscow")
    except Exception:  # noqa: BLE001 - any tzdata problem means: use the fixed offset
        return timezone(timedelta(hours=3), "MSK")


class _TextExtractor(HTMLParser):
    """Collects visible text; block tags become line breaks, script/style are dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Visible text of an HTML fragment or document."""
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    text = "".join(parser.parts).replace("\xa0", " ")
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def looks_like_html(text: str) -> bool:
    """True when ``text`` carries HTML tags or entities worth converting."""
    return bool(_LOOKS_HTML.search(text))


def clean_text(text: str) -> str:
    """Normalise a message text: HTML to text, CRLF to LF, control characters removed."""
    if looks_like_html(text):
        text = html_to_text(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SURROGATE.sub("\ufffd", text)
    return _CONTROL.sub("", text).strip()


def limit_text(text: str, raw: dict[str, Any], limit: int = MAX_TEXT) -> str:
    """Cut ``text`` to ``limit`` characters, noting the cut in ``raw``."""
    if len(text) <= limit:
        return text
    raw["_truncated"] = True
    raw["_original_length"] = len(text)
    return text[:limit]


def has_surrogates(text: str) -> bool:
    """True when ``text`` holds undecodable bytes smuggled in by ``surrogateescape``."""
    return bool(_SURROGATE.search(text))


def escape_surrogates(text: str) -> str:
    """Undecodable bytes as ``\\xNN`` and lone UTF-16 surrogates (``"\\ud800"`` in JSON) as
    the visible text ``\\ud800``, so what is stored is always valid UTF-8."""
    if not has_surrogates(text):
        return text
    text = _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def from_unix(value: float | int | str) -> datetime:
    """A UTC datetime from unix seconds (milliseconds accepted when obviously so).

    A value no calendar holds is a ValueError that says so, never an OverflowError.
    """
    seconds = float(value)
    if seconds > 1e11:  # milliseconds: 1e11 s is the year 5138
        seconds /= 1000.0
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"unix time {value!r} is out of range") from None


def unescape(text: str) -> str:
    """HTML entities decoded (VK escapes some in texts)."""
    return html.unescape(text)
