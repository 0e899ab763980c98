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
