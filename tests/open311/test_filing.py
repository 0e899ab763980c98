"""Open311 POST requests and tokens: keys, validation (the issue's bad input), idempotency,
photos (media multipart with the GPS hint), rate limits, the spec's errors."""
# ruff: noqa: F811  (fixtures imported from tests/test_photos are parameters here)

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.media.test_photos import jpeg_with_gps

from otklik.accounts import apikeys
from otklik.audit.actor import Actor
from otklik.config import get_settings
from otklik.models.media import Photo
from otklik.models.message import Message
from otklik.models.open311 import Open311Request

BASE = "/open311/v2"
ADMIN = Actor.system("tests")
MICHURINSK = ("52.8978", "40.4907")
TEXT = "На путепроводе по улице Лаврова огромная яма, машины бьют колёса"


@pytest.fixture
def media_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("OTKLIK_MEDIA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _key(session: Session, scopes: tuple[str, ...] = ("open311",), region: str | None = "68"
         ) -> str:
    _, secret = apikeys.create_key(session, ADMIN, scopes=list(scopes), name="Портал",
                                   region=region)
    session.flush()
    return secret


def _form(key: str, **extra: str) -> dict[str, str]:
    return {"api_key": key, "service_code": "roads", "description": TEXT,
            "lat": MICHURINSK[0], "long": MICHURINSK[1], **extra}


def _error(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    [error] = response.json()
    assert error["code"] == status and error["description"]
    return str(error["description"])


def test_a_request_is_stored_as_an_open311_message_with_a_token(
        client: Any, session: Session, media_dir: Path) -> None:
    key = _key(session)
    response = client.post(f"{BASE}/requests.json", data=_form(
        key, email="ivanov@example.org", first_name="Иван", last_name="Иванов",
        phone="+7 900 123-45-67", device_id="dev-1", account_id="acc-7",
        **{"attribute[subtopic]": "roads.potholes"}))
    assert response.status_code == 200, response.text
    [answer] = response.json()
    assert answer["token"] and "service_request_id" not in answer
    assert answer["account_id"] == "acc-7"
    filed = session.scalars(select(Open311Request)).one()
    message = session.get(Message, filed.message_id)
    assert message is not None and message.source == "open311"
    assert message.region_code == "68" and message.text.startswith("На путепроводе")
    assert message.lat == pytest.approx(52.8978) and message.author_name == "Иван Иванов"
    assert message.raw["open311"]["service_code"] == "roads.potholes"
    assert filed.reporter == {"email": "ivanov@example.org", "first_name": "Иван",
                              "last_name": "Иванов", "phone": "+7 900 123-45-67",
                              "device_id": "dev-1", "account_id": "acc-7"}
    assert filed.attributes == {"subtopic": ["roads.potholes"]}
    [status] = client.get(f"{BASE}/tokens/{answer['token']}.json").json()
    assert status == {"service_request_id": "", "token": answer["token"]}
    root = ET.fromstring(client.get(f"{BASE}/tokens/{answer['token']}.xml").content)
    assert root.findtext("request/token") == answer["token"]
    # The same request re-posted (an app retrying) is the same one, stored once.
    again = client.post(f"{BASE}/requests.json", data=_form(
        key, device_id="dev-1", account_id="acc-7",
        **{"attribute[subtopic]": "roads.potholes"})).json()
    assert again[0]["token"] == answer["token"]
    assert len(session.scalars(select(Message).where(Message.source == "open311")).all()) == 1
    # Another text from the same device is another request.
    other = client.post(f"{BASE}/requests.json", data=_form(
        key, device_id="dev-1", description="Не горит фонарь у дома 5 по улице Лаврова"))
    assert other.json()[0]["token"] != answer["token"]


def test_xml_answer_and_address_only_location(client: Any, session: Session,
                                              media_dir: Path) -> None:
    key = _key(session)
    response = client.post(f"{BASE}/requests.xml", data={
        "api_key": key, "service_code": "roads.potholes", "description": TEXT,
        "address_string": "Мичуринск, улица Лаврова, 12", "jurisdiction_id": "68"})
    assert response.status_code == 200, response.text
    root = ET.fromstring(response.content)
    assert root.tag == "service_requests" and root.findtext("request/token")
    message = session.scalars(select(Message).where(Message.source == "open311")).one()
    assert "Адрес: Мичуринск, улица Лаврова, 12" in message.text


def test_photos_are_cleaned_stored_and_their_gps_is_the_place_hint(
        client: Any, session: Session, media_dir: Path) -> None:
    key = _key(session)
    files = [("media", ("a.jpg", jpeg_with_gps(), "image/jpeg")),
             ("media", ("b.jpg", jpeg_with_gps(52.9, 40.5), "image/jpeg"))]
    data = {"api_key": key, "service_code": "roads", "description": TEXT,
            "jurisdiction_id": "68", "media_url": "https://example.org/p/1.jpg"}
    response = client.post(f"{BASE}/requests.json", data=data, files=files)
    assert response.status_code == 200, response.text
    message = session.scalars(select(Message).where(Message.source == "open311")).one()
    assert message.lat == pytest.approx(52.8978, abs=1e-3)  # the first photo's GPS
    assert message.raw["place_hint"] == "photo_gps"
    assert message.attachments == [{"url": "https://example.org/p/1.jpg", "type": "photo",
                                    "title": None}]
    photos = session.scalars(select(Photo).where(Photo.message_id == message.id)).all()
    assert len(photos) == 2 and photos[0].gps_lat == pytest.approx(52.8978, abs=1e-3)
    served = client.get(f"/media/photos/{photos[0].key}")
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert len(Image.open(io.BytesIO(served.content)).getexif()) == 0
    assert b"PhoneMaker" not in served.content
    assert client.get("/media/photos/" + "x" * 30 + ".jpg").status_code == 404
    assert client.get("/media/photos/..%2F..%2Fetc%2Fpasswd").status_code == 404


def test_refused_photos(client: Any, session: Session, media_dir: Path) -> None:
    key = _key(session)
    script = ("media", ("x.jpg", b"<script>alert(1)</script>", "image/jpeg"))
    assert "media" in _error(client.post(f"{BASE}/requests.json", data=_form(key),
                                         files=[script]), 400)
    many = [("media", (f"{n}.jpg", jpeg_with_gps(), "image/jpeg")) for n in range(6)]
    response = client.post(f"{BASE}/requests.json", data=_form(key), files=many)
    assert response.status_code == 400
    assert session.scalars(select(Message).where(Message.source == "open311")).all() == []


@pytest.mark.parametrize(("extra", "status", "says"), [
    ({"api_key": ""}, 403, "api_key is required"),
    ({"api_key": "otk_nope_nope"}, 403, "invalid"),
    ({"service_code": "no.such.service"}, 404, "unknown service_code"),  # as the spec says
    ({"service_code": ""}, 400, "service_code is required"),
    ({"description": "я" * 4001}, 400, "longer than 4000"),
    ({"description": ""}, 400, "description is required"),
    ({"lat": "61.0", "long": "69.0"}, 400, "outside the region"),  # Khanty-Mansiysk
    ({"lat": "0", "long": "-150"}, 400, "outside the region"),  # the Pacific
    ({"lat": "abc"}, 400, "lat must be a number"),
    ({"lat": "95"}, 400, "lat must be a number from -90"),
    ({"lat": "nan"}, 400, "lat must be a number"),
    ({"long": ""}, 400, "lat and long go together"),
    ({"attribute[colour]": "red"}, 400, "not an attribute"),
    ({"attribute[subtopic]": "health.queues"}, 400, "not one of its values"),
    ({"email": "not-an-address"}, 400, "email"),
    ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
    ({"jurisdiction_id": "99"}, 404, "unknown jurisdiction_id"),
    ({"jurisdiction_id": "86"}, 403, "region 68 only"),
])
def test_bad_input_is_the_specs_error(client: Any, session: Session, media_dir: Path,
                                      extra: dict[str, str], status: int, says: str) -> None:
    key = _key(session)
    assert says in _error(client.post(f"{BASE}/requests.json", data={**_form(key), **extra}),
                          status)
    assert session.scalars(select(Message).where(Message.source == "open311")).all() == []


def test_no_location_and_xml_errors(client: Any, session: Session) -> None:
    key = _key(session)
    form = {"api_key": key, "service_code": "roads", "description": TEXT}
    response = client.post(f"{BASE}/requests.xml", data=form)
    assert response.status_code == 400
    root = ET.fromstring(response.content)
    assert root.tag == "errors" and "location is required" in (
        root.findtext("error/description") or "")
    # XML or JSON where the spec asks for a form: the spec's error, saying so, in the format
    # the path asked for.
    xml_body = f"<request><api_key>{key}</api_key></request>".encode()
    response = client.post(f"{BASE}/requests.json", content=xml_body,
                           headers={"content-type": "text/xml"})
    assert "takes a form" in _error(response, 400) and "text/xml" in response.text
    response = client.post(f"{BASE}/requests.xml", content=b"{\"api_key\": \"x\"}",
                           headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "application/json" in (ET.fromstring(response.content).findtext("error/description")
                                  or "")
    assert session.scalars(select(Message).where(Message.source == "open311")).all() == []


def test_revoked_and_unscoped_keys_are_refused(client: Any, session: Session) -> None:
    key = _key(session)
    [row] = [k for k in apikeys.list_keys(session, ADMIN) if k.revoked_at is None][:1]
    apikeys.revoke_key(session, ADMIN, row.id)
    session.flush()
    assert "revoked" in _error(client.post(f"{BASE}/requests.json", data=_form(key)), 403)
    read_only = _key(session, scopes=("read",))
    assert "no open311 scope" in _error(
        client.post(f"{BASE}/requests.json", data=_form(read_only)), 403)


def test_a_key_is_rate_limited(client: Any, session: Session, media_dir: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTKLIK_API_KEY_BURST", "2")
    monkeypatch.setenv("OTKLIK_API_KEY_RATE_PER_MINUTE", "1")
    get_settings.cache_clear()
    key = _key(session)
    for n in range(2):
        response = client.post(f"{BASE}/requests.json", data=_form(
            key, description=f"{TEXT}, дом {n}"))
        assert response.status_code == 200, response.text
    says = _error(client.post(f"{BASE}/requests.json", data=_form(key)), 429)
    assert "too many requests" in says
    root = ET.fromstring(client.post(f"{BASE}/requests.xml", data=_form(key)).content)
    assert root.findtext("error/code") == "429"


def test_unknown_token(client: Any) -> None:
    assert "unknown token" in _error(client.get(f"{BASE}/tokens/AAAAAAAAAAAAAAAA.json"), 404)
    assert client.get(f"{BASE}/tokens/{'../' * 3}x.json").status_code == 404


def test_get_filters_refuse_bad_ranges_and_pages(client: Any) -> None:
    assert "90 days" in _error(client.get(
        f"{BASE}/requests.json?start_date=2026-01-01&end_date=2026-04-02"), 400)
    assert "page_size" in _error(client.get(f"{BASE}/requests.json?page_size=ten"), 400)
    assert "page" in _error(client.get(f"{BASE}/requests.json?page=-1"), 400)
    response = client.get(f"{BASE}/requests.json?start_date=2026-01-01&end_date=2026-03-31")
    assert response.status_code == 200


def test_a_topic_service_asks_for_its_subtopic(client: Any) -> None:
    body = client.get(f"{BASE}/services/roads.json").json()
    [attribute] = body["attributes"]
    assert attribute["code"] == "subtopic" and attribute["datatype"] == "singlevaluelist"
    assert attribute["required"] is False and attribute["order"] == 1
    assert {"key": "roads.potholes", "name": attribute["values"][0]["name"]} in \
        attribute["values"] or any(v["key"] == "roads.potholes" for v in attribute["values"])
    root = ET.fromstring(client.get(f"{BASE}/services/roads.xml").content)
    keys = [v.findtext("key") for v in root.iter("value")]
    assert "roads.potholes" in keys
