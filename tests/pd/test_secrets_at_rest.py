"""Connectors' credentials are stored encrypted (otklik/secretbox.py), read back
transparently, and rows stored before encryption are sealed on their next use."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from otklik.audit.actor import Actor
from otklik.channels import service
from otklik.config import get_settings
from otklik.models.message import Connector
from otklik.secretbox import SecretUnreadable, is_sealed, seal, unseal

TOKEN = "vk1.a.very-secret-token-0123456789"
CALLBACK = "cb-secret-42"


def _stored(session: Session, row: Connector) -> dict[str, Any]:
    """The config as the database holds it (not through the ORM object)."""
    session.flush()
    value = session.execute(text("SELECT config FROM connector WHERE id = :id"),
                            {"id": row.id}).scalar_one()
    import json

    return value if isinstance(value, dict) else json.loads(value)


def test_credentials_are_sealed_in_the_database_and_read_back(session: Session) -> None:
    row = service.add_connector(session, Actor.system("tests"), kind="vk", name="Тамбов VK",
                                config={"access_token": TOKEN, "callback_secret": CALLBACK,
                                        "owner_ids": [-1]}, region_code="68")
    stored = _stored(session, row)
    assert is_sealed(stored["access_token"]) and is_sealed(stored["callback_secret"])
    assert TOKEN not in str(stored) and CALLBACK not in str(stored)
    assert stored["owner_ids"] == [-1]  # what is not a credential stays readable
    connector: Any = service.build(row)
    assert connector.config.access_token.get_secret_value() == TOKEN
    assert connector.config.callback_secret.get_secret_value() == CALLBACK
    public = service.public_config(row)
    assert TOKEN not in str(public) and CALLBACK not in str(public)


def test_a_row_stored_in_plain_text_is_sealed_on_its_next_use(session: Session) -> None:
    row = Connector(kind="telegram", name="Бот", region_code="68", cursor={}, status="new",
                    config={"bot_token": "123:plain", "region": "68"})
    session.add(row)
    session.flush()
    connector: Any = service.build(row)
    assert connector.config.bot_token.get_secret_value() == "123:plain"
    stored = _stored(session, row)
    assert is_sealed(stored["bot_token"]) and "123:plain" not in str(stored)
    assert stored["region"] == "68"


def test_another_key_cannot_open_a_sealed_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    sealed = seal("s3cret")
    assert unseal(sealed) == "s3cret" and seal(sealed) == sealed
    monkeypatch.setenv("OTKLIK_SECRETS_KEY", "another key entirely, 32+ characters long")
    get_settings.cache_clear()
    try:
        with pytest.raises(SecretUnreadable, match="OTKLIK_SECRETS_KEY"):
            unseal(sealed)
    finally:
        get_settings.cache_clear()
