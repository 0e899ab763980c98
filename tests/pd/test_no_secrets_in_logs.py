"""No secret and no personal data reaches the logs: a representative flow (a failed and a
good login, an API token minted and used, a connector run with its token, a resident's web
form with a name and a phone, a case card opened) runs with every logger at DEBUG, and the
records are searched for the password, the tokens, the phone and the name."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session
from tests.builders import make_user
from tests.intake.stubs.clock import FakeClock
from tests.intake.stubs.http_stub import StubResponse, StubServer, load_fixture

from otklik.audit.actor import Actor
from otklik.channels import service as channels
from otklik.intake import web_form

PASSWORD = "Пароль-для-журнала-2026"
BOT_TOKEN = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
PHONE = "+7 915 222-33-44"
NAME = "Евдокия Пантелеймоновна"


@pytest.fixture
def stub() -> Iterator[StubServer]:
    with StubServer() as server:
        yield server


def _logged(records: list[logging.LogRecord]) -> str:
    lines = []
    for record in records:
        lines.append(record.getMessage())
        lines.append(repr(record.args))
        if record.exc_text:
            lines.append(record.exc_text)
    return "\n".join(lines)


def test_a_representative_flow_logs_no_secret_and_no_personal_data(
        session: Session, client: Any, stub: StubServer, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_form, "limiter", web_form.RateLimiter(limit=100))
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "otklik", "uvicorn", "dramatiq"):
        caplog.set_level(logging.DEBUG, logger=name)

    user = make_user(session, password=PASSWORD)
    wrong = client.post("/api/v1/auth/login", json={"username": user.username,
                                                    "password": PASSWORD + "x"})
    assert wrong.status_code == 401
    assert client.post("/api/v1/auth/login", json={"username": user.username,
                                                   "password": PASSWORD}).status_code == 200
    csrf = client.get("/api/v1/auth/csrf").json()["csrf"]
    minted = client.post("/api/v1/tokens", headers={"x-csrf-token": csrf},
                         json={"name": "журнал", "scopes": ["read"]})
    assert minted.status_code == 201, minted.text
    api_token = minted.json()["token"]
    client.cookies.clear()
    assert client.get("/api/v1/me", headers={
        "authorization": f"Bearer {api_token}"}).status_code == 200

    row = channels.add_connector(session, Actor.system("tests"), kind="telegram",
                                 name="Бот для журнала", region_code="68", config={
                                     "bot_token": BOT_TOKEN, "base_url": stub.url,
                                     "poll_timeout": 0, "limit": 5})
    stub.script(f"/bot{BOT_TOKEN}/getUpdates",
                StubResponse(load_fixture("telegram", "getUpdates_first.json")))
    result = channels.build(row, clock=FakeClock()).fetch(None)
    assert result.messages and not result.errors

    page = client.get("/form").text
    fields = {k: re.search(rf'name="{k}" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
              for k in ("csrf", "nonce")}
    posted = client.post("/form", data={**fields, "consent": "yes", "name": NAME,
                                        "contact": PHONE, "region": "68",
                                        "text": f"Прорвало трубу у дома 3, я {NAME}, {PHONE}"})
    assert posted.status_code == 200 and "Спасибо" in posted.text

    logged = _logged(caplog.records)
    assert "HTTP Request" in logged or "getUpdates" in logged  # the connector's run was logged
    for secret in (PASSWORD, api_token, api_token.split("_", 2)[2], BOT_TOKEN,
                   BOT_TOKEN.split(":")[1], PHONE, PHONE.replace(" ", "").replace("-", ""),
                   NAME, NAME.split()[1]):
        assert secret not in logged, f"{secret[:6]}… is in the logs"
