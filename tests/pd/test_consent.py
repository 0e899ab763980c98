"""Consent to the processing of personal data: required on the public web form (with a link
to the operator's policy), recorded with its policy version and time; optional in Open311
POST requests, recorded when sent, and refused reporter data without it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.open311.test_filing import BASE, _form, _key

from otklik.config import get_settings
from otklik.intake import web_form
from otklik.models.message import Message
from otklik.models.pd import PdConsent


@pytest.fixture
def policy(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("OTKLIK_PD_POLICY_URL", "https://cur.example.ru/privacy")
    monkeypatch.setenv("OTKLIK_PD_POLICY_VERSION", "v7")
    monkeypatch.setattr(web_form, "limiter", web_form.RateLimiter(limit=100))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _fields(client: Any) -> dict[str, str]:
    page = client.get("/form").text
    assert 'name="consent"' in page and "required" in page.split('name="consent"')[1][:40]
    assert 'href="https://cur.example.ru/privacy"' in page
    return {name: re.search(rf'name="{name}" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
            for name in ("csrf", "nonce")}


def test_the_web_form_needs_consent_and_records_it(client: Any, session: Session,
                                                   policy: None) -> None:
    fields = {**_fields(client), "text": "Во дворе дома 3 течёт труба", "name": "Анна",
              "contact": "+7 900 765-43-21"}
    refused = client.post("/form", data=fields)
    assert refused.status_code == 400 and "согласия" in refused.text
    assert 'value="+7 900 765-43-21"' in refused.text  # nothing typed is lost
    assert session.scalars(select(Message).where(
        Message.source_id == f"form:{fields['nonce']}")).first() is None

    taken = client.post("/form", data={**fields, "consent": "yes"})
    assert taken.status_code == 200 and "Спасибо" in taken.text
    message = session.scalars(select(Message).where(
        Message.source_id == f"form:{fields['nonce']}")).one()
    consent = session.scalars(select(PdConsent).where(
        PdConsent.message_id == message.id)).one()
    assert (consent.channel, consent.given, consent.policy_version, consent.policy_url) == (
        "web_form", True, "v7", "https://cur.example.ru/privacy")
    assert consent.given_at is not None


def test_open311_records_the_consent_it_was_sent(client: Any, session: Session,
                                                 policy: None) -> None:
    key = _key(session)
    given = client.post(f"{BASE}/requests.json", data=_form(
        key, consent="true", first_name="Анна", phone="+79007654321", device_id="d1"))
    assert given.status_code == 200, given.text
    without = client.post(f"{BASE}/requests.json", data=_form(
        key, description="Не горят фонари во дворе дома 7 по улице Мира", device_id="d2"))
    assert without.status_code == 200, without.text
    rows = session.scalars(select(PdConsent).where(PdConsent.channel == "open311")).all()
    assert [(r.given, r.policy_version) for r in rows] == [(True, "v7")]
    message = session.get(Message, rows[0].message_id)
    assert message is not None and message.source == "open311"

    refused = client.post(f"{BASE}/requests.json", data=_form(
        key, description="Сломана скамейка во дворе дома 9", consent="false",
        phone="+79001112233"))
    assert refused.status_code == 400 and "consent" in refused.text
    wrong = client.post(f"{BASE}/requests.json", data=_form(key, consent="maybe"))
    assert wrong.status_code == 400 and "consent must be true or false" in wrong.text
