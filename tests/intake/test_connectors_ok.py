"""Odnoklassniki connector against a local stub of fb.do."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from otklik.intake.connectors.base import AuthError, NotSupported, Reply
from otklik.intake.connectors.ok import OKConnector, sign
from otklik.intake.connectors.registry import get_connector

from .stubs.clock import FakeClock
from .stubs.http_stub import Recorded, StubResponse, StubServer, load_fixture

GID = "54122411900001"
TOPIC = "155234567890123"
TOKEN = "tkn1.ok-access-token-xyz"
SECRET = "ok-app-secret-C0FFEE"


def fx(name: str) -> StubResponse:
    return StubResponse(load_fixture("ok", name))


@pytest.fixture
def stub() -> Iterator[StubServer]:
    with StubServer(key=lambda r: r.form.get("method", r.path)) as server:
        yield server


def make(stub: StubServer, clock: FakeClock, **extra: Any) -> OKConnector:
    config = {
        "application_key": "CBAPLEABCDEFGHIJK",
        "application_secret_key": SECRET,
        "access_token": TOKEN,
        "group_ids": [GID],
        "base_url": stub.url + "/fb.do",
        **extra,
    }
    connector = get_connector("ok", config, clock=clock)
    assert isinstance(connector, OKConnector)
    return connector


def comments_by_topic(name: str) -> Any:
    def answer(request: Recorded) -> StubResponse:
        return fx(
            name if request.form["entityId"] == TOPIC else "discussions_getComments_empty.json"
        )

    return answer


def test_signature_follows_documented_algorithm() -> None:
    params = {"application_key": "CBA", "method": "group.getInfo", "format": "json", "uids": "1"}
    secret = hashlib.md5((TOKEN + SECRET).encode()).hexdigest()
    expected = hashlib.md5(
        ("application_key=CBAformat=jsonmethod=group.getInfouids=1" + secret).encode()
    ).hexdigest()
    assert sign({**params, "access_token": TOKEN}, TOKEN, SECRET) == expected


def test_fetch_topics_and_comments(stub: StubServer) -> None:
    stub.script("mediatopic.getTopics", fx("mediatopic_getTopics_first.json"))
    stub.script("discussions.getComments", comments_by_topic("discussions_getComments_first.json"))
    result = make(stub, FakeClock(), channel="Самара — наш город").fetch(None)

    assert result.errors == []
    by_id = {m.source_id: m for m in result.messages}
    topic = by_id[f"topic{GID}_{TOPIC}"]
    assert topic.text.startswith("Контейнерная площадка на ул. Гагарина 96")
    assert topic.author_name == "Самара — наш город"
    assert topic.url == f"https://ok.ru/group/{GID}/topic/{TOPIC}"
    assert topic.reach is not None and topic.reach.likes == 31 and topic.reach.comments == 2
    assert topic.attachments[0].type == "photo"
    assert by_id[f"topic{GID}_155234567890100"].author_name == "Марина Лебедева"
    reply = by_id[f"topic{GID}_{TOPIC}_MTczMzEzMjAwMDAwMDoxMjM0Ng=="]
    assert reply.parent_source_id == f"topic{GID}_{TOPIC}_MTczMzEzMTAwMDAwMDoxMjM0NQ=="
    assert reply.created_at.isoformat() == "2024-12-02T12:33:20+03:00"  # Moscow time

    sent = stub.calls("mediatopic.getTopics")[0].form
    assert sent["gid"] == GID and sent["format"] == "json"
    assert sent["sig"] == sign(sent, TOKEN, SECRET)
    assert stub.calls("discussions.getComments")[0].form["entityType"] == "GROUP_TOPIC"


def test_resume_by_created_time_and_comment_anchor(stub: StubServer) -> None:
    stub.script("mediatopic.getTopics", fx("mediatopic_getTopics_first.json"))
    stub.script("discussions.getComments", comments_by_topic("discussions_getComments_first.json"))
    first = make(stub, FakeClock()).fetch(None)

    stub.script("mediatopic.getTopics", fx("mediatopic_getTopics_second.json"))
    stub.script("discussions.getComments", comments_by_topic("discussions_getComments_second.json"))
    second = make(stub, FakeClock()).fetch(json.loads(json.dumps(first.cursor)))
    assert {m.source_id for m in second.messages} == {
        f"topic{GID}_155234567890200",
        f"topic{GID}_{TOPIC}_MTczMzE0NTAwMDAwMDoxMjM0Nw==",
    }
    anchors = [
        c.form.get("anchor")
        for c in stub.calls("discussions.getComments")
        if c.form["entityId"] == TOPIC
    ]
    assert anchors[-1] == "MTczMzEzMjAwMDAwMDoxMjM0Ng=="  # continued from the stored anchor


def test_limit_reached_backs_off_and_retries(stub: StubServer) -> None:
    stub.script(
        "mediatopic.getTopics", fx("error_limit.json"), fx("mediatopic_getTopics_first.json")
    )
    stub.script("discussions.getComments", fx("discussions_getComments_empty.json"))
    clock = FakeClock()
    connector = make(stub, clock)
    result = connector.fetch(None)
    assert len(stub.calls("mediatopic.getTopics")) == 2
    assert len(connector.http.waits) == 1 and connector.http.waits[0] in clock.sleeps
    assert len(result.messages) == 2


def test_expired_session_is_an_auth_error(stub: StubServer) -> None:
    stub.script("mediatopic.getTopics", fx("error_session.json"))
    with pytest.raises(AuthError):
        make(stub, FakeClock()).fetch(None)


def test_publish_is_not_supported(stub: StubServer) -> None:
    connector = make(stub, FakeClock())
    assert not connector.supports_publish
    with pytest.raises(NotSupported):
        connector.publish(Reply(target_source_id=f"topic{GID}_{TOPIC}", text="Спасибо"))
    assert stub.requests == []
