"""Channel places: a town community places the messages that name no place of their own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session
from tests.builders import PASSWORD, make_user
from tests.conftest import login

from otklik.accounts.service import actor_for
from otklik.audit.actor import Actor
from otklik.channels.schemas import IncomingMessage, Source
from otklik.errors import Forbidden, InvalidInput, NotFound
from otklik.intake import channel_places
from otklik.intake.service import store_messages
from otklik.intake.tasks import enrich_now
from otklik.models.account import Role
from otklik.models.message import Message, MessageEnrichment
from otklik.territories.repository import TerritoryRepository

ADMIN = Actor.system("tests")
MICHURINSK_TOWN = "68715000001"  # the settlement; its municipality is 68715 (город Мичуринск)


def _enrich(session: Session, source_id: str, text: str, channel: str | None,
            region: str | None = "68", source: Source = Source.vk,
            raw: dict[str, object] | None = None) -> MessageEnrichment:
    store_messages(session, [IncomingMessage(
        source=source, source_id=source_id, text=text, channel=channel, region=region,
        raw=raw or {}, created_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC))], enqueue=False)
    message = session.query(Message).filter_by(source_id=source_id).one()
    enrich_now(session, [message.id])
    row = session.get(MessageEnrichment, message.id)
    assert row is not None
    return row


def test_a_street_without_a_town_is_placed_in_the_channels_town(session: Session) -> None:
    channel_places.set_place(session, ADMIN, "Типичный Мичуринск", MICHURINSK_TOWN)
    territories = TerritoryRepository(session)
    town = territories.by_key(MICHURINSK_TOWN)
    assert town is not None

    row = _enrich(session, "wall-1_1", "На Лаврова опять разбили путепровод, ямы по колено, "
                  "когда отремонтируют?", "Типичный Мичуринск")

    assert (row.settlement_id, row.municipality_id) == (town.id, town.parent_id)
    assert row.result["territory"]["from_channel"] == "Типичный Мичуринск"
    assert "Типичный Мичуринск" in row.result["explain"]["territory_from_channel"]


def test_what_the_text_names_wins_over_the_channel(session: Session) -> None:
    channel_places.set_place(session, ADMIN, "Типичный Мичуринск", MICHURINSK_TOWN)
    tambov = TerritoryRepository(session).by_key("68701")
    assert tambov is not None

    row = _enrich(session, "wall-1_2", "В Тамбове на ул. Советской не горят фонари уже неделю",
                  "Типичный Мичуринск")
    assert row.municipality_id == tambov.id
    assert "from_channel" not in row.result["territory"]

    elsewhere = _enrich(session, "wall-1_3", "В Самаре на ул. Гагарина 96 переполнены баки",
                        "Типичный Мичуринск", region=None)
    assert elsewhere.region_code == "36" and "from_channel" not in elsewhere.result["territory"]


def test_channels_without_a_place_change_nothing(session: Session) -> None:
    row = _enrich(session, "wall-1_4", "На Лаврова опять ямы", "Губернатор Тамбовской области")
    assert row.municipality_id is None and "from_channel" not in row.result.get("territory", {})


def test_setting_a_place_is_checked_and_audited(session: Session) -> None:
    with pytest.raises(InvalidInput, match="OKTMO"):
        channel_places.set_place(session, ADMIN, "Типичный Мичуринск", "99999")
    with pytest.raises(InvalidInput, match="municipality or a settlement"):
        channel_places.set_place(session, ADMIN, "Типичный Мичуринск", "68")
    with pytest.raises(InvalidInput, match="channel"):
        channel_places.set_place(session, ADMIN, "   ", MICHURINSK_TOWN)
    samara_admin = actor_for(session, make_user(session, Role.admin, ["36"]))
    with pytest.raises(Forbidden):
        channel_places.set_place(session, samara_admin, "Типичный Мичуринск", MICHURINSK_TOWN)
    operator = actor_for(session, make_user(session, Role.operator, ["68"]))
    with pytest.raises(Forbidden):
        channel_places.set_place(session, operator, "Типичный Мичуринск", MICHURINSK_TOWN)

    first = channel_places.set_place(session, ADMIN, " Типичный  Мичуринск ", "68715")
    moved = channel_places.set_place(session, ADMIN, "Типичный Мичуринск", MICHURINSK_TOWN)
    assert first.id == moved.id and moved.level == "settlement"
    assert [v.channel for v in channel_places.list_places(session, operator)] == [
        "Типичный Мичуринск"]
    assert channel_places.list_places(session, samara_admin) == []
    channel_places.remove_place(session, ADMIN, "Типичный Мичуринск")
    with pytest.raises(NotFound):
        channel_places.remove_place(session, ADMIN, "Типичный Мичуринск")


def test_channel_places_over_the_api(session: Session, client) -> None:  # type: ignore[no-untyped-def]
    admin = make_user(session, Role.admin, ["68"])
    csrf = login(client, admin.username, PASSWORD)
    headers = {"x-csrf-token": csrf}
    put = client.put("/api/v1/channel-places", headers=headers,
                     json={"channel": "Подслушано Мичуринск", "territory_key": "68715"})
    assert put.status_code == 200, put.text
    assert put.json()["territory_name"] == "город Мичуринск"
    bad = client.put("/api/v1/channel-places", headers=headers,
                     json={"channel": "Подслушано Мичуринск", "territory_key": "00000"})
    assert bad.status_code == 400 and "OKTMO" in bad.text
    listed = client.get("/api/v1/channel-places").json()
    assert [p["channel"] for p in listed["items"]] == ["Подслушано Мичуринск"]
    assert listed["total"] == 1
    assert client.get("/api/v1/channel-places?region_code=36").json()["items"] == []
    gone = client.delete("/api/v1/channel-places", headers=headers,
                         params={"channel": "Подслушано Мичуринск"})
    assert gone.status_code == 204
    assert client.get("/api/v1/channel-places").json()["items"] == []


def test_admin_page_sets_and_removes_a_place(session: Session, client) -> None:  # type: ignore[no-untyped-def]
    import re

    store_messages(session, [IncomingMessage(
        source=Source.vk, source_id="wall-1_9", text="<b>Привет</b>", region="68",
        channel="Мичуринск <script>alert(1)</script>",
        created_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC))], enqueue=False)
    admin = make_user(session, Role.admin, ["68"])
    login(client, admin.username, PASSWORD)
    page = client.get("/admin/channels")
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text  # the channel name is escaped
    assert "Мичуринск &lt;script&gt;" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    bad = client.post("/admin/channels", data={"csrf": csrf[1], "channel": "Типичный Мичуринск",
                                               "territory_key": "nonsense"})
    assert bad.status_code == 400 and "OKTMO" in bad.text
    done = client.post("/admin/channels", data={"csrf": csrf[1], "channel": "Типичный Мичуринск",
                                                "territory_key": "68715"},
                       follow_redirects=True)
    assert done.status_code == 200 and "город Мичуринск" in done.text
    removed = client.post("/admin/channels/remove", data={"csrf": csrf[1],
                                                          "channel": "Типичный Мичуринск"},
                          follow_redirects=True)
    assert removed.status_code == 200
    assert channel_places.list_places(session, ADMIN) == []
    operator = make_user(session, Role.operator, ["68"])
    login(client, operator.username, PASSWORD)
    assert client.get("/admin/channels").status_code == 403


def _thread(session: Session, post_id: str, post: str, *replies: str
            ) -> list[MessageEnrichment]:
    """A post on «Типичный Тамбов» at 9:00 and its comments ten minutes apart from 9:30,
    enriched together; their enrichments in that order."""
    start = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    incoming = [IncomingMessage(source=Source.vk, source_id=post_id, channel="Типичный Тамбов",
                                text=post, region="68", created_at=start)]
    incoming += [IncomingMessage(source=Source.vk, source_id=f"{post_id}_{n}",
                                 channel="Типичный Тамбов", parent_source_id=post_id, text=text,
                                 region="68", created_at=start + timedelta(minutes=20 + 10 * n))
                 for n, text in enumerate(replies, start=1)]
    store_messages(session, incoming, enqueue=False)
    ids = {m.source_id: m.id for m in session.query(Message).filter(
        Message.source_id.in_([i.source_id for i in incoming]))}
    enrich_now(session, list(ids.values()))
    rows = [session.get(MessageEnrichment, ids[i.source_id]) for i in incoming]
    assert all(row is not None for row in rows)
    return [row for row in rows if row is not None]


def test_a_comment_takes_its_posts_place_before_the_channels(session: Session) -> None:
    channel_places.set_place(session, ADMIN, "Типичный Тамбов", "68701")
    michurinsk = TerritoryRepository(session).by_key("68715")
    assert michurinsk is not None
    post, reply, own_street = _thread(
        session, "wall-7_10", "В Мичуринске путепровод на улице Лаврова опять весь в ямах",
        "Когда уже отремонтируют?!", "А у нас на ул. Советской тоже ямы")

    assert post.municipality_id == michurinsk.id
    assert (reply.municipality_id, reply.street) == (michurinsk.id, post.street)
    assert reply.result["territory"]["from_thread"] == "wall-7_10"
    assert "from_channel" not in reply.result["territory"]
    # A comment that names its own street is not the post's place: the channel's town.
    assert own_street.result["territory"].get("from_channel") == "Типичный Тамбов"
    assert "from_thread" not in own_street.result["territory"]


def test_a_duplicate_of_a_message_that_is_not_stored_is_forgotten(session: Session) -> None:
    from otklik.intake.tasks import _drop_unknown_duplicates

    row = _enrich(session, "wall-8_1", "Яма на ул. Лаврова", None)
    results: list[dict[str, object] | None] = [
        {"duplicate_of": str(row.message_id)}, {"duplicate_of": "987654321"}, None,
        {"duplicate_of": None}]
    _drop_unknown_duplicates(session, results)
    assert results == [{"duplicate_of": str(row.message_id)}, {"duplicate_of": None}, None,
                       {"duplicate_of": None}]


def test_a_street_looking_mention_is_a_street_of_the_channels_town(session: Session) -> None:
    """«барак на Чичерина» on the Tambov administration's page is Chicherin Street of Tambov,
    not the village Чичерино of Токарёвский район; naming the district keeps the village."""
    channel_places.set_place(session, ADMIN, "Администрация города Тамбова", "68701")
    territories = TerritoryRepository(session)
    tambov, tokarevka = territories.by_key("68701"), territories.by_key("68642")
    assert tambov is not None and tokarevka is not None

    row = _enrich(session, "wall-9_1", "Когда расселят барак на Чичерина? Крыша течёт.",
                  "Администрация города Тамбова")
    assert row.municipality_id == tambov.id and row.street == "улица Чичерина"
    assert "Чичерино" in row.result["explain"]["territory_street_not_village"]

    village = _enrich(session, "wall-9_2", "Барак на Чичерина Токарёвского района разваливается",
                      "Администрация города Тамбова")
    assert village.municipality_id == tokarevka.id
    assert "street_not_village" not in village.result["territory"]


def test_a_street_looking_mention_in_a_comment_is_a_street_of_the_threads_town(
        session: Session) -> None:
    channel_places.set_place(session, ADMIN, "Типичный Тамбов", "68701")
    michurinsk = TerritoryRepository(session).by_key("68715")
    assert michurinsk is not None
    _, reply = _thread(session, "wall-9_20",
                       "В Мичуринске дома расселяют по программе, а бараки стоят",
                       "А барак на Чичерина когда расселят? Крыша течёт")
    assert reply.municipality_id == michurinsk.id and reply.street == "улица Чичерина"


def _form(session: Session, source_id: str, text: str, settlement: str) -> MessageEnrichment:
    return _enrich(session, source_id, text, "Интернет-приёмная Губернатора Тамбовской области",
                   source=Source.web, raw={"form": "obrashchenie", "fields": {
                       "name": "Анна", "settlement": settlement, "message": text}})


def test_a_form_places_a_message_in_the_settlement_its_sender_gave(session: Session) -> None:
    territories = TerritoryRepository(session)
    michurinsk, tambov = territories.by_key(MICHURINSK_TOWN), territories.by_key("68701")
    assert michurinsk is not None and tambov is not None
    # The governor's reception has no town of its own; the form's field names the sender's.
    channel_places.set_place(session, ADMIN, "Интернет-приёмная Губернатора Тамбовской области",
                             "68701")

    row = _form(session, "form-68-1", "Почему до сих пор не включили отопление на ул. Лаврова? "
                "Дети мёрзнут.", "Мичуринск")
    assert (row.settlement_id, row.street) == (michurinsk.id, "улица Лаврова")
    assert row.result["territory"]["from_form"] == "Мичуринск"
    assert "from_channel" not in row.result["territory"]

    # What the text names wins over the field.
    named = _form(session, "form-68-2", "В Тамбове на ул. Советской не горят фонари",
                  "Мичуринск")
    assert named.municipality_id == tambov.id and "from_form" not in named.result["territory"]

    # A field naming no settlement of the region leaves the channel's town.
    elsewhere = _form(session, "form-68-3", "Не включили отопление, дети мёрзнут", "Самара")
    assert elsewhere.municipality_id == tambov.id
    assert elsewhere.result["territory"]["from_channel"]
