"""Spread, suspects and the brief through the pages and the API (SQLite and PostgreSQL): a
fake's timeline by day and source with its cumulative reach and the channels that carried
it; a spreading rumour on the suspects page, promoted to the registry in one click; the
region brief's section on fakes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.builders import PASSWORD, make_user
from tests.conftest import login

from otklik.audit.actor import Actor
from otklik.channels.schemas import Source
from otklik.db.base import utcnow
from otklik.fakes import live
from otklik.models.account import Role
from otklik.models.fakes import Fake, FakeCopy, FakeSuspect
from otklik.models.message import Message
from otklik.reports.brief import build_brief

from .conftest import CLAIM

REWORDED = ("СРОЧНО! Распространите! 😱‼️ Не пейте водичку из крана до пятницы, в Элисте "
            "водичка отравлена кишечной палочкой, а в водопровод попали сточные воды #срочно")
DENIAL = ("Администрация сообщает: информация о том, что в Элисте в водопровод попали сточные "
          "воды и вода заражена кишечной палочкой, — фейк. Не верьте слухам")
RUMOUR = ("Внимание! В Яшкуле закрывают больницу, врачи увольняются, лекарств не будет, "
          "распространите пока не удалили")


def test_the_timeline_shows_spread_by_day_and_source_with_reach_and_channels(
        client: Any, session: Session, make_fake: Callable[..., Fake],
        make_message: Callable[..., Message]) -> None:
    fake = make_fake()
    seed = make_message(REWORDED, channel="Элиста Инсайд", views=100, reposts=0, hours_ago=73)
    big = make_message(CLAIM, channel="Типичная Элиста", views=5000, reposts=0, hours_ago=49,
                       source=Source.vk)
    late = make_message(CLAIM[:80], channel="Типичная Элиста", views=2000, reposts=10,
                        hours_ago=1, source=Source.vk)
    denial = make_message(DENIAL, channel="Новости Калмыкии", views=30000)
    done = live.match_messages(session, [seed.id, big.id, late.id, denial.id],
                               suspects=False)
    assert (done.copies, done.refutations) == (3, 1)
    login(client, make_user(session, Role.analyst, ["85"]).username, PASSWORD)
    timeline = client.get(f"/api/v1/fakes/{fake.id}/timeline").json()
    assert len(timeline["days"]) == 3  # the denial is no spread: not on the timeline
    assert {s["name"]: s["data"] for s in timeline["series"]} == {"telegram": [1, 0, 0],
                                                                  "vk": [0, 1, 1]}
    assert timeline["reach"] == [100, 5100, 7110]
    assert timeline["channels"] == [{"name": "Типичная Элиста", "copies": 2},
                                    {"name": "Элиста Инсайд", "copies": 1}]
    page = client.get(f"/api/v1/fakes/{fake.id}/copies").json()
    linked = page["items"]
    assert page["total"] == 4 and page["limit"] == 50 and page["offset"] == 0
    assert client.get(f"/api/v1/fakes/{fake.id}/copies?limit=2&offset=1").json()[
        "items"] == linked[1:3]
    assert {c["message_id"]: c["kind"] for c in linked} == {
        seed.id: "copy", big.id: "copy", late.id: "copy", denial.id: "refutation"}
    assert all(c["reason"] and c["score"] >= 0.6 for c in linked)
    assert [c["message_id"] for c in client.get(
        f"/api/v1/fakes/{fake.id}/copies?kind=refutation").json()["items"]] == [denial.id]
    assert fake.first_seen_at == seed.created_at


def test_a_spreading_rumour_is_on_the_suspects_page_and_promoted_in_one_click(
        client: Any, session: Session, make_message: Callable[..., Message]) -> None:
    original = make_message(RUMOUR, author="u1", hours_ago=6)
    for i in (2, 3, 4):
        make_message(RUMOUR, author=f"u{i}", channel=f"chat{i}", duplicate_of=original.id,
                     hours_ago=6 - i)
    assert live.match_messages(session, [original.id], suspects=True).suspects == 1
    suspect = session.scalars(select(FakeSuspect)).one()
    csrf = login(client, make_user(session, Role.analyst, ["85"]).username, PASSWORD)
    page = client.get("/fakes/suspects")
    assert page.status_code == 200 and f'data-suspect-id="{suspect.id}"' in page.text
    assert "4 разных авторов" in page.text and "нет ссылки на официальный источник" in page.text
    assert f'data-testid="promote-{suspect.id}"' in page.text
    promoted = client.post(f"/fakes/suspects/{suspect.id}",
                           data={"csrf": csrf, "action": "promote"}, follow_redirects=False)
    assert promoted.status_code == 303
    fake_id = int(promoted.headers["location"].rsplit("/", 1)[1])
    fake = session.get(Fake, fake_id)
    assert fake is not None and fake.claim == RUMOUR and fake.status == "checking"
    assert fake.region_code == "85" and suspect.status == "promoted"
    origin = session.scalars(select(FakeCopy).where(FakeCopy.fake_id == fake_id)).one()
    assert origin.origin and origin.message_id == original.id
    assert f'data-suspect-id="{suspect.id}"' not in client.get("/fakes/suspects").text
    assert client.get(f"/fakes/{fake_id}").status_code == 200


def test_the_region_brief_has_a_section_on_fakes(
        session: Session, people: dict[str, Actor], make_fake: Callable[..., Fake],
        make_message: Callable[..., Message]) -> None:
    refuted = make_fake(refuted=True)
    live.match_messages(session, [make_message(REWORDED, views=700, reposts=0).id,
                                  make_message(CLAIM, views=300, reposts=0).id],
                        suspects=False)
    period = f"{utcnow():%Y-%m}"
    brief = build_brief(session, people["writer"], "85", period, with_charts=False)
    section = next(s for s in brief.sections if s.key == "fakes")
    assert section.title == "Фейки: распространялось 1, копий 2, охват 1 000"
    assert section.rows == [[refuted.claim[:90], 2, 1000, "опровергнут"]]
    other = build_brief(session, people["tambov"], "68", period, with_charts=False)
    assert all(s.key != "fakes" for s in other.sections)  # no registry there: no section


def test_whole_messages_are_read_only_for_copies_and_alarming_ones(
        session: Session, make_fake: Callable[..., Fake],
        make_message: Callable[..., Message], monkeypatch: Any) -> None:
    from otklik.fakes.repository import FakeRepository

    read: list[list[int]] = []
    whole = FakeRepository.messages

    def counted(self: FakeRepository, ids: Any) -> Any:
        read.append(sorted(ids))
        return whole(self, ids)

    monkeypatch.setattr(FakeRepository, "messages", counted)
    plain = [make_message(f"Когда починят дорогу на улице Ленина, дом {i}?", hours_ago=1)
             for i in range(3)]
    done = live.match_messages(session, [m.id for m in plain])
    assert (done.copies, done.refutations, done.suspects) == (0, 0, 0) and read == []
    make_fake()
    copy = make_message(CLAIM, channel="Типичная Элиста", hours_ago=1)
    rumour = make_message(RUMOUR, hours_ago=1)
    done = live.match_messages(session, [plain[0].id, copy.id, rumour.id])
    assert done.copies == 1 and read == [sorted([copy.id, rumour.id])]


def test_the_spread_of_a_batch_is_counted_per_message_in_one_query(
        session: Session, make_message: Callable[..., Message]) -> None:
    """Each alarming message's spread — distinct authors and channels of its original and the
    messages linked to it, written since the message itself (or the last 72 hours) — is
    what it was one query per message: now one query for the batch."""
    from sqlalchemy import event

    from otklik.fakes.repository import FakeRepository

    first = make_message(RUMOUR, author="u1", channel="c1", hours_ago=100)
    copies = [make_message(RUMOUR, author=f"u{i}", channel=f"c{i % 2}", duplicate_of=first.id,
                           hours_ago=100 - 20 * i) for i in (2, 3, 4)]
    copies.append(make_message(RUMOUR, author="u2", channel="c9", duplicate_of=first.id,
                               hours_ago=1))  # an author seen before, a new channel
    other = make_message(RUMOUR + " !", author="v1", hours_ago=2)
    lone = make_message(RUMOUR + " ?", hours_ago=3)
    since = utcnow() - live.SPREAD_WINDOW
    wanted = [(m.id, first.id, min(since, m.created_at)) for m in (first, *copies)]
    wanted += [(other.id, other.id, since), (lone.id, lone.id, since)]
    statements: list[str] = []
    engine = session.get_bind()
    listen = lambda *a: statements.append(a[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listen)
    try:
        spreads = FakeRepository(session).spreads(wanted)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert len(statements) == 1
    assert spreads[first.id] == (4, 3)  # all five, since 100 hours ago: u1-u4; c1, c0, c9
    assert spreads[copies[0].id] == (3, 3)  # since 60 h ago: u2, u3, u4, u2; c1, c0, c9
    assert spreads[copies[-1].id] == (3, 3)  # the last 72 hours: the same four
    assert spreads[other.id] == (1, 1) and spreads[lone.id] == (1, 1)  # families of one
