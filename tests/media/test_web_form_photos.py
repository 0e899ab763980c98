"""Photos through the public web form: cleaned, stored, the GPS hint on the message, shown
on the case card; refused files told apart."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.media.test_photos import jpeg_with_gps

from otklik.config import get_settings
from otklik.intake import web_form
from otklik.models.media import Photo
from otklik.models.message import Message


@pytest.fixture
def media_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("OTKLIK_MEDIA_DIR", str(tmp_path))
    monkeypatch.setattr(web_form, "limiter", web_form.RateLimiter(limit=50, window=60))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _fields(client: Any, text: str) -> dict[str, str]:
    page = client.get("/form").text
    assert 'enctype="multipart/form-data"' in page and 'name="photos"' in page
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    nonce = re.search(r'name="nonce" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return {"csrf": csrf, "nonce": nonce, "text": text, "region": "68", "consent": "yes"}


def test_the_form_takes_photos_and_keeps_their_place(client: Any, session: Session,
                                                     media_dir: Path) -> None:
    fields = _fields(client, "У дома 5 по улице Лаврова яма во дворе")
    response = client.post("/form", data=fields,
                           files=[("photos", ("yard.jpg", jpeg_with_gps(), "image/jpeg"))])
    assert response.status_code == 200 and "Спасибо" in response.text
    message = session.scalars(select(Message).where(
        Message.source_id == f"form:{fields['nonce']}")).one()
    assert message.lat == pytest.approx(52.8978, abs=1e-3)
    [photo] = session.scalars(select(Photo).where(Photo.message_id == message.id)).all()
    assert photo.origin == "web" and photo.gps_lon == pytest.approx(40.4907, abs=1e-3)
    stored = list(media_dir.rglob("*.jpg"))
    assert len(stored) == 1 and b"PhoneMaker" not in stored[0].read_bytes()


def test_refused_photos_store_nothing(client: Any, session: Session, media_dir: Path) -> None:
    fields = _fields(client, "Во дворе течёт труба, фото прилагаю")
    response = client.post("/form", data=fields, files=[
        ("photos", ("x.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg"))])
    assert response.status_code == 400 and "Фотографии не приняты" in response.text
    assert not session.scalars(select(Message).where(
        Message.source_id == f"form:{fields['nonce']}")).all()
    assert not list(media_dir.rglob("*.jpg"))


def test_the_case_card_shows_the_photos_and_their_place(client: Any, session: Session,
                                                        media_dir: Path) -> None:
    """A photo sent with the form is on the operator's case card (a thumbnail of the
    cleaned file Otklik serves) with the place hint its GPS gave; a photo of a social
    post is a link, not an image loaded from another server."""
    from tests.builders import PASSWORD, make_user
    from tests.cases.conftest import michurinsk

    from otklik.audit.actor import Actor
    from otklik.cases.service import case_from_message
    from otklik.models.account import Role
    from otklik.models.message import MessageEnrichment

    fields = _fields(client, "Во дворе дома 12 по улице Лаврова провал асфальта, фото")
    sent = client.post("/form", data=fields,
                       files=[("photos", ("pit.jpg", jpeg_with_gps(), "image/jpeg")),
                              ("photos", ("pit2.png", _png(), "image/png"))])
    assert sent.status_code == 200, sent.text
    message = session.scalars(select(Message).where(
        Message.source_id == f"form:{fields['nonce']}")).one()
    message.attachments = [{"url": "https://vk.com/photo-1_77", "type": "photo"}]
    municipality_id, _ = michurinsk(session)
    enrichment = MessageEnrichment(
        message_id=message.id, relevant=True, kind="complaint", topic="roads",
        subtopic="roads.potholes", topic_confidence=0.8, sentiment="negative",
        urgency="normal", region_code="68", municipality_id=municipality_id, result={})
    session.add(enrichment)
    session.flush()
    case = case_from_message(session, Actor.system("tests"), message, enrichment)
    photos = session.scalars(select(Photo).where(Photo.message_id == message.id)
                             .order_by(Photo.id)).all()
    assert len(photos) == 2

    operator = make_user(session, Role.operator, ["68"])
    csrf = client.get("/api/v1/auth/csrf").json()["csrf"]
    logged = client.post("/login", data={"username": operator.username, "password": PASSWORD,
                                         "csrf": csrf}, follow_redirects=False)
    assert logged.status_code == 303, logged.text
    card = client.get(f"/cases/{case.id}").text
    assert 'data-testid="photos"' in card
    shown = re.findall(r'<img src="(/media/photos/[A-Za-z0-9_-]+\.jpg)"', card)
    assert shown == [f"/media/photos/{p.key}" for p in photos]
    assert 'data-testid="place-hint"' in card and "52.89" in card
    assert 'href="https://vk.com/photo-1_77"' in card and 'src="https://vk.com' not in card
    served = client.get(shown[1])
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (20, 10), (10, 200, 10)).save(out, "PNG")
    return out.getvalue()


def test_too_many_or_too_big_photos_are_refused(client: Any, session: Session, media_dir: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from otklik.media import photos as photo_rules

    fields = _fields(client, "Шесть фотографий ямы на улице Лаврова")
    six = [("photos", (f"{n}.jpg", jpeg_with_gps(), "image/jpeg")) for n in range(6)]
    response = client.post("/form", data=fields, files=six)
    assert response.status_code == 400 and "Фотографии не приняты" in response.text
    monkeypatch.setattr(photo_rules, "MAX_BYTES", 100)
    fields = _fields(client, "Большая фотография ямы на улице Лаврова")
    response = client.post("/form", data=fields,
                           files=[("photos", ("big.jpg", jpeg_with_gps(), "image/jpeg"))])
    assert response.status_code == 400 and "Фотографии не приняты" in response.text
    assert not session.scalars(select(Message).where(Message.text.like("%Лаврова%"))).all()
    assert not list(media_dir.rglob("*.jpg"))
