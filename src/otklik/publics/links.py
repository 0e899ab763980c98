"""A page's platform link read into (platform, id on the platform, canonical URL).

Pure: no database, no network. VK community links (``club123``, ``public123``,
``event123``) give the wall's owner id (``-123``); a short name (``vk.com/school1``) is kept
as it is and resolved to the id by the first collection. A link that cannot be read raises
:class:`LinkError` with the reason in Russian (it goes into the import report).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

PLATFORMS = ("vk", "ok", "telegram")

_VK_HOSTS = {"vk.com", "vk.ru", "m.vk.com", "m.vk.ru", "vkontakte.ru"}
_OK_HOSTS = {"ok.ru", "m.ok.ru", "odnoklassniki.ru"}
_TG_HOSTS = {"t.me", "telegram.me", "telegram.dog"}
_VK_NUMERIC = re.compile(r"^(?:club|public|event)(\d{1,12})$")
_NAME = re.compile(r"^[A-Za-z0-9_.]{2,64}$")
_TG_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")


class LinkError(ValueError):
    """A link that names no page we can collect; the text is the reason."""


@dataclass(frozen=True)
class PageLink:
    """A page's address: its platform, its id there and the canonical URL."""

    platform: str
    external_id: str
    url: str


def parse_link(text: str) -> PageLink:
    """Read a VK, OK or Telegram page link (or ``@name`` for Telegram)."""
    raw = (text or "").strip()
    if not raw:
        raise LinkError("ссылка пуста")
    if raw.startswith("@"):
        return _telegram(raw[1:], raw)
    address = raw if "://" in raw else "https://" + raw
    parts = urlsplit(address)
    host = (parts.hostname or "").lower().removeprefix("www.")
    segments = [s for s in parts.path.split("/") if s]
    if host in _VK_HOSTS:
        return _vk(segments, raw)
    if host in _OK_HOSTS:
        return _ok(segments, raw)
    if host in _TG_HOSTS:
        if segments and segments[0] == "s":
            segments = segments[1:]
        if not segments:
            raise LinkError(f"в ссылке нет имени канала: {raw}")
        return _telegram(segments[0], raw)
    raise LinkError(f"не ссылка на страницу ВКонтакте, Одноклассников или Telegram: {raw}")


def _vk(segments: list[str], raw: str) -> PageLink:
    if len(segments) != 1:
        raise LinkError(f"в ссылке ВКонтакте нет страницы сообщества: {raw}")
    name = segments[0]
    numeric = _VK_NUMERIC.match(name)
    if numeric:
        group = int(numeric.group(1))
        if group <= 0:
            raise LinkError(f"неверный номер сообщества ВКонтакте: {raw}")
        return PageLink("vk", str(-group), f"https://vk.com/club{group}")
    not_a_group = name.startswith(("wall", "id", "photo", "video", "topic"))
    if not_a_group and any(c.isdigit() for c in name):
        raise LinkError(f"ссылка ведёт на запись или пользователя, а не на сообщество: {raw}")
    if not _NAME.match(name):
        raise LinkError(f"неверное короткое имя сообщества ВКонтакте: {raw}")
    return PageLink("vk", name.lower(), f"https://vk.com/{name.lower()}")


def _ok(segments: list[str], raw: str) -> PageLink:
    if len(segments) >= 2 and segments[0] == "group" and segments[1].isdigit():
        return PageLink("ok", segments[1], f"https://ok.ru/group/{segments[1]}")
    if len(segments) == 1 and _NAME.match(segments[0]) and segments[0] not in ("group", "profile"):
        name = segments[0].lower()
        return PageLink("ok", name, f"https://ok.ru/{name}")
    raise LinkError(f"в ссылке Одноклассников нет группы: {raw}")


def _telegram(name: str, raw: str) -> PageLink:
    if name.startswith(("+", "joinchat")):
        raise LinkError(f"приглашение в закрытый чат, а не публичный канал: {raw}")
    if not _TG_NAME.match(name):
        raise LinkError(f"неверное имя канала Telegram: {raw}")
    return PageLink("telegram", "@" + name.lower(), f"https://t.me/{name.lower()}")
