"""Local stand-ins for the outside world, all on 127.0.0.1: a Telegram Bot API stub, an SMTP
server (aiosmtpd) and a webhook receiver that checks the signature; and the shared set-up of
a committing database with one region, users and a roster."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from otklik import signing
from otklik.config import get_settings
from otklik.notify import delivery
from otklik.notify.settings import get_notify_settings
from otklik.queue import drain

BOT_TOKEN = "123456:TEST-token"


def free_port() -> int:
    """A port nobody listens on (yet)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Server:
    """A tiny HTTP server in a thread."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> _Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _BotHandler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        bot: BotApiStub = self.server.owner  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        token, _, method = self.path.lstrip("/").partition("/")
        status, answer = bot.answer(token, method, body)
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class BotApiStub(_Server):
    """The Bot API: records sendMessage and answerCallbackQuery, serves getUpdates from a
    list; ``down`` answers every call with a 500."""

    def __init__(self) -> None:
        super().__init__(_BotHandler)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.updates: list[dict[str, Any]] = []
        self.down = False
        self._next_id = 100
        self._lock = threading.Lock()

    def answer(self, token: str, method: str, body: dict[str, Any]
               ) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if token != f"bot{BOT_TOKEN}":
                return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            if self.down:
                return 500, {"ok": False, "error_code": 500, "description": "Internal"}
            self.calls.append((method, body))
            if method == "sendMessage":
                self._next_id += 1
                return 200, {"ok": True, "result": {"message_id": self._next_id,
                                                    "chat": {"id": body["chat_id"]},
                                                    "text": body["text"]}}
            if method == "getUpdates":
                offset = int(body.get("offset") or 0)
                return 200, {"ok": True, "result": [u for u in self.updates
                                                    if u["update_id"] >= offset]}
            return 200, {"ok": True, "result": True}

    def sent(self, chat_id: str | None = None) -> list[dict[str, Any]]:
        """The sendMessage bodies (to one chat)."""
        return [b for m, b in self.calls if m == "sendMessage"
                and (chat_id is None or str(b["chat_id"]) == str(chat_id))]

    def press(self, callback_data: str, update_id: int = 1) -> dict[str, Any]:
        """A pressed inline button, as getUpdates and the webhook deliver it."""
        update = {"update_id": update_id, "callback_query": {
            "id": f"cb{update_id}", "from": {"id": 5, "first_name": "Дежурный"},
            "data": callback_data}}
        self.updates.append(update)
        return update


class Inbox:
    """An SMTP server's handler: keeps the messages it accepts."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append(message)  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        """The messages addressed to ``address``."""
        return [m for m in self.received if m["To"] == address]


class _HookHandler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        hook: WebhookReceiver = self.server.owner  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        header = self.headers.get(signing.HEADER, "")
        hook.record(self.path, body, header, dict(self.headers))
        if hook.hang is not None and self.path.startswith("/slow"):
            hook.hang.wait(30)
        status = hook.status_for(self.path)
        try:
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
        except OSError:  # the sender gave up waiting
            pass


class WebhookReceiver(_Server):
    """Receives signed POSTs; ``/fail…`` paths answer 500, ``/slow…`` hang while ``hang`` is
    not set; every request is kept with whether its signature was valid."""

    def __init__(self, secrets: dict[str, str] | None = None) -> None:
        super().__init__(_HookHandler)
        self.secrets = dict(secrets or {})
        self.received: list[dict[str, Any]] = []
        self.hang: threading.Event | None = None
        self._lock = threading.Lock()

    def status_for(self, path: str) -> int:
        return 500 if path.startswith("/fail") else 200

    def record(self, path: str, body: bytes, header: str, headers: dict[str, str]) -> None:
        secret = self.secrets.get(path, "")
        with self._lock:
            self.received.append({
                "path": path, "body": body, "header": header, "headers": headers,
                "json": json.loads(body), "valid": bool(secret) and signing.verify(
                    secret, body, header)})

    def at(self, path: str) -> list[dict[str, Any]]:
        """What arrived at ``path``."""
        return [r for r in self.received if r["path"] == path]


@contextmanager
def smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """An SMTP server on 127.0.0.1 with the settings pointing at it."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("OTKLIK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("OTKLIK_SMTP_PORT", str(port))
    monkeypatch.setenv("OTKLIK_SMTP_STARTTLS", "false")
    monkeypatch.setenv("OTKLIK_SMTP_FROM", "alerts@otklik.test")
    get_settings.cache_clear()
    try:
        yield inbox
    finally:
        controller.stop()


def use_bot(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """Point the notifier's Telegram channel at a Bot API."""
    monkeypatch.setenv("OTKLIK_NOTIFY_TELEGRAM_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("OTKLIK_NOTIFY_TELEGRAM_API_URL", url)
    monkeypatch.setenv("OTKLIK_NOTIFY_TELEGRAM_WEBHOOK_SECRET", "hook-secret-path")
    monkeypatch.setenv("OTKLIK_NOTIFY_PUBLIC_URL", "http://otklik.test")
    monkeypatch.setenv("OTKLIK_NOTIFY_TIMEOUT", "2")
    monkeypatch.setenv("OTKLIK_NOTIFY_MAX_ATTEMPTS", "3")
    monkeypatch.setattr(delivery, "REQUEUE_DELAYED", False)  # retries: by the tick
    get_notify_settings.cache_clear()


def settle() -> None:
    """Run every queued job, and the jobs those jobs queued."""
    for _ in range(3):
        drain(timeout_ms=120_000)
