"""The participation pages: a line's card with groups, picks and their reasons, promises;
the proposals' card; Russian first, English on the switch; out of scope is 404."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session
from tests.builders import PASSWORD, make_user
from tests.conftest import login
from tests.participation.conftest import SYSTEM

from otklik.models.account import Role
from otklik.models.participation import Campaign
from otklik.participation import campaigns


def test_line_card_shows_groups_picks_and_reasons_in_both_languages(
        client: object, session: Session, make_campaign: Callable[..., Campaign]) -> None:
    now = datetime.now(UTC)
    campaign = make_campaign(opens=now - timedelta(days=9), closes=now - timedelta(days=2),
                             air=now - timedelta(days=1))
    for n, author in enumerate(("a", "b", "c")):
        campaigns.add_question(session, campaign, text="Когда починят путепровод <b>на Лаврова</b>"
                               + "?" * n, channel="hotline", received_at=now - timedelta(days=3),
                               author_key=author, topic="roads")
    campaigns.propose_picks(session, SYSTEM, campaign.id)
    curator = make_user(session, Role.curator, ["68"])
    login(client, curator.username, PASSWORD)
    card = client.get(f"/participation/lines/{campaign.id}")  # type: ignore[attr-defined]
    assert card.status_code == 200
    assert "больше всего поддержавших" in card.text and "Вопросы для эфира" in card.text
    assert "&lt;b&gt;на Лаврова&lt;/b&gt;" in card.text and "<b>на Лаврова" not in card.text
    assert "Завершить" in card.text  # the line is on air: it can be finished
    listing = client.get("/participation")  # type: ignore[attr-defined]
    assert campaign.title in listing.text
    client.get("/lang/en?next=/participation")  # type: ignore[attr-defined]
    english = client.get(f"/participation/lines/{campaign.id}")  # type: ignore[attr-defined]
    assert "Questions for the air" in english.text and "most supported" in english.text
    sheet = client.get(f"/api/v1/campaigns/{campaign.id}/sheet.xlsx")  # type: ignore[attr-defined]
    assert sheet.status_code == 200 and sheet.content[:2] == b"PK"


def test_out_of_scope_line_is_404(client: object, session: Session,
                                  make_campaign: Callable[..., Campaign]) -> None:
    campaign = make_campaign()
    samara = make_user(session, Role.operator, ["36"])
    login(client, samara.username, PASSWORD)
    assert client.get(f"/participation/lines/{campaign.id}").status_code == 404  # type: ignore[attr-defined]
    assert client.get(f"/api/v1/campaigns/{campaign.id}").status_code == 404  # type: ignore[attr-defined]
    assert client.get(f"/api/v1/campaigns/{campaign.id}/sheet.docx").status_code == 404  # type: ignore[attr-defined]


def test_line_lists_over_the_api_are_pages_with_filters(
        client: object, session: Session, make_campaign: Callable[..., Campaign]) -> None:
    now = datetime.now(UTC)
    campaign = make_campaign(opens=now - timedelta(days=9), closes=now - timedelta(days=2),
                             air=now - timedelta(days=1))
    for n, (text, topic) in enumerate((("Когда починят путепровод?", "roads"),
                                       ("Когда починят путепровод??", "roads"),
                                       ("Нет воды в доме", "utilities"))):
        campaigns.add_question(session, campaign, text=text, channel="hotline",
                               received_at=now - timedelta(days=3), author_key=f"a{n}",
                               topic=topic)
    login(client, make_user(session, Role.curator, ["68"]).username, PASSWORD)
    get = client.get  # type: ignore[attr-defined]
    base = f"/api/v1/campaigns/{campaign.id}"
    groups = get(f"{base}/groups").json()
    assert groups["total"] == len(groups["items"]) >= 2 and groups["offset"] == 0
    roads = get(f"{base}/groups", params={"topic": "roads"}).json()["items"]
    assert roads and all(g["topic"] == "roads" for g in roads)
    members = get(f"{base}/questions", params={"group": roads[0]["key"]}).json()
    assert sorted(q["id"] for q in members["items"]) == sorted(roads[0]["question_ids"])
    assert all(q["topic"] == "roads" for q in members["items"])
    everything = get(f"{base}/questions").json()
    assert everything["total"] == 3 and everything["limit"] == 50
    second = get(f"{base}/questions", params={"limit": 1, "offset": 1}).json()
    assert second["items"] == everything["items"][1:2] and second["total"] == 3
    assert get(f"{base}/questions", params={"group": "no-such"}).json()["total"] == 0
    promises = get(f"{base}/promises", params={"state": "done"}).json()
    assert (promises["items"], promises["total"]) == ([], 0)
