"""E-mail connector against a local IMAP stub and an aiosmtpd SMTP server."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from typing import Any

import pytest

from otklik.channels.connectors.base import AuthError, Reply
from otklik.channels.connectors.email import EmailConnector, parse_email
from otklik.channels.connectors.registry import get_connector

from .stubs.clock import FakeClock
from .stubs.http_stub import FIXTURES
from .stubs.imap_stub import ImapStub, Mailbox

EML = FIXTURES / "email"


def eml(name: str) -> bytes:
    return (EML / name).read_bytes()


@pytest.fixture
def mailbox() -> Mailbox:
    box = Mailbox()
    box.add(101, eml("01_utf8_plain.eml"))
    box.add(102, eml("02_cp1251_qp.eml"))
    box.add(105, eml("03_koi8r_html_attachment.eml"))
    return box


@pytest.fixture
def imap(mailbox: Mailbox) -> Iterator[ImapStub]:
    with ImapStub(mailbox) as server:
        yield server


def make(imap: ImapStub, clock: FakeClock, **extra: Any) -> EmailConnector:
    config = {
        "imap_host": "127.0.0.1",
        "imap_port": imap.port,
        "imap_ssl": False,
        "username": "cur@example.ru",
        "password": "pa55word",
        "timeout": 5,
        **extra,
    }
    connector = get_connector("email", config, clock=clock)
    assert isinstance(connector, EmailConnector)
    return connector


def test_fetch_parses_charsets_html_and_attachments(imap: ImapStub, mailbox: Mailbox) -> None:
    result = make(imap, FakeClock()).fetch(None)
    assert result.errors == []
    assert result.cursor == {"uidvalidity": 1700000001, "last_uid": 105}
    by_id = {m.source_id: m for m in result.messages}

    utf8 = by_id["<20241202091500.4821@mail.example>"]
    assert utf8.author_name == "Анна Петрова" and utf8.author_id == "anna.petrova@mail.example"
    assert utf8.text.startswith("Яма на путепроводе, ул. Лаврова\n\nЗдравствуйте!")
    assert utf8.created_at.isoformat() == "2024-12-02T09:15:00+03:00"
    assert utf8.raw["uid"] == 101

    cp1251 = by_id["<cp1251.777@example.org>"]
    assert cp1251.author_name == "Иван Сергеев"
    assert "ул. Гоголевской не вывозят мусор" in cp1251.text

    koi8 = by_id["<koi8.html.1@example.net>"]
    assert koi8.author_name == "Баира Очирова"
    assert "Нет воды в Яшкуле третий день." in koi8.text and "<p>" not in koi8.text
    assert "color:red" not in koi8.text  # style content dropped
    (attachment,) = koi8.attachments
    assert attachment.type == "photo" and attachment.title == "photo.jpg"
    assert "\\xff" not in json.dumps(koi8.raw)  # attachment bytes are not kept
    assert "EXAMINE" in mailbox.commands  # read-only: messages stay unread


def test_resume_and_uidvalidity_change(imap: ImapStub, mailbox: Mailbox) -> None:
    first = make(imap, FakeClock()).fetch(None)
    mailbox.add(110, eml("04_reply_alternative.eml"))
    second = make(imap, FakeClock()).fetch(json.loads(json.dumps(first.cursor)))
    (reply,) = second.messages
    assert reply.source_id == "<20241204180000.9911@mail.example>"
    assert reply.parent_source_id == "<reply.1@cur.example.ru>"
    assert reply.text.endswith("Спасибо, яму засыпали.")  # text/plain preferred over HTML
    assert second.cursor["last_uid"] == 110

    nothing = make(imap, FakeClock()).fetch(second.cursor)
    assert nothing.messages == [] and nothing.cursor["last_uid"] == 110

    mailbox.uidvalidity += 1  # mailbox recreated: UIDs mean something else now
    again = make(imap, FakeClock()).fetch(second.cursor)
    assert len(again.messages) == 4


def test_busy_server_is_retried_with_backoff(imap: ImapStub, mailbox: Mailbox) -> None:
    mailbox.fail_connections = 2
    clock = FakeClock()
    result = make(imap, clock, backoff_base=1.0).fetch(None)
    assert len(result.messages) == 3
    assert len(clock.sleeps) == 2 and 2.0 <= clock.sleeps[1] <= 2.5


def test_wrong_password_is_an_auth_error(imap: ImapStub) -> None:
    clock = FakeClock()
    with pytest.raises(AuthError):
        make(imap, clock, password="wrong").fetch(None)
    assert clock.sleeps == []


class _Collector:
    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[int, _Collector]]:
    controller_mod = pytest.importorskip("aiosmtpd.controller")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    collector = _Collector()
    controller = controller_mod.Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, collector
    finally:
        controller.stop()


def test_reply_over_smtp_in_thread(imap: ImapStub, smtp: tuple[int, _Collector]) -> None:
    port, collector = smtp
    connector = make(
        imap,
        FakeClock(),
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        from_address="cur@cur.example.ru",
    )
    message_id = connector.publish(
        Reply(
            target_source_id="<20241202091500.4821@mail.example>",
            text="Анна, здравствуйте! Ремонт путепровода запланирован на май.",
            recipient="anna.petrova@mail.example",
            subject="Яма на путепроводе, ул. Лаврова",
            references=["<20241202091500.4821@mail.example>"],
        )
    )
    (envelope,) = collector.envelopes
    assert envelope.rcpt_tos == ["anna.petrova@mail.example"]
    sent = message_from_bytes(envelope.original_content, policy=policy.default)
    assert sent["Message-ID"] == message_id and message_id.endswith("@cur.example.ru>")
    assert sent["In-Reply-To"] == "<20241202091500.4821@mail.example>"
    assert sent["References"] == "<20241202091500.4821@mail.example>"
    assert sent["Subject"] == "Re: Яма на путепроводе, ул. Лаврова"
    assert "Ремонт путепровода" in sent.get_content()


def test_message_without_message_id_gets_a_stable_one() -> None:
    data = eml("01_utf8_plain.eml").replace(
        b"Message-ID: <20241202091500.4821@mail.example>\r\n", b""
    )
    first, second = parse_email(data), parse_email(data)
    assert first.source_id == second.source_id and first.source_id.startswith("<")
