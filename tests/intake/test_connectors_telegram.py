"""Telegram bot connector and Telegram Desktop export import."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from otklik.channels.connectors.base import AuthError, ForgedRequest, Reply
from otklik.channels.connectors.registry import get_connector
from otklik.channels.connectors.telegram import TelegramConnector
from otklik.channels.connectors.telegram_export import (
    TelegramExportConnector,
    read_telegram_export,
)
from otklik.channels.files import read_file

from .stubs.clock import FakeClock
from .stubs.http_stub import FIXTURES, StubResponse, StubServer, load_fixture

TOKEN = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
BASE = f"/bot{TOKEN}"


def fx(name: str) -> StubResponse:
    body = load_fixture("telegram", name)
    status = int(body.get("error_code", 200))
    return StubResponse(body, status=status)


@pytest.fixture
def stub() -> Iterator[StubServer]:
    with StubServer() as server:
        yield server


def make(stub: StubServer, clock: FakeClock, **extra: Any) -> TelegramConnector:
    config = {
        "bot_token": TOKEN,
        "base_url": stub.url,
        "webhook_secret": "wh-secret-42",
        "poll_timeout": 0,
        "limit": 5,
        **extra,
    }
    connector = get_connector("telegram", config, clock=clock)
    assert isinstance(connector, TelegramConnector)
    return connector


def test_fetch_groups_channels_and_direct_messages(stub: StubServer) -> None:
    stub.script(f"{BASE}/getUpdates", fx("getUpdates_first.json"), fx("getUpdates_empty.json"))
    result = make(stub, FakeClock()).fetch(None)

    assert result.errors == []
    assert result.cursor == {"offset": 880006}
    by_id = {m.source_id: m for m in result.messages}
    assert set(by_id) == {
        "-1001987654321:5012",
        "-1001987654321:5013",
        "-1001122334455:301",
        "423456789:77",
    }
    first = by_id["-1001987654321:5012"]
    assert first.author_name == "Баира Очирова" and first.author_id == "412345678"
    assert first.url == "https://t.me/elista_residents/5012"
    assert first.created_at.timestamp() == 1733040000
    assert by_id["-1001987654321:5013"].parent_source_id == "-1001987654321:5012"
    post = by_id["-1001122334455:301"]
    assert post.text.startswith("График подвоза воды")  # caption of a photo post
    assert post.author_name == "Минприроды Калмыкии"
    assert post.url == "https://t.me/c/1122334455/301"
    assert post.attachments[0].url == "tg-file:AgACAgIAAxkBAAIBQ2dK_large"
    direct = by_id["423456789:77"]
    assert (direct.lat, direct.lon) == (46.1712, 45.3435) and direct.url is None
    sent = stub.calls(f"{BASE}/getUpdates")[0].json
    assert "offset" not in sent and sent["allowed_updates"][0] == "message"


def test_resume_with_offset_after_restart(stub: StubServer) -> None:
    stub.script(f"{BASE}/getUpdates", fx("getUpdates_first.json"), fx("getUpdates_empty.json"))
    first = make(stub, FakeClock()).fetch(None)
    stub.script(f"{BASE}/getUpdates", fx("getUpdates_second.json"))
    second = make(stub, FakeClock()).fetch(json.loads(json.dumps(first.cursor)))

    assert stub.requests[-1].json["offset"] == 880006
    ids = [m.source_id for m in second.messages]
    assert ids == ["-1001987654321:5012", "-1001987654321:5020"]
    edited = second.messages[0]
    assert edited.edited_at is not None and "−15" in edited.text
    assert second.cursor == {"offset": 880008}


def test_429_honours_retry_after(stub: StubServer) -> None:
    stub.script(f"{BASE}/getUpdates", fx("error_429.json"), fx("getUpdates_second.json"))
    clock = FakeClock()
    connector = make(stub, clock)
    result = connector.fetch({"offset": 880006})
    assert len(result.messages) == 2
    assert connector.http.waits == [3.0]
    assert 3.0 in clock.sleeps


def test_unauthorized_token_raises_auth_error(stub: StubServer) -> None:
    stub.script(f"{BASE}/getUpdates", fx("error_401.json"))
    with pytest.raises(AuthError):
        make(stub, FakeClock()).fetch(None)


def test_reply_in_thread(stub: StubServer) -> None:
    stub.script(f"{BASE}/sendMessage", fx("sendMessage.json"))
    external = make(stub, FakeClock()).publish(
        Reply(
            target_source_id="-1001987654321:5012",
            text="Подвоз воды: сегодня с 9:00 на ул. Ленина.",
        )
    )
    assert external == "-1001987654321:5031"
    sent = stub.calls(f"{BASE}/sendMessage")[0].json
    assert sent["chat_id"] == -1001987654321
    assert sent["reply_parameters"]["message_id"] == 5012
    assert sent["text"].startswith("Подвоз воды")


def test_webhook_checks_secret_header(stub: StubServer) -> None:
    connector = make(stub, FakeClock())
    body = json.dumps(load_fixture("telegram", "webhook_update.json")).encode()
    pushed = connector.receive(body, {"X-Telegram-Bot-Api-Secret-Token": "wh-secret-42"})
    assert [m.source_id for m in pushed.messages] == ["-1001987654321:5040"]
    with pytest.raises(ForgedRequest):
        connector.receive(body, {"X-Telegram-Bot-Api-Secret-Token": "wrong"})
    with pytest.raises(ForgedRequest):
        connector.receive(body, {})


def test_token_is_redacted_in_logs(stub: StubServer, caplog: pytest.LogCaptureFixture) -> None:
    stub.script(f"{BASE}/getUpdates", fx("getUpdates_empty.json"))
    connector = make(stub, FakeClock())
    with caplog.at_level(logging.DEBUG):
        connector.fetch(None)
    assert "getUpdates" in caplog.text  # httpx logged the request ...
    assert TOKEN not in caplog.text + repr(connector)  # ... without the token


def test_export_streams_messages_and_reports_bad_ones() -> None:
    rows = list(read_telegram_export(FIXTURES / "telegram" / "result.json"))
    good = [r.message for r in rows if r.message]
    bad = [r for r in rows if r.error]
    assert [m.source_id for m in good] == [
        "-1001122334455:2",
        "-1001122334455:3",
        "-1001122334455:4",
    ]
    assert good[0].text == "На водозаборе в Яшкуле авария. Подвоз воды организован с 12:00."
    assert good[0].channel == "Минприроды Калмыкии"
    assert good[1].edited_at is not None and good[1].attachments[0].type == "photo"
    assert good[2].parent_source_id == "-1001122334455:2"
    assert len(bad) == 1 and bad[0].row_number == 5  # the message without a date
    # The same ids as the bot sees: an export of a channel the bot is in dedupes.
    assert good[0].source_id.split(":")[0] == "-1001122334455"


def test_export_via_read_file_and_connector_resume(tmp_path: Path) -> None:
    src = FIXTURES / "telegram" / "result.json"
    assert sum(1 for r in read_file(src) if r.message) == 3
    connector = get_connector("telegram_export", {"path": str(src)})
    assert isinstance(connector, TelegramExportConnector)
    first = connector.fetch(None)
    assert first.cursor == {"last_message_id": 4} and len(first.messages) == 3
    assert len(first.errors) == 1
    again = get_connector("telegram_export", {"path": str(src)}).fetch(first.cursor)
    assert again.messages == []


def test_export_of_many_messages_in_small_chunks(tmp_path: Path, monkeypatch: Any) -> None:
    import otklik.channels.connectors.telegram_export as module

    monkeypatch.setattr(module, "_CHUNK", 7)  # force values cut across buffer ends
    messages = [
        {
            "id": i,
            "type": "message",
            "date": "2024-12-01T11:00:00",
            "date_unixtime": str(1733040000 + i),
            "from": "Житель",
            "from_id": f"user{i}",
            "text": f'Сообщение номер {i}: «кавычки», \\ и "экраны"',
        }
        for i in range(1, 301)
    ]
    path = tmp_path / "result.json"
    path.write_text(
        json.dumps(
            {"name": "Чат", "type": "private_supergroup", "id": 42, "messages": messages},
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    rows = list(read_telegram_export(path))
    assert len(rows) == 300 and all(r.message for r in rows)
    assert rows[-1].message is not None and rows[-1].message.source_id == "-10042:300"
    assert rows[9].message is not None and rows[9].message.text.endswith('"экраны"')
