"""Candidate pages of an organization proposed from the monitored stream by name: channels
not yet in the registry whose names carry the organization's words — in the service, on the
registry screen and in ``otklik publics candidates``."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session
from tests.builders import PASSWORD, make_user
from tests.conftest import login

from otklik.audit.actor import Actor
from otklik.channels.schemas import IncomingMessage, Source
from otklik.intake.service import store_messages
from otklik.models.account import Role
from otklik.publics import service

from .builders import a_page

SCHOOL = "МБОУ «Средняя школа №5», г. Мичуринск"


def _stream(session: Session) -> None:
    registered = a_page(session, name="Средняя школа №5 Мичуринск (в реестре)")
    channels = (
        (Source.vk, "-5550001", "Средняя школа №5 Мичуринск", 3),
        (Source.vk, "-5550002", "Подслушано Мичуринск", 5),
        (Source.telegram, "-1001555000003", "Школа №5 Мичуринск: родители", 1),
        (Source.vk, registered.external_id, "Средняя школа №5 Мичуринск", 2),
        (Source.vk, "-5550004", "Средняя школа №5 Мичуринск", 1),
    )
    items = []
    for k, (source, owner, channel, count) in enumerate(channels):
        region = "36" if owner == "-5550004" else "68"
        for n in range(count):
            items.append(IncomingMessage(
                source=source, source_id=f"cand-{k}-{n}", owner_id=owner, post_id=str(n + 1),
                author_id=str(1000 + n), text="Когда откроют спортзал?",
                created_at=datetime(2026, 11, 24, 10, n, tzinfo=UTC), region=region,
                channel=channel))
    store_messages(session, items, enqueue=False)


def test_the_streams_channels_named_like_an_organization_are_proposed(session: Session
                                                                      ) -> None:
    _stream(session)
    found = service.propose_candidates(session, Actor.system("tests"), SCHOOL, "68")

    # Every word of the name ("средняя", "школа", "5", "мичуринск") or most of them; the
    # page already in the registry and the other region's channel are left out.
    assert [(c.platform, c.external_id) for c in found] == [
        ("vk", "-5550001"), ("telegram", "-1001555000003")]
    assert found[0].messages == 3 and found[0].link == "https://vk.com/club5550001"
    assert found[1].link is None
    assert service.propose_candidates(session, Actor.system("tests"), "МБОУ СОШ", "68") == []


def test_the_registry_screen_proposes_candidates(client, session: Session
                                                 ) -> None:  # type: ignore[no-untyped-def]
    _stream(session)
    analyst = make_user(session, Role.analyst, ["68"])
    login(client, analyst.username, PASSWORD)

    page = client.get("/publics/registry", params={"region_code": "68",
                                                   "candidates_for": SCHOOL})
    assert page.status_code == 200
    assert 'data-candidate="vk:-5550001"' in page.text
    assert 'data-candidate="vk:-5550002"' not in page.text
    assert "https://vk.com/club5550001" in page.text
    none = client.get("/publics/registry", params={"candidates_for": "Областная филармония"})
    assert "Похожих каналов в потоке нет." in none.text
