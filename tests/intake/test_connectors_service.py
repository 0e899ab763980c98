"""Running configured connectors: cursor saved with the messages, failures isolated."""

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from otklik.audit.actor import Actor
from otklik.channels import service as connectors_service
from otklik.db.session import session_scope
from otklik.errors import Conflict, InvalidInput
from otklik.intake import receiving
from otklik.models.message import Connector, Message

from .stubs.clock import FakeClock
from .stubs.http_stub import StubResponse, StubServer, load_fixture


@pytest.fixture
def stub() -> Iterator[StubServer]:
    with StubServer() as server:
        yield server


def _add(name: str, stub: StubServer, token: str) -> int:
    with session_scope() as session:
        row = connectors_service.add_connector(
            session, Actor.system(), kind="vk", name=name, region_code="68",
            config={"access_token": token, "owner_ids": [-170000001],
                    "base_url": stub.url + "/method/", "comment_posts": 0})
        return row.id


def _messages(connector_id: int) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count(Message.id)).where(
            Message.connector_id == connector_id)) or 0


def test_run_saves_cursor_and_resumes(settings_env, stub: StubServer) -> None:  # type: ignore[no-untyped-def]
    stub.script("/method/wall.get", StubResponse(load_fixture("vk", "wall_get_first.json")),
                StubResponse(load_fixture("vk", "wall_get_second.json")))
    connector_id = _add("vk-run-1", stub, "good-token")
    first = receiving.run_connector(connector_id, clock=FakeClock())
    assert first.stored > 0 and not first.errors
    with session_scope() as session:
        row = session.get(Connector, connector_id)
        assert row and row.cursor and row.status == "ok" and row.messages_total == first.stored
    second = receiving.run_connector(connector_id, clock=FakeClock())
    assert second.duplicates == 0
    assert _messages(connector_id) == first.stored + second.stored


def test_a_failing_connector_does_not_stop_the_others(settings_env, stub: StubServer
                                                      ) -> None:  # type: ignore[no-untyped-def]
    def by_token(request):  # type: ignore[no-untyped-def]
        if request.form.get("access_token") == "revoked":
            return StubResponse(load_fixture("vk", "error_5.json"))
        return StubResponse(load_fixture("vk", "wall_get_first.json"))

    stub.script("/method/wall.get", *([by_token] * 10))
    bad = _add("vk-bad", stub, "revoked")
    good = _add("vk-good", stub, "fine")
    results = {r.name: r for r in [receiving.run_connector(bad, clock=FakeClock()),
                                   receiving.run_connector(good, clock=FakeClock())]}
    assert results["vk-bad"].errors
    assert results["vk-good"].fetched > 0 and not results["vk-good"].errors
    with session_scope() as session:
        row = session.get(Connector, bad)
        assert row and row.status == "auth_error" and row.last_error and row.error_count == 1
        assert "revoked" not in row.last_error


def test_bad_settings_are_refused_clearly(settings_env) -> None:  # type: ignore[no-untyped-def]
    with session_scope() as session, pytest.raises(InvalidInput, match="access_token"):
        connectors_service.add_connector(session, Actor.system(), kind="vk", name="x",
                                         config={})
    with session_scope() as session, pytest.raises(InvalidInput, match="unknown connector"):
        connectors_service.add_connector(session, Actor.system(), kind="myspace", name="y",
                                         config={})
    with session_scope() as session:
        connectors_service.add_connector(session, Actor.system(), kind="telegram", name="tg-1",
                                         config={"bot_token": "123:abc"})
    with session_scope() as session, pytest.raises(Conflict):
        connectors_service.add_connector(session, Actor.system(), kind="telegram", name="tg-1",
                                         config={"bot_token": "123:abc"})
