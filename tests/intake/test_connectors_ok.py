"""Odnoklassniki connector against a local stub of fb.do."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from otklik.channels.connectors.base import AuthError, ForgedRequest, PermanentError, Reply
from otklik.channels.connectors.ok import OKConnector, sign
from otklik.channels.connectors.registry import get_connector

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


CHAT = "chat:C3ecb9d02a600"
BOT = "tkn1.ok-group-bot-token"


def graph(stub: StubServer, clock: FakeClock, **extra: Any) -> OKConnector:
    return make(stub, clock, bot_token=BOT, graph_url=stub.url + "/graph",
                webhook_secret="wh-ok-7f3a", **extra)


def test_webhook_message_is_stored_with_its_chat() -> None:
    connector = get_connector("ok", {
        "application_key": "CBA", "application_secret_key": SECRET, "access_token": TOKEN,
        "webhook_secret": "wh-ok-7f3a", "channel": "Мичуринск — обращения"})
    body = json.dumps(load_fixture("ok", "webhook_message_created.json")).encode()

    pushed = connector.receive(body, {}, {"secret": "wh-ok-7f3a"})

    [message] = pushed.messages
    assert message.source_id == f"{CHAT}/mid:C3ecb9d02a600.15cea67d78d2059"
    assert message.author_id == "user:571234567890" and message.author_name == "Галина Петровна"
    assert message.text.startswith("Здравствуйте! На ул. Ленина 14 третий день нет горячей воды")
    assert message.created_at.isoformat().startswith("2024-12-02T09:21:32")
    assert message.attachments[0].type == "image"
    assert message.channel == "Мичуринск — обращения"
    system = json.dumps(load_fixture("ok", "webhook_chat_system.json")).encode()
    assert connector.receive(system, {}, {"secret": "wh-ok-7f3a"}).messages == []


@pytest.mark.parametrize("query", [None, {}, {"secret": "guess"}])
def test_webhook_without_the_secret_is_forged(query: dict[str, str] | None) -> None:
    connector = get_connector("ok", {
        "application_key": "CBA", "application_secret_key": SECRET, "access_token": TOKEN,
        "webhook_secret": "wh-ok-7f3a"})
    body = json.dumps(load_fixture("ok", "webhook_message_created.json")).encode()
    with pytest.raises(ForgedRequest):
        connector.receive(body, {}, query)


def test_reply_to_a_group_chat_message(stub: StubServer) -> None:
    stub.script(f"/graph/me/messages/{CHAT}", fx("graph_message_sent.json"))
    connector = graph(stub, FakeClock())
    assert connector.supports_publish

    external = connector.publish(Reply(
        target_source_id=f"{CHAT}/mid:C3ecb9d02a600.15cea67d78d2059",
        text="Здравствуйте! Подача горячей воды на ул. Ленина 14 восстановлена."))

    assert external == f"{CHAT}/mid:C3ecb9d02a600.15cea67d78d2f11"
    [call] = stub.calls(f"/graph/me/messages/{CHAT}")
    assert call.query["access_token"] == BOT
    assert call.json == {"recipient": {"chat_id": CHAT}, "message": {
        "text": "Здравствуйте! Подача горячей воды на ул. Ленина 14 восстановлена."}}


def test_reply_to_a_comment_goes_to_its_author_as_a_group_message(stub: StubServer) -> None:
    stub.script("/graph/me/messages", fx("error_limit.json"), fx("graph_user_message_sent.json"))
    clock = FakeClock()
    connector = graph(stub, clock)
    comment = f"topic{GID}_{TOPIC}_MTczMzEzMTAwMDAwMDoxMjM0NQ=="

    external = connector.publish(Reply(
        target_source_id=comment, recipient="578901234567",
        text="Вывоз с площадки на Московском шоссе восстановлен, график — ежедневно."))

    assert external == f"chat:C4017fdcea600/{comment}"
    calls = stub.calls("/graph/me/messages")
    assert len(calls) == 2 and connector.http.waits[0] in clock.sleeps  # LIMIT_REACHED backed off
    sent = calls[-1].json
    assert sent["recipient"] == {"user_ids": ["user:578901234567"]}
    assert sent["message"]["text"].startswith("Ответ на ваш комментарий в группе:\n\n")
    assert sent["message"]["text"].endswith("график — ежедневно.")


def test_reply_refused_by_the_resident_is_a_permanent_error(stub: StubServer) -> None:
    stub.script("/graph/me/messages", fx("graph_user_message_refused.json"))
    with pytest.raises(PermanentError, match="does not accept messages from the group"):
        graph(stub, FakeClock()).publish(Reply(
            target_source_id=f"topic{GID}_{TOPIC}", recipient="user:571234567890", text="Ответ"))


def test_reply_needs_the_bot_token_and_a_person(stub: StubServer) -> None:
    with pytest.raises(PermanentError, match="bot_token"):
        make(stub, FakeClock()).publish(Reply(target_source_id=f"{CHAT}/mid:1", text="Ответ"))
    with pytest.raises(PermanentError, match="no author"):
        graph(stub, FakeClock()).publish(Reply(
            target_source_id=f"topic{GID}_{TOPIC}", recipient=f"group:{GID}", text="Ответ"))
    assert stub.requests == []


def test_bot_token_never_appears_in_public_config(stub: StubServer) -> None:
    shown = json.dumps(graph(stub, FakeClock()).public_config())
    assert BOT not in shown and "wh-ok-7f3a" not in shown


def test_a_comment_with_an_impossible_date_is_skipped_and_named(stub: StubServer) -> None:
    """A broken comment no longer fails its topic's run: it is named, the rest are stored."""
    page = load_fixture("ok", "discussions_getComments_first.json")
    bad = page["comments"][0]
    bad.pop("date", None)
    bad["date_ms"] = 95_617_584_000_000  # the year 5000
    stub.script("mediatopic.getTopics", fx("mediatopic_getTopics_first.json"))
    stub.script("discussions.getComments",
                lambda r: StubResponse(page) if r.form["entityId"] == TOPIC
                else fx("discussions_getComments_empty.json"))
    result = make(stub, FakeClock()).fetch(None)

    assert len(result.errors) == 1 and bad["id"] in result.errors[0]
    stored = {m.source_id for m in result.messages}
    assert f"topic{GID}_{TOPIC}_{bad['id']}" not in stored
    assert f"topic{GID}_{TOPIC}" in stored and len(stored) >= 2
