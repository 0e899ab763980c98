"""Property-based tests (hypothesis) of the parsers that take what residents and platforms
send: file imports (CSV, TSV, JSON Lines, XLSX, a Telegram Desktop export, plain tables),
the push payloads of VK, Telegram and OK, an e-mail. For any input each returns a result
(rows, each a message or a reason) or raises the clear error its caller turns into a 4xx or
a line of the CLI (a connector's PermanentError/ForgedRequest, an OtklikError, a ValueError
naming an unknown format) — never an unhandled exception. No database: cheap, bounded
examples (there is no RSS parser in Otklik to test)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from otklik.channels.connectors.base import ConnectorError, PushResult
from otklik.channels.connectors.email import parse_email
from otklik.channels.connectors.registry import get_connector
from otklik.channels.files import RowResult, read_file, read_records
from otklik.errors import OtklikError

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

#: Any JSON value (what a platform might send in any field).
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=4),
    max_leaves=10)


def _shaped(keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with the keys a parser looks for, each holding any JSON value (so the parser
    goes deep instead of stopping at the first missing key)."""
    return st.fixed_dictionaries({}, optional={k: JSON for k in keys})


VK_OBJECT = _shaped(["id", "owner_id", "from_id", "date", "text", "post_id", "reply_to",
                     "attachments", "geo", "copy_history", "views", "likes", "reposts",
                     "comments", "message", "peer_id", "conversation_message_id",
                     "post_owner_id", "signer_id", "is_deleted", "deleter_id"])
TG_MESSAGE = _shaped(["message_id", "date", "edit_date", "text", "caption", "chat", "from",
                      "sender_chat", "photo", "document", "location", "reply_to_message",
                      "entities", "forward_origin", "media_group_id"])
OK_MESSAGE = _shaped(["mid", "seq", "text", "attachments", "reply_to", "created"])


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


def _rows(path: Path, **options: Any) -> list[RowResult]:
    try:
        rows = list(read_file(path, **options))
    except (OtklikError, ConnectorError) as exc:
        assert str(exc)  # a clear error names the problem
        return []
    for row in rows:
        assert isinstance(row, RowResult)
        assert (row.message is None) == bool(row.error), row
    return rows


# -- files --------------------------------------------------------------------------------------

CELL = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=25)
HEADER = st.sampled_from(["text", "текст", "created_at", "дата", "source_id", "id", "author",
                          "author_name", "region", "lat", "lon", "url", "attachments",
                          "channel", "reach", "views", "place_hint", "parent_id", "", "x"])


@SETTINGS
@given(header=st.lists(HEADER, min_size=1, max_size=6),
       rows=st.lists(st.lists(CELL, max_size=7), max_size=5),
       delimiter=st.sampled_from([",", ";", "\t", "|"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1251"]))
def test_any_csv_gives_rows_or_reasons(scratch: Path, header: list[str], rows: list[list[str]],
                                       delimiter: str, encoding: str) -> None:
    text = "\n".join(delimiter.join(r) for r in [header, *rows])
    path = scratch / "any.csv"
    path.write_bytes(text.encode(encoding, "replace"))
    _rows(path, source="import", region="68")


@SETTINGS
@given(content=st.binary(max_size=400))
def test_any_bytes_as_csv_tsv_or_jsonl(scratch: Path, content: bytes) -> None:
    for name in ("bytes.csv", "bytes.tsv", "bytes.jsonl"):
        path = scratch / name
        path.write_bytes(content)
        _rows(path, source="import")


@SETTINGS
@given(lines=st.lists(JSON | _shaped(["text", "created_at", "source_id", "author_id", "lat",
                                      "lon", "attachments", "reach", "raw", "region"]),
                      max_size=5))
def test_any_json_lines_give_rows_or_reasons(scratch: Path, lines: list[Any]) -> None:
    path = scratch / "any.jsonl"
    path.write_text("\n".join(json.dumps(v, ensure_ascii=False) for v in lines),
                    encoding="utf-8")
    _rows(path, source="import", region="68")


@SETTINGS
@given(header=st.lists(HEADER, min_size=1, max_size=5),
       rows=st.lists(st.lists(st.none() | st.integers(-(2**40), 2**40) | st.booleans()
                              | st.floats(allow_nan=False, allow_infinity=False)
                              | st.datetimes() | CELL.filter(lambda s: not s.startswith("=")),
                              max_size=6), max_size=4))
def test_any_workbook_gives_rows_or_reasons(scratch: Path, header: list[str],
                                            rows: list[list[Any]]) -> None:
    from openpyxl import Workbook
    from openpyxl.utils.exceptions import IllegalCharacterError

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    try:
        for row in [header, *rows]:
            sheet.append(row)
    except IllegalCharacterError:
        return  # openpyxl refuses control characters: no such workbook can exist
    path = scratch / "any.xlsx"
    book.save(path)
    _rows(path, source="import", region="68")
    for _, record in read_records(path):
        assert isinstance(record, dict)


@SETTINGS
@given(export=JSON | st.fixed_dictionaries(
    {"messages": st.lists(_shaped(["id", "type", "date", "date_unixtime", "from", "from_id",
                                   "text", "text_entities", "reply_to_message_id", "photo",
                                   "file", "edited"]), max_size=4)},
    optional={"name": JSON, "type": JSON, "id": JSON}))
def test_any_telegram_export_gives_rows_or_a_clear_error(scratch: Path, export: Any) -> None:
    path = scratch / "result.json"
    path.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    _rows(path)


@SETTINGS
@given(content=st.binary(max_size=300))
def test_any_bytes_as_a_plain_table(scratch: Path, content: bytes) -> None:
    path = scratch / "table.csv"
    path.write_bytes(content)
    for number, record in read_records(path):
        assert number >= 1 and isinstance(record, dict)


# -- platform pushes ----------------------------------------------------------------------------


def _push(kind: str, config: dict[str, Any], body: bytes, headers: dict[str, str],
          query: dict[str, str] | None = None) -> None:
    connector = get_connector(kind, config)
    try:
        result = connector.receive(body, headers, query)  # type: ignore[attr-defined]
    except ConnectorError as exc:
        assert str(exc)
        return
    assert isinstance(result, PushResult)


VK = {"access_token": "x", "group_id": 1, "callback_secret": "s3cret",
      "confirmation_code": "abc"}


@SETTINGS
@given(kind=st.sampled_from(["wall_post_new", "wall_repost", "wall_reply_new",
                             "wall_reply_edit", "wall_reply_delete", "message_new",
                             "confirmation", "unknown"]) | JSON,
       obj=VK_OBJECT | JSON, group=st.just(1) | JSON, secret=st.just("s3cret") | JSON)
def test_any_vk_callback_is_mapped_or_refused(kind: Any, obj: Any, group: Any,
                                             secret: Any) -> None:
    body = {"type": kind, "group_id": group, "secret": secret, "object": obj}
    _push("vk", VK, json.dumps(body).encode(), {})


@SETTINGS
@given(body=st.binary(max_size=200))
def test_any_bytes_pushed_to_vk_telegram_ok(body: bytes) -> None:
    _push("vk", VK, body, {})
    _push("telegram", {"bot_token": "1:x", "webhook_secret": "s3cret"}, body,
          {"X-Telegram-Bot-Api-Secret-Token": "s3cret"})
    _push("ok", {"access_token": "x", "application_key": "k", "application_secret_key": "s",
                 "webhook_secret": "s3cret"}, body, {}, {"secret": "s3cret"})


@SETTINGS
@given(update=_shaped(["update_id"]).flatmap(lambda u: st.fixed_dictionaries(
    {**{k: st.just(v) for k, v in u.items()}},
    optional={"message": TG_MESSAGE | JSON, "edited_message": TG_MESSAGE | JSON,
              "channel_post": TG_MESSAGE | JSON, "edited_channel_post": TG_MESSAGE})))
def test_any_telegram_update_is_mapped_or_refused(update: dict[str, Any]) -> None:
    _push("telegram", {"bot_token": "1:x", "webhook_secret": "s3cret"},
          json.dumps(update).encode(), {"X-Telegram-Bot-Api-Secret-Token": "s3cret"})
    connector = get_connector("telegram", {"bot_token": "1:x"})
    try:  # the polling path maps the same updates
        connector.update_message(update)  # type: ignore[attr-defined]
    except (KeyError, TypeError, ValueError):
        pass  # fetch() turns these into a per-update error (tests/intake: getUpdates)


@SETTINGS
@given(event=st.fixed_dictionaries({"message": OK_MESSAGE | JSON},
                                   optional={"sender": JSON, "recipient": JSON,
                                             "timestamp": JSON, "webhookType": JSON}))
def test_any_ok_webhook_is_mapped_or_refused(event: dict[str, Any]) -> None:
    _push("ok", {"access_token": "x", "application_key": "k", "application_secret_key": "s",
                 "webhook_secret": "s3cret"}, json.dumps(event).encode(), {},
          {"secret": "s3cret"})


# -- e-mail -------------------------------------------------------------------------------------

HEADER_VALUE = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]),
                       max_size=40)


@SETTINGS
@given(raw=st.binary(max_size=500))
def test_any_bytes_as_an_email(raw: bytes) -> None:
    message = parse_email(raw, uid=1)
    assert message.text is not None


@SETTINGS
@given(subject=HEADER_VALUE, sender=HEADER_VALUE, date=HEADER_VALUE, body=st.text(max_size=200),
       ctype=st.sampled_from(["text/plain", "text/html", "multipart/alternative",
                              "application/octet-stream", "text/plain; charset=koi8-r",
                              "text/plain; charset=nonsense"]),
       encoding=st.sampled_from(["7bit", "base64", "quoted-printable", "x-unknown"]))
def test_any_email_headers_and_parts(subject: str, sender: str, date: str, body: str,
                                     ctype: str, encoding: str) -> None:
    raw = (f"From: {sender}\r\nSubject: {subject}\r\nDate: {date}\r\n"
           f"Content-Type: {ctype}\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n{body}")
    message = parse_email(raw.encode("utf-8", "surrogateescape"), uid=2)
    assert message.text is not None
