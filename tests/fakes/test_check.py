"""The check service (POST /api/v1/check) and the Telegram bot against a local Bot API stub
(SQLite and PostgreSQL): the refutation for a known fake, "sent for checking" otherwise (the
text becomes a suspect, no asker kept), bad input, the rate limit, the pages and their scope."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.builders import PASSWORD, make_user
from tests.conftest import login
from tests.intake.stubs.http_stub import Recorded, StubResponse, StubServer

from otklik.audit.actor import Actor
from otklik.channels import service as connectors_service
from otklik.fakes import bot, check
from otklik.models.account import Role
from otklik.models.fakes import Fake, FakeSuspect
from otklik.models.message import Message
from otklik.ratelimit import RateLimiter, RedisRateLimiter

from .conftest import CLAIM, REFUTATION

COPY = ("Соседка переслала: в Элисте вода заражена кишечной палочкой, сточные воды попали в "
        "водопровод, не пейте из крана до пятницы! Что делать?")
UNKNOWN = "В Кетченерах завтра отключат свет на неделю во всех домах, запасайтесь свечами"


def test_the_check_endpoint_returns_the_refutation(
        client: Any, make_fake: Callable[..., Fake]) -> None:
    fake = make_fake(refuted=True)
    answer = client.post("/api/v1/check", json={"text": COPY})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["verdict"] == "refuted" and body["fake_id"] == fake.id
    assert body["refutation"] == REFUTATION
    assert body["source_url"] == "https://r08.gov.ru/press/1"


def test_an_unknown_text_is_sent_for_checking_and_no_asker_is_kept(
        client: Any, session: Session, make_fake: Callable[..., Fake]) -> None:
    make_fake(refuted=True)
    for _ in range(2):
        body = client.post("/api/v1/check", json={"text": UNKNOWN}).json()
        assert body["verdict"] == "not_in_registry" and body["fake_id"] is None
        assert "передали его на проверку" in body["message"]
    suspect = session.scalars(select(FakeSuspect)).one()
    assert suspect.source == "check" and suspect.asked == 2 and suspect.message_id is None
    assert not any("127.0.0.1" in str(v) or "testclient" in str(v)
                   for v in (suspect.text, suspect.reasons))
    assert set(body) == {"verdict", "message", "fake_id", "claim", "status", "refutation",
                         "source_url", "refutation_date", "score"}  # nothing about askers


def test_a_fake_without_an_approved_refutation_is_being_checked(
        client: Any, make_fake: Callable[..., Fake]) -> None:
    make_fake(refuted=False)
    body = client.post("/api/v1/check", json={"text": COPY}).json()
    assert body["verdict"] == "in_registry" and body["refutation"] is None


def test_a_link_to_a_stored_post_is_checked_and_an_unreadable_one_is_a_clear_error(
        client: Any, make_fake: Callable[..., Fake], make_message: Callable[..., Message]
        ) -> None:
    make_fake(refuted=True)
    make_message(COPY, url="https://t.me/elista_insider/77")
    body = client.post("/api/v1/check", json={"url": "https://t.me/elista_insider/77/"}).json()
    assert body["verdict"] == "refuted"
    for url in ("https://t.me/nowhere/1", "javascript:alert(1)", "t.me/x"):
        answer = client.post("/api/v1/check", json={"url": url})
        assert answer.status_code == 400 and "cannot be read" in answer.json()["detail"]


@pytest.mark.parametrize("payload", [
    {}, {"text": ""}, {"text": "   "}, {"text": "\x00\x01\x02\x03"}, {"text": "😱😱😱 !!! 123"},
    {"text": "вода " * 5000}, {"url": ""}, {"text": 5},
])
def test_bad_input_is_a_clear_error_never_a_crash(client: Any, payload: dict[str, Any]
                                                  ) -> None:
    answer = client.post("/api/v1/check", json=payload)
    assert answer.status_code in (400, 422), answer.text
    assert answer.json()["detail"]


def test_the_rate_limit_holds_each_client(client: Any) -> None:
    check.set_limiter(RateLimiter(limit=3, window=3600))
    codes = [client.post("/api/v1/check", json={"text": UNKNOWN}).status_code
             for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    limiter = RateLimiter(limit=1, window=3600)
    assert limiter.allow("a") and not limiter.allow("a") and limiter.allow("b")


def test_the_redis_limiter_shares_one_count() -> None:
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/15").ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    key = f"test-{id(object())}"
    first = RedisRateLimiter("redis://127.0.0.1:6379/15", limit=2, window=3600)
    second = RedisRateLimiter("redis://127.0.0.1:6379/15", limit=2, window=3600)
    assert first.allow(key) and second.allow(key) and not first.allow(key)


@pytest.fixture
def bot_api() -> Iterator[StubServer]:
    with StubServer() as server:
        yield server


def _update(update_id: int, text: str, **extra: Any) -> dict[str, Any]:
    return {"update_id": update_id, "message": {
        "message_id": 100 + update_id, "date": 1_765_000_000, "text": text,
        "chat": {"id": 555, "type": "private"}, "from": {"id": 555, "first_name": "Житель"},
        **extra}}


def test_the_bot_answers_check_and_forwarded_posts_with_the_refutation(
        session: Session, bot_api: StubServer, make_fake: Callable[..., Fake]) -> None:
    make_fake(refuted=True)
    token = "123:ABC"
    bot_api.script(f"/bot{token}/getUpdates", StubResponse({"ok": True, "result": [
        _update(1, f"/check {COPY}"),
        _update(2, COPY, forward_origin={"type": "channel", "chat": {"id": -100}}),
        _update(3, "/start"),
        _update(4, UNKNOWN)]}), StubResponse({"ok": True, "result": []}))
    sent: list[dict[str, Any]] = []

    def reply(request: Recorded) -> StubResponse:
        sent.append(request.json)
        return StubResponse({"ok": True, "result": {"message_id": 900 + len(sent)}})

    bot_api.script(f"/bot{token}/sendMessage", reply)
    connectors_service.add_connector(
        session, Actor.system(), kind="telegram", name="fakes-bot", region_code="85",
        config={"bot_token": token, "base_url": bot_api.url})
    run = bot.poll_once(session, "fakes-bot")
    assert (run.updates, run.answered, run.refuted, run.errors) == (4, 4, 2, 0)
    assert REFUTATION in sent[0]["text"] and REFUTATION in sent[1]["text"]
    assert sent[0]["reply_parameters"]["message_id"] == 101 and sent[0]["chat_id"] == 555
    assert "/check" in sent[2]["text"]  # the help
    assert "нет в реестре" in sent[3]["text"]
    row = bot.bot_connector(session, "fakes-bot")
    assert row.cursor["offset"] == 5
    again = bot.poll_once(session, "fakes-bot")
    assert again.updates == 0 and bot_api.calls(f"/bot{token}/getUpdates")[-1].json[
        "offset"] == 5


def test_the_registry_pages_four_eyes_and_scope(
        client: Any, session: Session, make_fake: Callable[..., Fake]) -> None:
    fake = make_fake(refuted=False)
    writer = make_user(session, Role.analyst, ["85"])
    csrf = login(client, writer.username, PASSWORD)
    assert client.get("/fakes").status_code == 200
    page = client.get(f"/fakes/{fake.id}")
    assert page.status_code == 200 and "fake-chart" in page.text
    for path in ("/fakes/suspects", "/fakes/analytics", "/api/v1/fakes/analytics.xlsx"):
        assert client.get(path).status_code == 200, path
    made = client.post("/fakes/new", data={"csrf": csrf, "region_code": "85",
                                           "claim": "В Элисте закрывают все школы с понедельника"},
                       follow_redirects=False)
    assert made.status_code == 303
    new_id = int(made.headers["location"].rsplit("/", 1)[1])
    client.post(f"/fakes/{new_id}", data={
        "csrf": csrf, "action": "refutation", "text": REFUTATION,
        "source_url": "https://r08.gov.ru/press/9", "refutation_date": "2026-12-01"})
    client.post(f"/fakes/{new_id}", data={"csrf": csrf, "action": "submit"})
    client.post(f"/fakes/{new_id}", data={"csrf": csrf, "action": "approve"})
    assert session.get(Fake, new_id).refutation_state == "on_approval"  # not by its author
    refused = client.post(f"/fakes/{new_id}", data={"csrf": "wrong", "action": "submit"})
    assert refused.status_code in (400, 403)
    api = client.get(f"/api/v1/fakes/{new_id}/history").json()
    assert [h["action"] for h in api["items"]][:2] == ["refutation.submit", "refutation.draft"]
    first = client.get(f"/api/v1/fakes/{new_id}/history?limit=1&offset=1").json()
    assert first["total"] == api["total"] >= 2 and first["items"] == api["items"][1:2]
    outsider = make_user(session, Role.analyst, ["68"])
    client.post("/logout", data={"csrf": csrf})
    login(client, outsider.username, PASSWORD)
    assert client.get(f"/fakes/{fake.id}").status_code == 404
    assert client.get(f"/api/v1/fakes/{fake.id}").status_code == 404
    assert client.get(f"/api/v1/fakes/{fake.id}/copies").status_code == 404


def test_the_public_myth_page_needs_no_login(client: Any, make_fake: Callable[..., Fake]
                                             ) -> None:
    refuted = make_fake(refuted=True)
    pending = make_fake(claim="С понедельника в Элисте закрывают все школы на карантин",
                        refuted=False)
    page = client.get("/myths")
    assert page.status_code == 200
    assert f'data-fake-id="{refuted.id}"' in page.text and REFUTATION in page.text
    assert f'data-fake-id="{pending.id}"' not in page.text
    assert CLAIM[:30] in page.text
    assert client.get("/fakes", follow_redirects=False).status_code in (302, 303, 401)


def test_the_bot_webhook_answers_a_pushed_update_and_refuses_a_forged_one(
        client: Any, session: Session, bot_api: StubServer,
        make_fake: Callable[..., Fake]) -> None:
    make_fake(refuted=True)
    token = "456:DEF"
    sent: list[dict[str, Any]] = []

    def reply(request: Recorded) -> StubResponse:
        sent.append(request.json)
        return StubResponse({"ok": True, "result": {"message_id": 1}})

    bot_api.script(f"/bot{token}/sendMessage", reply)
    connectors_service.add_connector(
        session, Actor.system(), kind="telegram", name="fakes-hook", region_code="85",
        config={"bot_token": token, "base_url": bot_api.url, "webhook_secret": "s3cret"})
    update = _update(7, f"/check {COPY}")
    forged = client.post("/api/v1/fakes-bot/fakes-hook", json=update,
                         headers={"X-Telegram-Bot-Api-Secret-Token": "guess"})
    assert forged.status_code == 403 and sent == []
    pushed = client.post("/api/v1/fakes-bot/fakes-hook", json=update,
                         headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"})
    assert pushed.status_code == 200 and REFUTATION in sent[0]["text"]
    broken = client.post("/api/v1/fakes-bot/fakes-hook", content=b"\xff{",
                         headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"})
    assert broken.status_code == 400
    assert client.post("/api/v1/fakes-bot/nobody", json=update).status_code == 404


def test_a_residents_text_without_a_place_reaches_the_regions_analysts(
        client: Any, session: Session, people: dict[str, Actor]) -> None:
    from otklik.fakes import service

    assert client.post("/api/v1/check", json={"text": UNKNOWN}).json()["verdict"] == \
        "not_in_registry"
    suspect = service.suspects(session, people["tambov"])[0][0]
    assert suspect.region_code is None and suspect.source == "check"
    fake = service.promote_suspect(session, people["tambov"], suspect.id, "68")
    assert fake.region_code == "68" and fake.claim == UNKNOWN
    assert service.suspects(session, people["writer"])[0] == []  # promoted: off the list
