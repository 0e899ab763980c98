"""Collection from a VK page against a local stub of the VK API (127.0.0.1): posts with
counters, comments (also into the message stream through intake's store), a snapshot of
subscribers and profile facts; errors named on the page and in the connector's events."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.intake.stubs.clock import FakeClock
from tests.intake.stubs.http_stub import Recorded, StubResponse, StubServer, load_fixture

from otklik.audit.actor import Actor
from otklik.channels.schemas import IncomingMessage
from otklik.intake.service import store_messages
from otklik.models.message import Connector, IntakeEvent, Message
from otklik.models.publics import PageComment, PagePost, PageSnapshot, PublicPage
from otklik.publics.collect import collect, collect_page, needs_answer

OWNER = -170000001
GROUP = {"id": 170000001, "name": "Школа №5", "members_count": 1532,
         "photo_200": "https://sun.userapi.com/s/v1/ig2/school5.jpg",
         "description": "Официальная страница школы", "cover": {"enabled": 1},
         "contacts": [{"user_id": 1, "desc": "директор"}], "wall": 1,
         "is_government_organization": True}


@pytest.fixture
def stub() -> Iterator[StubServer]:
    with StubServer() as server:
        yield server


def _script(stub: StubServer, group: dict[str, Any] | None = None) -> None:
    def comments(request: Recorded) -> StubResponse:
        name = ("wall_getComments_812_first.json" if request.form["post_id"] == "812"
                else "wall_getComments_empty.json")
        return StubResponse(load_fixture("vk", name))

    stub.script("/method/wall.get", StubResponse(load_fixture("vk", "wall_get_first.json")))
    stub.script("/method/wall.getComments", comments)
    stub.script("/method/groups.getById",
                StubResponse({"response": {"groups": [group or GROUP], "profiles": []}}))


def _setup(session: Session, stub: StubServer, external_id: str = str(OWNER)
           ) -> tuple[PublicPage, Connector]:
    row = Connector(kind="vk", name=f"vk-pages-{external_id}", region_code="68",
                    config={"access_token": "vk1.a.reading-token-0123456789",
                            "base_url": stub.url + "/method/", "max_attempts": 2})
    session.add(row)
    page = PublicPage(region_code="68", platform="vk", external_id=external_id,
                      url="https://vk.com/club170000001", name="Школа №5",
                      page_type="school", page_class="active", status="active",
                      connector_id=None)
    session.add(page)
    session.flush()
    page.connector_id = row.id
    return page, row


def test_a_vk_page_is_collected_and_its_comments_enter_the_stream(
        session: Session, stub: StubServer) -> None:
    _script(stub)
    page, row = _setup(session, stub)

    run = collect_page(session, page, row, store_messages, clock=FakeClock())

    assert run.errors == []
    posts = {p.post_id: p for p in session.scalars(
        select(PagePost).where(PagePost.page_id == page.id))}
    assert set(posts) == {"700", "811", "812"}
    assert posts["812"].views == 4812 and posts["812"].likes == 57
    assert posts["812"].kind == "photo" and posts["700"].pinned
    comments = {c.comment_id: c for c in session.scalars(
        select(PageComment).where(PageComment.page_id == page.id))}
    assert comments["40553"].from_page and comments["40553"].reply_to == "40551"
    assert not comments["40551"].from_page
    snapshot = session.scalars(select(PageSnapshot).where(PageSnapshot.page_id == page.id)
                               ).one()
    assert snapshot.subscribers == 1532
    assert snapshot.facts["state_mark"] and not snapshot.facts["pinned_post"]
    assert snapshot.facts_present == 6 and snapshot.facts_total == 7
    stored = set(session.scalars(select(Message.source_id).where(
        Message.source_id.like(f"wall{OWNER}_812_%"))))
    assert {f"wall{OWNER}_812_40551", f"wall{OWNER}_812_40553"} <= stored
    assert page.cursor["walls"][str(OWNER)]["last_post_id"] == 812

    # The second run brings nothing new and stores nothing twice.
    again = collect_page(session, page, row, store_messages, clock=FakeClock())
    assert again.posts == 0 and again.comments == 0


def test_a_short_name_is_resolved_and_errors_are_named(session: Session, stub: StubServer
                                                       ) -> None:
    _script(stub)
    stub.script("/method/utils.resolveScreenName",
                StubResponse({"response": {"type": "group", "object_id": 170000001}}))
    stub.script("/method/groups.getById", StubResponse(load_fixture("vk", "error_6.json")))
    page, row = _setup(session, stub, external_id="school5_official")
    sunk: list[IncomingMessage] = []

    def sink(session: Session, items: Any, *, connector_id: int | None = None) -> None:
        sunk.extend(items)

    run = collect_page(session, page, row, sink, clock=FakeClock())

    assert page.external_id == str(OWNER)
    assert run.errors and "VK error 6" in run.errors[0] and not run.snapshot
    assert page.last_error and page.error_count == 1
    assert session.scalar(select(IntakeEvent.detail).where(
        IntakeEvent.connector_id == row.id)).startswith("Школа №5")
    # Posts and comments are kept and the cursor moves: the profile is read again tomorrow.
    assert {m.comment_id for m in sunk} == {"40551", "40552", "40553"}
    assert page.cursor["walls"][str(OWNER)]["last_post_id"] == 812


def test_refused_credentials_stop_that_connector_not_the_run(
        session: Session, stub: StubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    stub.script("/method/wall.get", StubResponse(load_fixture("vk", "error_5.json")))
    page, row = _setup(session, stub)

    class Scope:
        def __enter__(self) -> Session:
            return session

        def __exit__(self, *exc: object) -> None:
            session.flush()

    result = collect(Scope, Actor.system("tests"), store_messages, page_ids=[page.id],
                     clock=FakeClock())

    assert len(result.runs) == 1 and "VK error 5" in result.errors[0]
    assert page.last_error and "VK error 5" in page.last_error


@pytest.mark.parametrize(("text", "expected"), [
    ("Когда починят крышу спортзала?", True),
    ("Подскажите расписание кружков", True),
    ("Спасибо учителям!", False),
])
def test_which_comments_need_an_answer(text: str, expected: bool) -> None:
    assert needs_answer(text) is expected


TOKEN = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def test_a_telegram_channel_gives_its_profile_and_leaves_the_bots_updates_alone(
        session: Session, stub: StubServer) -> None:
    # The bot's update queue holds every chat it is in (intake's connector reads it): a
    # channel page's run must not read (and so confirm away) those updates, nor take other
    # chats' messages for the channel's posts.
    stub.script(f"/bot{TOKEN}/getUpdates",
                StubResponse(load_fixture("telegram", "getUpdates_first.json")))
    stub.script(f"/bot{TOKEN}/getChat", StubResponse({"ok": True, "result": {
        "id": -1001500000001, "title": "Минтруд области", "type": "channel",
        "description": "Официальный канал. Приёмная: +7 4752 00-00-00",
        "photo": {"small_file_id": "x", "big_file_id": "y"}}}))
    stub.script(f"/bot{TOKEN}/getChatMemberCount", StubResponse({"ok": True, "result": 845}))
    row = Connector(kind="telegram", name="tg-pages", region_code="68",
                    config={"bot_token": TOKEN, "base_url": stub.url, "max_attempts": 2,
                            "poll_timeout": 0})
    page = PublicPage(region_code="68", platform="telegram", external_id="@mintrud68",
                      url="https://t.me/mintrud68", name="Минтруд области",
                      page_type="government", page_class="active", status="active")
    session.add_all([row, page])
    session.flush()
    sunk: list[IncomingMessage] = []

    def sink(session: Session, items: Any, *, connector_id: int | None = None) -> None:
        sunk.extend(items)

    run = collect_page(session, page, row, sink, clock=FakeClock())

    assert run.errors == [] and run.snapshot
    assert stub.calls(f"/bot{TOKEN}/getUpdates") == []
    assert sunk == [] and run.posts == 0
    assert session.scalars(select(PagePost).where(PagePost.page_id == page.id)).all() == []
    snapshot = session.scalars(select(PageSnapshot).where(PageSnapshot.page_id == page.id)
                               ).one()
    assert snapshot.subscribers == 845
    assert snapshot.facts["avatar"] and snapshot.facts["contacts"]
    assert not snapshot.facts["pinned_post"]
