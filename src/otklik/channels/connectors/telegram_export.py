"""Import of a Telegram Desktop chat/channel export (``result.json``).

The export is one JSON object ``{"name", "type", "id", "messages": [...]}``;
channels with years of history make it hundreds of megabytes, so the
``messages`` array is decoded one element at a time instead of loading the file.
Source ids are ``{chat_id}:{message_id}`` with the chat id written as the Bot API
writes it (``-100…`` for channels and supergroups), so a message seen by the bot
and found again in an export is stored once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, ValidationError

from otklik.channels.connectors.base import (
    Clock,
    Connector,
    ConnectorConfig,
    FetchResult,
    PermanentError,
)
from otklik.channels.connectors.normalize import clean_text, from_unix, limit_text, moscow_tz
from otklik.channels.files import RowResult
from otklik.channels.schemas import Attachment, IncomingMessage, Source

_CHUNK = 1 << 16
_WS = " \t\r\n"
_DECODER = json.JSONDecoder()
_CHANNEL_TYPES = {"public_channel", "private_channel", "public_supergroup", "private_supergroup"}
_MEDIA_KEYS = {"photo": "photo", "file": "document", "thumbnail": None}


class ExportFormatError(PermanentError):
    """The file is not a Telegram Desktop single-chat export."""


class _Stream:
    """A growing text buffer over a file, for :func:`json.JSONDecoder.raw_decode`."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.buf = ""
        self.pos = 0
        self.eof = False

    def more(self) -> bool:
        if self.eof:
            return False
        chunk = self.handle.read(_CHUNK)
        if not chunk:
            self.eof = True
            return False
        self.buf = self.buf[self.pos :] + chunk
        self.pos = 0
        return True

    def skip_ws(self) -> None:
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _WS:
                self.pos += 1
            if self.pos < len(self.buf) or not self.more():
                return

    def peek(self) -> str:
        self.skip_ws()
        return self.buf[self.pos] if self.pos < len(self.buf) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise ExportFormatError(f"expected {char!r} in the export")
        self.pos += 1

    def value(self) -> Any:
        """Decode the next JSON value, reading more of the file until it is complete."""
        self.skip_ws()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError:
                # A value cut at the buffer end looks like an error too: read on.
                if self.more():
                    continue
                raise
            if end == len(self.buf) and not self.eof and self.buf[self.pos] not in '{["':
                # A bare number cut in the middle (123|45): make sure it is whole.
                if self.more():
                    continue
            self.pos = end
            return value


def iter_export(path: str | Path) -> tuple[dict[str, Any], Iterator[tuple[int, Any]]]:
    """Open an export: (chat header without messages, iterator of (index, message)).

    The header fields that come before ``messages`` in the file (Telegram writes
    name, type, id first) are known when the first message is yielded.
    """
    handle = open(path, encoding="utf-8-sig", errors="surrogateescape")  # noqa: SIM115
    stream = _Stream(handle)
    header: dict[str, Any] = {}

    def messages() -> Iterator[tuple[int, Any]]:
        try:
            stream.expect("{")
            while stream.peek() not in ("}", ""):
                key = stream.value()
                stream.expect(":")
                if key != "messages":
                    header[key] = stream.value()
                else:
                    stream.expect("[")
                    index = 0
                    while stream.peek() not in ("]", ""):
                        index += 1
                        yield index, stream.value()
                        if stream.peek() == ",":
                            stream.pos += 1
                    stream.expect("]")
                if stream.peek() == ",":
                    stream.pos += 1
        except json.JSONDecodeError as exc:
            raise ExportFormatError(f"broken JSON in the export: {exc.msg}") from None
        finally:
            handle.close()

    return header, messages()


def bot_chat_id(chat: Mapping[str, Any]) -> int:
    """The chat id as the Bot API writes it (exports store it without the -100 prefix)."""
    raw_id = int(chat.get("id", 0))
    kind = chat.get("type", "")
    if raw_id < 0:
        return raw_id
    if kind in _CHANNEL_TYPES:
        return int(f"-100{raw_id}")
    if kind == "private_group":
        return -raw_id
    return raw_id


def export_text(value: Any) -> str:
    """``text`` is a string or a list of strings and entities ``{"type", "text"}``."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(p if isinstance(p, str) else str(p.get("text", "")) for p in value)
    return ""


def map_export_message(
    item: Mapping[str, Any],
    chat: Mapping[str, Any],
    *,
    channel: str | None = None,
    region: str | None = None,
) -> IncomingMessage | None:
    """One export message as an IncomingMessage; None for service messages."""
    if item.get("type", "message") != "message":
        return None
    chat_id = bot_chat_id(chat)
    mid = int(item["id"])
    raw = dict(item)
    if item.get("date_unixtime"):
        created = from_unix(item["date_unixtime"])
    else:
        from otklik.channels.files import parse_datetime

        created = parse_datetime(item["date"], moscow_tz())
    edited = item.get("edited_unixtime") or None
    username = chat.get("username")
    if username:
        url: str | None = f"https://t.me/{username}/{mid}"
    elif str(chat_id).startswith("-100"):
        url = f"https://t.me/c/{str(chat_id)[4:]}/{mid}"
    else:
        url = None
    attachments: list[Attachment] = []
    for key, kind in _MEDIA_KEYS.items():
        if kind and isinstance(item.get(key), str):
            attachments.append(Attachment(url=f"tg-export:{item[key]}", type=kind))
    reply_to = item.get("reply_to_message_id")
    author = item.get("from") or item.get("actor")
    return IncomingMessage(
        source=Source.telegram,
        source_id=f"{chat_id}:{mid}",
        parent_source_id=f"{chat_id}:{reply_to}" if reply_to else None,
        owner_id=str(chat_id),
        post_id=str(mid),
        author_id=str(item.get("from_id") or "") or None,
        author_name=str(author) if author else None,
        text=limit_text(clean_text(export_text(item.get("text"))), raw),
        created_at=created,
        edited_at=from_unix(edited) if edited else None,
        url=url,
        attachments=attachments,
        region=region,
        channel=channel or chat.get("name"),
        raw=raw,
    )


def read_telegram_export(
    path: str | Path,
    *,
    channel: str | None = None,
    region: str | None = None,
    after_id: int = 0,
    **_: Any,
) -> Iterator[RowResult]:
    """Stream RowResults of an export; ``row_number`` is the message's place in the file.

    Service messages (joins, pins) are skipped silently; a message that cannot be
    mapped becomes an error row. Messages with id ≤ ``after_id`` are skipped.
    """
    header, items = iter_export(path)
    for index, item in items:
        if not isinstance(item, dict):
            yield RowResult(index, None, "сообщение не является объектом")
            continue
        try:
            if int(item.get("id", 0)) <= after_id:
                continue
            msg = map_export_message(item, header, channel=channel, region=region)
        except (KeyError, TypeError, ValueError, ValidationError) as exc:
            yield RowResult(index, None, f"сообщение {item.get('id')}: {exc}"[:300])
            continue
        if msg is not None:
            yield RowResult(index, msg)


class TelegramExportConfig(ConnectorConfig):
    """Settings of the export importer: the path of ``result.json``."""

    path: str = Field(description="path of a Telegram Desktop result.json")


class TelegramExportConnector(Connector):
    """A Telegram Desktop export read as a connector; cursor = last message id imported."""

    kind: ClassVar[str] = "telegram_export"
    config_model: ClassVar[type[ConnectorConfig]] = TelegramExportConfig
    config: TelegramExportConfig

    def __init__(self, config: Mapping[str, Any] | ConnectorConfig, *, clock: Clock | None = None):
        super().__init__(config, clock=clock)

    def fetch(self, cursor: dict[str, Any] | None) -> FetchResult:
        """Messages newer than ``cursor["last_message_id"]``; errors carry their place."""
        last = int((cursor or {}).get("last_message_id") or 0)
        messages: list[IncomingMessage] = []
        errors: list[str] = []
        newest = last
        try:
            for row in read_telegram_export(
                self.config.path,
                channel=self.config.channel,
                region=self.config.region,
                after_id=last,
            ):
                if row.message is None:
                    errors.append(f"сообщение №{row.row_number}: {row.error}")
                    continue
                messages.append(row.message)
                newest = max(newest, int(row.message.post_id or 0))
        except OSError as exc:
            errors.append(f"не удалось прочитать {self.config.path}: {exc.strerror}")
        except ExportFormatError as exc:
            errors.append(exc.message)
        return FetchResult(messages=messages, cursor={"last_message_id": newest}, errors=errors)
