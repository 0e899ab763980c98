"""Open311 GeoReport v2 read side: discovery, services, requests, errors, privacy, XML safety."""
# ruff: noqa: F811  (fixtures imported from tests/cases/conftest.py are parameters here)

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session
from tests.cases.conftest import make_case, make_message, michurinsk, people  # noqa: F401
from tests.open311.spec import NAMES, errors, valid

from otklik.audit.actor import Actor
from otklik.cases import answers, service
from otklik.models.case import Case, CaseStatus

BASE = "/open311/v2"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "open311.md"
ANSWER = ("Выполнен ямочный ремонт покрытия путепровода на ул. Лаврова 12 декабря 2026 г. "
          "Капитальный ремонт путепровода включён в программу: первый этап — до 1 июля "
          "2027 г., подрядчик определён. Администрация города Мичуринска.")


@pytest.fixture
def routed(session: Session, make_case: Callable[..., Case], people: dict[str, Actor]
           ) -> Callable[..., Case]:
    """A case routed to the Michurinsk administration (the first status the public sees)."""

    def build(**kwargs: Any) -> Case:
        case = make_case(**kwargs)
        _, org = michurinsk(session)
        service.route(session, people["operator"], case, org.id)
        session.flush()
        return case

    return build


def _xml(response: Any) -> ET.Element:
    assert response.headers["content-type"].startswith("text/xml")
    return ET.fromstring(response.content)


def _ids(client: Any, query: str = "") -> list[str]:
    response = client.get(f"{BASE}/requests.json{query}")
    assert response.status_code == 200, response.text
    return [r["service_request_id"] for r in response.json()]


def test_discovery_in_both_formats(client: Any) -> None:
    body = client.get(f"{BASE}/discovery.json").json()
    endpoint = body["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2/")
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    root = _xml(client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.iter("format")] == ["text/xml", "application/json"]


def test_services_follow_the_rubricator(client: Any) -> None:
    items = client.get(f"{BASE}/services.json").json()
    by_code = {i["service_code"]: i for i in items}
    pothole = by_code["roads.potholes"]
    assert pothole["group"] == "Дороги" and pothole["type"] == "realtime"
    assert pothole["metadata"] is False and "выбоина" in pothole["keywords"].split(", ")
    assert all(isinstance(i["service_code"], str) for i in items)
    assert "roads" in by_code  # a topic is a service too (cases without a subtopic)
    root = _xml(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services"
    codes = [s.findtext("service_code") for s in root.findall("service")]
    assert codes == [i["service_code"] for i in items]
    first = root.find("service")  # a topic: it asks for its subtopic
    assert first is not None and first.findtext("metadata") == "true"
    assert by_code["roads"]["metadata"] is True


def test_service_definition_without_attributes(client: Any) -> None:
    body = client.get(f"{BASE}/services/roads.potholes.json").json()
    assert body == {"service_code": "roads.potholes", "attributes": []}
    root = _xml(client.get(f"{BASE}/services/roads.potholes.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == "roads.potholes"
    attributes = root.find("attributes")
    assert attributes is not None and len(attributes) == 0


def test_a_routed_case_is_a_public_request(client: Any, routed: Callable[..., Case],
                                           make_case: Callable[..., Case],
                                           session: Session) -> None:
    case = routed(subtopic="roads.potholes")
    hidden = make_case()  # triage: not checked by an operator yet, not public
    _, org = michurinsk(session)
    ids = _ids(client, "?jurisdiction_id=68")
    assert str(case.id) in ids and str(hidden.id) not in ids
    [item] = client.get(f"{BASE}/requests/{case.id}.json").json()
    assert item["status"] == "open" and item["service_code"] == "roads.potholes"
    assert item["service_name"].startswith("Ямы")
    assert item["agency_responsible"] == org.name
    assert item["expected_datetime"].endswith("+00:00")
    # Open311 times are whole seconds (as requested_datetime below); a deadline falls on a
    # whole second only when the working-time clock moved it to a day's start (at night)
    assert case.resolution_due is not None
    assert datetime.fromisoformat(item["expected_datetime"]) == case.resolution_due.replace(
        microsecond=0)
    assert datetime.fromisoformat(item["requested_datetime"]) == case.received_at.replace(
        microsecond=0)
    assert "Лаврова" in item["address"] and "Мичуринск" in item["address"]
    assert isinstance(item["lat"], float) and isinstance(item["long"], float)
    assert item["media_url"] == ""
    root = _xml(client.get(f"{BASE}/requests/{case.id}.xml"))
    assert root.tag == "service_requests"
    assert root.findtext("request/service_request_id") == str(case.id)
    assert client.get(f"{BASE}/requests/{hidden.id}.json").status_code == 404


def test_filters_and_paging(client: Any, routed: Callable[..., Case]) -> None:
    now = datetime.now(UTC)
    old = routed(subtopic="roads.potholes", created_at=now - timedelta(days=40))
    new = routed(subtopic="roads.bridges", created_at=now - timedelta(hours=2))
    both = _ids(client)
    assert {str(old.id), str(new.id)} <= set(both)
    assert str(old.id) not in _ids(client, "?service_code=roads.bridges")
    assert str(new.id) in _ids(client, "?service_code=roads.bridges")
    start = (now - timedelta(days=10)).isoformat()
    assert str(old.id) not in _ids(client, f"?start_date={start.replace('+', '%2B')}")
    early = (now - timedelta(days=30)).date().isoformat()
    assert _ids(client, f"?end_date={early}&start_date={(now - timedelta(days=60)).date()}"
                ) == [str(old.id)]
    assert _ids(client, f"?service_request_id={old.id},{new.id}") == [str(new.id), str(old.id)]
    assert str(new.id) in _ids(client, "?status=open")
    assert str(new.id) not in _ids(client, "?status=closed")
    first = _ids(client, "?page_size=1")
    second = _ids(client, "?page_size=1&page=2")
    assert len(first) == len(second) == 1 and first != second
    assert first + second == both[:2]
    assert _ids(client, "?jurisdiction_id=36") == []
    assert str(new.id) in _ids(client, "?jurisdiction_id=ru-tam")  # ISO 3166-2, any case


def test_answered_and_closed_cases_are_closed_with_the_answer(
        client: Any, session: Session, routed: Callable[..., Case],
        people: dict[str, Actor]) -> None:
    case = routed()
    service.accept(session, people["executor"], case)
    answers.draft(session, people["executor"], case, ANSWER)
    answers.submit(session, people["executor"], case)
    interim = client.get(f"{BASE}/requests/{case.id}.json").json()[0]
    assert interim["status"] == "open" and "взято в работу" in interim["status_notes"]
    assert ANSWER not in interim["status_notes"]  # a draft on moderation is not public
    answers.approve(session, people["operator"], case)
    assert case.status == CaseStatus.answered
    [item] = client.get(f"{BASE}/requests/{case.id}.json").json()
    assert item["status"] == "closed" and item["status_notes"] == ANSWER
    service.close(session, people["operator"], case)
    session.flush()
    assert case.status == CaseStatus.closed
    assert str(case.id) in _ids(client, "?status=closed")
    assert str(case.id) not in _ids(client, "?status=open")


def test_no_personal_data_in_responses(client: Any, routed: Callable[..., Case]) -> None:
    text = ("Яма у дома, звоните +7 915 123-45-67, пишите ivanov.petr@example.ru — "
            "Иванов Пётр Сергеевич")
    case = routed(text=text, author="vk_reporter_424242")
    for fmt in ("json", "xml"):
        raw = client.get(f"{BASE}/requests/{case.id}.{fmt}").text
        for secret in ("915 123-45-67", "ivanov.petr@example.ru", "vk_reporter_424242",
                       "Иванов"):
            assert secret not in raw, (fmt, secret)
    [item] = client.get(f"{BASE}/requests/{case.id}.json").json()
    assert "Яма у дома" in item["description"] and "[" in item["description"]
    assert not {"author", "author_id", "email", "phone", "first_name", "last_name"} & set(item)


def test_hostile_text_is_escaped_in_xml(client: Any, routed: Callable[..., Case]) -> None:
    text = "<script>alert(1)</script> & ]]> <![CDATA[x]]> \x01\x0b яма"
    case = routed(text=text)
    response = client.get(f"{BASE}/requests/{case.id}.xml")
    assert response.status_code == 200
    assert b"<script>" not in response.content and b"<![CDATA[" not in response.content
    description = _xml(response).findtext("request/description")
    assert description is not None and "<script>alert(1)</script> & ]]>" in description
    assert "\x01" not in description


@pytest.mark.parametrize(("query", "status"), [
    ("?start_date=yesterday", 400),
    ("?start_date=2026-01-01T00:00:00%2B03:00&end_date=2026-04-02T00:00:00%2B03:00", 400),
    ("?start_date=2026-02-01&end_date=2026-01-01", 400),
    ("?page_size=ten", 400),
    ("?page_size=0", 400),
    ("?page=99999999999999999999999", 400),
    ("?status=pending", 400),
    ("?service_request_id=1,abc", 400),
    ("?service_request_id=99999999999999999999", 400),
    ("?service_code=no.such", 404),
    ("?jurisdiction_id=99", 404),
    ("?jurisdiction_id=6%008", 404),
    ("?service_code=roads%00", 404),
])
def test_errors_as_the_spec_says(client: Any, query: str, status: int) -> None:
    response = client.get(f"{BASE}/requests.json{query}")
    assert response.status_code == status, response.text
    [error] = response.json()
    assert error["code"] == status and error["description"]
    root = _xml(client.get(f"{BASE}/requests.xml{query}"))
    assert root.tag == "errors" and root.findtext("error/code") == str(status)
    assert root.findtext("error/description")


def test_not_found_and_unknown_formats(client: Any) -> None:
    for path in ("/requests/999999999.json", "/requests/abc.json", "/services/no.such.json"):
        response = client.get(BASE + path)
        assert response.status_code == 404
        assert response.json()[0]["code"] == 404
    root = _xml(client.get(f"{BASE}/requests/999999999.xml"))
    assert root.findtext("error/code") == "404"
    for path in ("/requests.csv", "/services.html", "/discovery.yaml"):
        response = client.get(BASE + path, headers={"accept": "text/html"})
        assert response.status_code == 400
        assert _xml(response).findtext("error/code") == "400"
    response = client.get(f"{BASE}/nothing-here.json")
    assert response.status_code == 404 and response.json()[0]["code"] == 404
    response = client.delete(f"{BASE}/requests.json")
    assert response.status_code == 405 and response.json()[0]["code"] == 405


def test_the_api_keeps_its_own_error_body(client: Any) -> None:
    response = client.get("/api/v1/cases/1")
    assert response.status_code == 401 and "detail" in response.json()


def test_every_json_body_validates_against_the_spec_schemas(
        client: Any, routed: Callable[..., Case], session: Session) -> None:
    case = routed(subtopic="roads.potholes")
    valid("discovery", client.get(f"{BASE}/discovery.json").json())
    valid("services", client.get(f"{BASE}/services.json").json())
    for code in ("roads", "roads.potholes"):
        valid("service_definition", client.get(f"{BASE}/services/{code}.json").json())
    valid("service_requests", client.get(f"{BASE}/requests.json").json())
    valid("service_requests", client.get(f"{BASE}/requests/{case.id}.json").json())
    for query in ("?page_size=ten", "?service_code=no.such", "?start_date=yesterday"):
        valid("errors", client.get(f"{BASE}/requests.json{query}").json())


@pytest.mark.parametrize(("name", "body", "says"), [
    ("services", [{"service_code": 7, "service_name": "x", "description": "", "metadata": True,
                   "type": "realtime", "keywords": "", "group": ""}], "not of type 'string'"),
    ("services", [{"service_code": "x", "service_name": "x", "description": "",
                   "metadata": "true", "type": "realtime", "keywords": "", "group": ""}],
     "not of type 'boolean'"),
    ("service_requests", [{"service_request_id": "1", "status": "open", "service_code": "x",
                           "requested_datetime": "2026-12-06T10:00:00",
                           "updated_datetime": "2026-12-06T10:00:00+00:00"}], "date-time"),
    ("service_requests", [{"service_request_id": "1", "status": "pending", "service_code": "x",
                           "requested_datetime": "2026-12-06T10:00:00Z",
                           "updated_datetime": "2026-12-06T10:00:00Z"}], "is not one of"),
    ("service_requests", [{"service_request_id": "1", "status": "open", "service_code": "x",
                           "requested_datetime": "2026-12-06T10:00:00Z",
                           "updated_datetime": "2026-13-45T10:00:00Z"}],
     "is not a 'date-time'"),
    ("service_requests", [{"service_request_id": "1", "status": "open", "service_code": "x",
                           "requested_datetime": "2026-12-06T10:00:00Z",
                           "updated_datetime": "2026-12-06T10:00:00Z",
                           "email": "a@b.ru"}], "should not be valid"),
    ("service_requests", [{"status": "open", "service_code": "x",
                           "requested_datetime": "2026-12-06T10:00:00Z",
                           "updated_datetime": "2026-12-06T10:00:00Z"}], "is a required"),
    ("service_definition", {"service_code": "roads", "attributes": [{
        "variable": True, "code": "subtopic", "datatype": "singlevaluelist", "required": False,
        "datatype_description": "", "order": 1, "description": "", "values": []}]},
     "should be non-empty"),
    ("errors", [{"code": "400", "description": "x"}], "not of type 'integer'"),
    ("post_response", [{"service_notice": ""}], "is not valid under any"),
])
def test_the_schemas_refuse_what_the_spec_does_not_allow(name: str, body: Any,
                                                         says: str) -> None:
    """The schemas are evidence only if they can fail: each refuses a body that breaks the
    spec's field table (a wrong type, an unknown status, a date without its offset, a
    reporter's e-mail in a public request, a required field missing …)."""
    assert name in NAMES
    found = errors(name, body)
    assert any(says in message for message in found), found


def test_several_service_codes_and_the_requests_own_point(
        client: Any, routed: Callable[..., Case], session: Session) -> None:
    pothole = routed(subtopic="roads.potholes")
    bridge = routed(subtopic="roads.bridges")
    snow = routed(subtopic="roads.snow")
    both = _ids(client, "?service_code=roads.potholes, roads.bridges")
    assert {str(pothole.id), str(bridge.id)} <= set(both) and str(snow.id) not in both
    response = client.get(f"{BASE}/requests.json?service_code=roads.potholes,no.such")
    assert response.status_code == 404 and "no.such" in response.json()[0]["description"]
    # No point of its own: the settlement's centre; a message with a point: that point,
    # coarsened to ~1 km (the reporter's exact position is personal data).
    [centre] = client.get(f"{BASE}/requests/{bridge.id}.json").json()
    from otklik.models.case import CaseMessage
    from otklik.models.message import Message

    link = session.query(CaseMessage).filter(CaseMessage.case_id == pothole.id).first()
    assert link is not None
    message = session.get(Message, link.message_id)
    assert message is not None
    message.lat, message.lon = 52.893411, 40.512399
    session.flush()
    [item] = client.get(f"{BASE}/requests/{pothole.id}.json").json()
    assert (item["lat"], item["long"]) == (52.89, 40.51)
    assert (centre["lat"], centre["long"]) != (52.89, 40.51) and centre["lat"] is not None


def test_the_docs_say_what_every_service_code_means() -> None:
    """docs/open311.md lists every code of the built-in rubricator with its name (and no
    code the rubricator lacks)."""
    from otklik.nlp.taxonomy.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    expected = {}
    for code in taxonomy.topic_codes:
        topic = taxonomy.topic(code)
        expected[code] = topic.name_ru
        expected.update({sub.code: sub.name_ru for sub in topic.subtopics})
    section = DOCS.read_text(encoding="utf-8").split("#### Коды услуг")[1].split("\n#")[0]
    documented = {m.group(1): m.group(2) for m in re.finditer(
        r"^\| \**`([a-z_.]+)`\** \| \**([^|*`]+?)\**(?: — [^|]*)? \|$", section, re.M)}
    assert documented == expected


def test_media_url_from_a_social_posts_photo_link(client: Any, routed: Callable[..., Case],
                                                  session: Session) -> None:
    """A case with no stored photo shows its post's photo link (VK, Telegram, OK) as
    ``media_url``; a link that is not http(s) is never shown."""
    from otklik.models.case import CaseMessage
    from otklik.models.message import Message

    with_photo, odd = routed(), routed()
    for case, attachments in ((with_photo, [
            {"url": "https://vk.com/wall-1_5", "type": "link"},
            {"url": "https://sun9-1.userapi.com/impg/pit.jpg", "type": "photo"}]),
            (odd, [{"url": "javascript:alert(1)", "type": "photo"}])):
        link = session.query(CaseMessage).filter(CaseMessage.case_id == case.id).one()
        message = session.get(Message, link.message_id)
        assert message is not None
        message.attachments = attachments
    session.flush()
    [item] = client.get(f"{BASE}/requests/{with_photo.id}.json").json()
    assert item["media_url"] == "https://sun9-1.userapi.com/impg/pit.jpg"
    listed = client.get(f"{BASE}/requests.json?service_request_id={with_photo.id},{odd.id}")
    by_id = {r["service_request_id"]: r["media_url"] for r in listed.json()}
    assert by_id == {str(with_photo.id): "https://sun9-1.userapi.com/impg/pit.jpg",
                     str(odd.id): ""}


HOSTILE = ["", " ", "%00", "-1", "1e309", "9" * 40, "NaN", "'; drop table case; --",
           "<x>&amp;", "%F0%9F%92%A9", "%ED%A0%80", "a" * 5000, "..%2F..%2F", "1,,,,2",
           "2026-02-30", "2026-12-01T25:00:00%2B03:00", "open,closed,open", "%0D%0Aset-cookie:x"]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_parameters_are_never_a_500(client: Any, value: str) -> None:
    """Every GET parameter and path part with hostile values: the spec's error (or a valid
    answer), never a 500, in the format the path asked for."""
    names = ("jurisdiction_id", "service_request_id", "service_code", "start_date",
             "end_date", "status", "page", "page_size")
    paths = [f"/requests.json?{name}={value}" for name in names]
    paths += [f"/requests/{value}.json", f"/services/{value}.json", f"/tokens/{value}.json",
              f"/services.json?jurisdiction_id={value}", f"/requests/{value}.xml"]
    for path in paths:
        response = client.get(BASE + path)
        assert response.status_code < 500, (path, response.text[:200])
        if response.status_code >= 400:
            if path.endswith(".xml"):
                assert _xml(response).findtext("error/code") == str(response.status_code)
            else:
                valid("errors", response.json())
