"""VK connector against a local stub replaying VK API payloads."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from otklik.channels.connectors.base import AuthError, ForgedRequest, Reply
from otklik.channels.connectors.registry import get_connector
from otklik.channels.connectors.vk import VKConnector
from otklik.channels.schemas import Source

from .stubs.clock import FakeClock
from .stubs.http_stub import Recorded, StubResponse, StubServer, load_fixture

OWNER = -170000001
TOKEN = "vk1.a.reading-token-0123456789"
GROUP_TOKEN = "vk1.a.group-token-9876543210"


def fx(name: str) -> StubResponse:
    return StubResponse(load_fixture("vk", name))


def comments(first: str) -> Any:
    """wall.getComments answers per post: post 812 has comments, others none."""

    def answer(request: Recorded) -> StubResponse:
        if request.form["post_id"] == "812":
            return fx(first)
        return fx("wall_getComments_empty.json")

    return answer


@pytest.fixture
def stub() -> Iterator[StubServer]:
    with StubServer() as server:
        yield server


def make(stub: StubServer, clock: FakeClock, **extra: Any) -> VKConnector:
    config = {
        "access_token": TOKEN,
        "group_token": GROUP_TOKEN,
        "group_id": 170000001,
        "owner_ids": [OWNER],
        "base_url": stub.url + "/method/",
        "channel": "Мичуринск онлайн",
        "region": "68",
        "confirmation_code": "a1b2c3d4",
        "callback_secret": "s3cr3t-cb",
        **extra,
    }
    connector = get_connector("vk", config, clock=clock)
    assert isinstance(connector, VKConnector)
    return connector


def test_fetch_maps_posts_comments_and_threads(stub: StubServer) -> None:
    stub.script("/method/wall.get", fx("wall_get_first.json"))
    stub.script("/method/wall.getComments", comments("wall_getComments_812_first.json"))
    result = make(stub, FakeClock()).fetch(None)

    assert result.errors == []
    by_id = {m.source_id: m for m in result.messages}
    assert set(by_id) == {
        "wall-170000001_700",
        "wall-170000001_812",
        "wall-170000001_811",
        "wall-170000001_812_40551",
        "wall-170000001_812_40553",
        "wall-170000001_812_40552",
    }
    post = by_id["wall-170000001_812"]
    assert post.source == Source.vk
    assert post.text.startswith("Путепровод на ул. Лаврова")
    assert '"Обещали"' in post.text  # VK's HTML escapes are decoded in the text
    assert post.author_name == "Мичуринск онлайн"
    assert post.url == "https://vk.com/wall-170000001_812"
    assert post.created_at.timestamp() == 1732878300
    assert (post.lat, post.lon) == (52.8978, 40.4929)
    assert post.reach is not None and post.reach.views == 4812 and post.reach.reposts == 9
    assert post.attachments[0].url.endswith("p812_z.jpg")  # the largest size
    assert post.channel == "Мичуринск онлайн" and post.region == "68"

    top = by_id["wall-170000001_812_40551"]
    assert top.parent_source_id == "wall-170000001_812"
    assert top.author_name == "Ольга Смирнова"
    assert top.url == "https://vk.com/wall-170000001_812?reply=40551"
    reply = by_id["wall-170000001_812_40553"]
    assert reply.parent_source_id == "wall-170000001_812_40551"
    assert reply.url == "https://vk.com/wall-170000001_812?reply=40553&thread=40551"

    sent = stub.calls("/method/wall.get")[0].form
    assert sent["owner_id"] == str(OWNER) and sent["v"] == "5.199" and sent["extended"] == "1"
    assert sent["access_token"] == TOKEN
    json.dumps(result.cursor)  # the lead persists it as JSON


def test_resume_after_restart_returns_only_new_items(stub: StubServer) -> None:
    phase = {"now": "first"}
    stub.script("/method/wall.get", lambda r: fx(f"wall_get_{phase['now']}.json"))
    stub.script(
        "/method/wall.getComments",
        lambda r: comments(f"wall_getComments_812_{phase['now']}.json")(r),
    )
    first = make(stub, FakeClock()).fetch(None)
    persisted = json.loads(json.dumps(first.cursor))
    phase["now"] = "second"

    # A new process: a fresh connector given only the persisted cursor.
    second = make(stub, FakeClock()).fetch(persisted)
    assert second.errors == []
    assert sorted(m.source_id for m in second.messages) == [
        "wall-170000001_812_40560",
        "wall-170000001_813",
    ]
    wall = second.cursor["walls"][str(OWNER)]
    assert wall["last_post_id"] == 813
    assert wall["posts"]["812"] == 40560


def test_error_6_backs_off_via_injected_sleep_and_retries(stub: StubServer) -> None:
    stub.script(
        "/method/wall.get", fx("error_6.json"), fx("error_6.json"), fx("wall_get_first.json")
    )
    stub.script("/method/wall.getComments", comments("wall_getComments_812_first.json"))
    clock = FakeClock()
    connector = make(stub, clock)
    result = connector.fetch(None)

    assert len(stub.calls("/method/wall.get")) == 3
    assert connector.http.waits and len(connector.http.waits) == 2
    assert connector.http.waits[1] > connector.http.waits[0]  # exponential
    assert all(w in clock.sleeps for w in connector.http.waits)
    assert any(m.source_id == "wall-170000001_812" for m in result.messages)


def test_rate_limiter_keeps_three_requests_per_second(stub: StubServer) -> None:
    stub.script("/method/wall.get", fx("wall_get_first.json"))
    stub.script("/method/wall.getComments", comments("wall_getComments_812_first.json"))
    clock = FakeClock()
    make(stub, clock).fetch(None)
    calls = len(stub.requests)
    assert calls > 3
    # Burst of 3, then 1/3 s per call on the fake clock.
    assert sum(clock.sleeps) == pytest.approx((calls - 3) / 3.0)


def test_auth_error_surfaces_without_retry(stub: StubServer) -> None:
    stub.script("/method/wall.get", fx("error_5.json"))
    with pytest.raises(AuthError):
        make(stub, FakeClock()).fetch(None)
    assert len(stub.calls("/method/wall.get")) == 1


def test_failing_wall_does_not_stop_the_others(stub: StubServer) -> None:
    def wall(request: Recorded) -> StubResponse:
        if request.form["owner_id"] == "-999":
            return StubResponse({"error": {"error_code": 15, "error_msg": "Access denied"}})
        return fx("wall_get_first.json")

    stub.script("/method/wall.get", wall)
    stub.script("/method/wall.getComments", comments("wall_getComments_812_first.json"))
    result = make(stub, FakeClock(), owner_ids=[-999, OWNER]).fetch(None)
    assert len(result.errors) == 1 and "-999" in result.errors[0]
    assert "Access denied" in result.errors[0]
    assert any(m.post_id == "812" for m in result.messages)


def test_newsfeed_search_with_place_and_cursor(stub: StubServer) -> None:
    stub.script("/method/newsfeed.search", fx("newsfeed_search_first.json"))
    connector = make(
        stub,
        FakeClock(),
        owner_ids=[],
        searches=[{"q": "путепровод", "latitude": 52.89, "longitude": 40.49}],
    )
    result = connector.fetch(None)
    assert {m.source_id for m in result.messages} == {"wall-222_95", "wall314159_3301"}
    names = {m.source_id: m.author_name for m in result.messages}
    assert names == {"wall-222_95": "Типичный Мичуринск", "wall314159_3301": "Пётр Орлов"}
    sent = stub.calls("/method/newsfeed.search")[0].form
    assert sent["q"] == "путепровод" and sent["latitude"] == "52.89"
    assert "start_time" not in sent

    make(
        stub,
        FakeClock(),
        owner_ids=[],
        searches=[{"q": "путепровод", "latitude": 52.89, "longitude": 40.49}],
    ).fetch(result.cursor)
    again = stub.calls("/method/newsfeed.search")[-1].form
    assert again["start_time"] == str(1732891000 + 1)


def test_publish_comment_from_group_in_reply(stub: StubServer) -> None:
    stub.script("/method/wall.createComment", fx("wall_createComment.json"))
    connector = make(stub, FakeClock())
    external = connector.publish(
        Reply(
            target_source_id="wall-170000001_812_40551",
            text="Ремонт путепровода начнётся в мае, работы пройдут в два этапа.",
        )
    )
    assert external == "wall-170000001_812_40600"
    form = stub.calls("/method/wall.createComment")[0].form
    assert form["owner_id"] == "-170000001" and form["post_id"] == "812"
    assert form["reply_to_comment"] == "40551" and form["from_group"] == "170000001"
    assert form["message"].startswith("Ремонт путепровода")
    assert form["access_token"] == GROUP_TOKEN
    assert len(form["guid"]) == 40  # same reply twice is not posted twice


def test_callback_confirmation_and_events(stub: StubServer) -> None:
    connector = make(stub, FakeClock())
    body = json.dumps(load_fixture("vk", "callback_confirmation.json")).encode()
    assert connector.receive(body, {}).response_text == "a1b2c3d4"

    new = connector.receive(
        json.dumps(load_fixture("vk", "callback_wall_reply_new.json")).encode(), {}
    )
    assert new.response_text == "ok"
    (msg,) = new.messages
    assert msg.source_id == "wall-170000001_812_40570"
    assert msg.parent_source_id == "wall-170000001_812"

    gone = connector.receive(
        json.dumps(load_fixture("vk", "callback_wall_reply_delete.json")).encode(), {}
    )
    assert gone.messages[0].deleted and gone.messages[0].source_id == "wall-170000001_812_40552"

    dm = connector.receive(json.dumps(load_fixture("vk", "callback_message_new.json")).encode(), {})
    assert dm.messages[0].source_id == "im5554_17"
    assert "Гоголевской 12" in dm.messages[0].text

    post = connector.receive(
        json.dumps(load_fixture("vk", "callback_wall_post_new.json")).encode(), {}
    )
    assert post.messages[0].source_id == "wall-170000001_813"


def test_callback_with_wrong_secret_is_refused(
    stub: StubServer, caplog: pytest.LogCaptureFixture
) -> None:
    connector = make(stub, FakeClock())
    event = load_fixture("vk", "callback_wall_reply_new.json")
    event["secret"] = "guessed"
    with pytest.raises(ForgedRequest):
        connector.receive(json.dumps(event).encode(), {})
    del event["secret"]
    with pytest.raises(ForgedRequest):
        connector.receive(json.dumps(event).encode(), {})
    event["secret"] = "s3cr3t-cb"
    event["group_id"] = 1
    with pytest.raises(ForgedRequest):
        connector.receive(json.dumps(event).encode(), {})


def test_secrets_never_printed(stub: StubServer, caplog: pytest.LogCaptureFixture) -> None:
    stub.script("/method/wall.get", fx("error_6.json"), fx("wall_get_first.json"))
    stub.script("/method/wall.getComments", comments("wall_getComments_812_first.json"))
    connector = make(stub, FakeClock())
    with caplog.at_level(logging.DEBUG):
        connector.fetch(None)
    text = repr(connector) + json.dumps(connector.public_config()) + caplog.text
    assert "retry" in caplog.text
    for secret in (TOKEN, GROUP_TOKEN, "s3cr3t-cb"):
        assert secret not in text


def test_a_post_with_an_impossible_date_is_skipped_named_and_not_met_again(
        stub: StubServer) -> None:
    """One post the platform dates in the year 5000 used to fail the whole run every time and
    never move the cursor; now it is named in the run's errors, the others are stored and the
    next run starts past it."""
    page = load_fixture("vk", "wall_get_first.json")
    newest = max(page["response"]["items"], key=lambda p: int(p["id"]))
    newest["date"] = 95_617_584_000  # 5000-01-01: no message time the store accepts
    stub.script("/method/wall.get", StubResponse(page))
    stub.script("/method/wall.getComments", comments("wall_getComments_812_first.json"))
    first = make(stub, FakeClock()).fetch(None)

    assert len(first.errors) == 1 and f"VK wall{OWNER}_{newest['id']}" in first.errors[0]
    stored = {m.source_id for m in first.messages}
    assert f"wall{OWNER}_{newest['id']}" not in stored and f"wall{OWNER}_700" in stored
    assert first.cursor["walls"][str(OWNER)]["last_post_id"] == int(newest["id"])

    second = make(stub, FakeClock()).fetch(json.loads(json.dumps(first.cursor)))
    assert not any(f"wall{OWNER}_{newest['id']}" in error for error in second.errors)
