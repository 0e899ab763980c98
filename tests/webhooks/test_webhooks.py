"""Integrators' webhooks against a real receiver on 127.0.0.1 (SQLite and PostgreSQL): the API
(token scope ``webhooks``), case.created … case.overdue delivered with valid signatures (the
docs' own verification example checks one), a failing receiver switched off after N failures
and switched back on by an admin, a hanging receiver delaying nobody else."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.conftest import own_database
from tests.notify import stubs, world

from otklik import events
from otklik.app import create_app
from otklik.db.base import utcnow
from otklik.db.session import session_scope
from otklik.events import CaseAnswered, CaseClosed, CaseCreated, CaseOverdue, CaseRouted
from otklik.models.account import Role
from otklik.models.notify import Delivery
from otklik.models.webhooks import WebhookSubscription
from otklik.notify.delivery import requeue_due
from otklik.webhooks import schemas
from otklik.webhooks import stats as webhook_stats  # noqa: F401  (registers the counts)

own_url = own_database("webhooks")
DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
ALL = ["case.created", "case.routed", "case.answered", "case.closed", "case.overdue"]


class Api:
    """The app with an admin's token."""

    def __init__(self, token: str) -> None:
        self.client = TestClient(create_app())
        self.headers = {"Authorization": f"Bearer {token}"}

    def __call__(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.client.request(method, path, headers=self.headers, **kwargs)


@pytest.fixture
def env(own_url: str, monkeypatch: pytest.MonkeyPatch
        ) -> Iterator[tuple[stubs.WebhookReceiver, Api, int]]:
    receiver = stubs.WebhookReceiver()
    with receiver, world.world(own_url, monkeypatch):
        stubs.use_bot(monkeypatch, "http://127.0.0.1:9")  # no Telegram here
        monkeypatch.setenv("OTKLIK_WEBHOOKS_DISABLE_AFTER", "3")
        with session_scope() as session:
            admin = world.person(session, "integrator", Role.admin, all_regions=True)
            token = world.token(session, admin, ["webhooks", "admin"])
            org = world.organization(session)
            case_id = world.case(session, org.id).id
        yield receiver, Api(token), case_id


def _subscribe(receiver: stubs.WebhookReceiver, api: Api, path: str,
               events_: list[str] | None = None) -> dict[str, Any]:
    answer = api("POST", "/api/v1/webhooks", json={
        "name": path, "url": receiver.url + path, "region_code": world.REGION,
        "events": events_ or ALL})
    assert answer.status_code == 201, answer.text
    created = answer.json()
    receiver.secrets[path] = created["secret"]
    return created


def _announce_all(case_id: int) -> None:
    with session_scope() as session:
        for event in (CaseCreated(case_id=case_id),
                      CaseRouted(case_id=case_id, executor_id=1, reason="rule"),
                      CaseAnswered(case_id=case_id, answer_id=5),
                      CaseClosed(case_id=case_id, reason="close"),
                      CaseOverdue(case_id=case_id, level=2)):
            events.announce(session, event)
    stubs.settle()


def _docs_verify() -> Any:
    code = re.search(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    assert code, "docs/webhooks.md has its Python example"
    namespace: dict[str, Any] = {}
    exec(code.group(1), namespace)  # noqa: S102 - the documentation's own example
    return namespace["verify"]


def test_api_needs_the_webhooks_scope(env: tuple[stubs.WebhookReceiver, Api, int]) -> None:
    receiver, api, _ = env
    with session_scope() as session:
        reader = world.person(session, "reader", Role.admin, all_regions=True)
        read_only = Api(world.token(session, reader, ["read"]))
    assert read_only("GET", "/api/v1/webhooks").status_code == 403
    created = _subscribe(receiver, api, "/a", ["case.created"])
    assert created["secret"].startswith("whsec_")
    listed = api("GET", "/api/v1/webhooks").json()
    assert [s["id"] for s in listed["items"]] == [created["id"]]
    assert "secret" not in listed["items"][0]  # shown once
    assert api("POST", "/api/v1/webhooks", json={
        "name": "x", "url": receiver.url, "events": ["case.exploded"]}).status_code == 400
    events = api("GET", "/api/v1/webhooks/events").json()
    assert {e["name"] for e in events["items"]} == set(ALL) and events["total"] == len(ALL)
    schema = api("GET", "/api/openapi.json").json()
    assert {"case.created", "case.overdue"} <= set(schema["webhooks"])


def test_case_events_arrive_signed(env: tuple[stubs.WebhookReceiver, Api, int]) -> None:
    receiver, api, case_id = env
    sub = _subscribe(receiver, api, "/portal")
    _subscribe(receiver, api, "/closed-only", ["case.closed"])
    _announce_all(case_id)
    got = receiver.at("/portal")
    assert sorted(r["json"]["event"] for r in got) == sorted(ALL)
    assert all(r["valid"] for r in got)
    verify = _docs_verify()
    assert all(verify(sub["secret"], r["body"], r["header"]) for r in got)
    assert not verify("another-secret", got[0]["body"], got[0]["header"])
    models = {"case.created": schemas.CaseCreatedPayload,
              "case.routed": schemas.CaseRoutedPayload,
              "case.answered": schemas.CaseAnsweredPayload,
              "case.closed": schemas.CaseClosedPayload,
              "case.overdue": schemas.CaseOverduePayload}
    for r in got:
        payload = models[r["json"]["event"]].model_validate(r["json"])
        assert payload.data.id == case_id and payload.data.region_code == world.REGION
        assert r["headers"]["X-Otklik-Event"] == payload.event
    assert [r["json"]["event"] for r in receiver.at("/closed-only")] == ["case.closed"]
    # A repeated event (a retried consumer) is not delivered twice.
    with session_scope() as session:
        events.announce(session, CaseCreated(case_id=case_id))
    stubs.settle()
    assert len(receiver.at("/portal")) == 5
    log = api("GET", f"/api/v1/webhooks/{sub['id']}/deliveries").json()
    assert log["total"] == 5 and {d["tries"][0]["status_code"] for d in log["items"]} == {200}
    from otklik.ops import stats as ops_stats

    with session_scope() as session:
        counts = ops_stats.collect(session)
    assert counts["webhook_deliveries"] == 6 and counts["webhook_subscriptions"] == 2


def test_failing_receiver_is_switched_off_and_back_on(
        env: tuple[stubs.WebhookReceiver, Api, int]) -> None:
    receiver, api, case_id = env
    sub = _subscribe(receiver, api, "/fail", ["case.created", "case.closed"])
    with session_scope() as session:
        events.announce(session, CaseCreated(case_id=case_id))
    stubs.settle()
    waits = [_next_wait(sub["id"])]
    for minutes in (5, 15):  # the retries, as the tick sends them once due
        with session_scope() as session:
            assert requeue_due(session, utcnow() + timedelta(minutes=minutes)) == 1
        stubs.settle()
        waits.append(_next_wait(sub["id"]))
    # Back-off: 30 s after the first failure, 60 s after the second; none after the last.
    assert [round(w.total_seconds() / 10) * 10 if w else None for w in waits] == [30, 60, None]
    assert len(receiver.at("/fail")) == 3 and all(r["valid"] for r in receiver.at("/fail"))
    state = api("GET", f"/api/v1/webhooks/{sub['id']}").json()
    assert state["is_active"] is False and "3 failed attempts" in state["disabled_reason"]
    log = api("GET", f"/api/v1/webhooks/{sub['id']}/deliveries").json()["items"]
    assert [t["status_code"] for t in log[0]["tries"]] == [500, 500, 500]
    assert log[0]["status"] == "failed"
    page = api("GET", "/admin/webhooks")
    assert page.status_code == 200 and 'data-active="no"' in page.text
    with session_scope() as session:  # switched off: a new event goes nowhere
        events.announce(session, CaseClosed(case_id=case_id, reason="close"))
    stubs.settle()
    assert len(receiver.at("/fail")) == 3

    back = api("PATCH", f"/api/v1/webhooks/{sub['id']}", json={"is_active": True})
    assert back.status_code == 200
    assert (back.json()["is_active"], back.json()["consecutive_failures"]) == (True, 0)
    with session_scope() as session:
        events.announce(session, CaseClosed(case_id=case_id, reason="merge"))
    stubs.settle()
    assert len(receiver.at("/fail")) == 4


def _next_wait(subscription_id: int) -> timedelta | None:
    """How long after now the subscription's delivery is due again (None: not again)."""
    with session_scope() as session:
        row = session.scalars(select(Delivery).where(
            Delivery.source_id == subscription_id)).one()
        if row.status != "pending" or row.next_attempt_at is None:
            return None
        return row.next_attempt_at - utcnow()


def test_a_hanging_or_failing_receiver_delays_nobody(env: tuple[stubs.WebhookReceiver, Api, int],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    receiver, api, case_id = env
    monkeypatch.setenv("OTKLIK_NOTIFY_TIMEOUT", "1")
    from otklik.notify.settings import get_notify_settings

    get_notify_settings.cache_clear()
    receiver.hang = threading.Event()
    slow = _subscribe(receiver, api, "/slow", ["case.created"])
    failing = _subscribe(receiver, api, "/fail-500", ["case.created"])
    _subscribe(receiver, api, "/ok", ["case.created"])
    try:
        with session_scope() as session:
            events.announce(session, CaseCreated(case_id=case_id))
        stubs.settle()  # returns although /slow never answers: its attempt timed out
        assert [r["valid"] for r in receiver.at("/ok")] == [True]
        assert len(receiver.at("/fail-500")) == 1  # answered 500: kept for a retry
        with session_scope() as session:
            row = session.scalars(select(Delivery).where(
                Delivery.source_id == failing["id"])).one()
            assert row.status == "pending" and row.next_attempt_at is not None
        with session_scope() as session:
            row = session.scalars(select(Delivery).where(
                Delivery.source_id == slow["id"])).one()
            assert row.status == "pending" and "no answer within 1 s" in row.last_error
            sub = session.get(WebhookSubscription, slow["id"])
            assert sub is not None and sub.consecutive_failures == 1
    finally:
        receiver.hang.set()


def test_no_subscription_queues_no_webhook_job(env: tuple[stubs.WebhookReceiver, Api, int]
                                               ) -> None:
    """A case event costs no webhook job while nobody subscribes; once a subscription is on,
    the next transaction's events reach it."""
    from otklik.queue import pending_mark

    receiver, api, case_id = env

    def queued_webhook_jobs() -> list[str]:
        with session_scope() as session:
            events.announce(session, CaseCreated(case_id=case_id))
            names = [job.actor_name for job, _ in session.info.get("otklik_pending_jobs", [])]
            assert pending_mark(session) == len(names)
        return [n for n in names if n.startswith("webhook_")]

    assert queued_webhook_jobs() == []
    from otklik.webhooks.service import anyone_listening

    with session_scope() as session:  # a subscription written and flushed in the same
        assert anyone_listening(session) is False  # transaction is seen at once
        session.add(WebhookSubscription(name="same", url=receiver.url + "/same",
                                        events=["case.created"], secret="s" * 32))
        session.flush()
        assert anyone_listening(session) is True
        session.rollback()
    _subscribe(receiver, api, "/late")
    assert queued_webhook_jobs() == ["webhook_case_created"]
    stubs.settle()
    assert [r["json"]["event"] for r in receiver.at("/late")] == ["case.created"]


def test_the_guard_looks_through_pending_rows_only_once_a_subscription_is_in_the_session(
        env: tuple[stubs.WebhookReceiver, Api, int], monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch announces an event per case over hundreds of pending rows: the guard does not
    look through them while no subscription was added to or loaded into the session; an
    unflushed edit of a loaded subscription is still seen by the next announcement."""
    from otklik.webhooks import service

    receiver, api, case_id = env
    scans: list[int] = []
    scan = service._subscription_written
    monkeypatch.setattr(service, "_subscription_written",
                        lambda session: scans.append(1) or scan(session))
    with session_scope() as session:
        for n in range(50):
            session.add(Delivery(channel="webhook", target="x", source="webhook", source_id=n,
                                 event="case.created", dedup_key=f"guard-{n}"))
            assert service.anyone_listening(session) is False
        assert scans == []
        session.rollback()
    sub_id = _subscribe(receiver, api, "/guard")["id"]
    with session_scope() as session:
        sub = session.get(WebhookSubscription, sub_id)
        assert sub is not None and service.anyone_listening(session) is True
        sub.is_active = False  # not flushed: the guard sees it and asks again (autoflush)
        assert service.anyone_listening(session) is False
        assert scans
        session.rollback()


def test_the_guard_is_read_once_per_transaction_through_its_savepoints(
        env: tuple[stubs.WebhookReceiver, Api, int], monkeypatch: pytest.MonkeyPatch) -> None:
    """A SAVEPOINT released changes nothing the transaction sees: the guard is not read again
    after each (the demo plays each step of a case's life in one); a SAVEPOINT rolled back
    after a subscription was written inside it is forgotten."""
    from otklik.webhooks import service
    from otklik.webhooks.repository import WebhookRepository

    receiver, _, _ = env
    asked: list[int] = []
    ask = WebhookRepository.any_active
    monkeypatch.setattr(WebhookRepository, "any_active",
                        lambda self: asked.append(1) or ask(self))
    with session_scope() as session:
        assert service.anyone_listening(session) is False
        for _ in range(3):
            with session.begin_nested():
                assert service.anyone_listening(session) is False
        assert asked == [1]
        savepoint = session.begin_nested()
        session.add(WebhookSubscription(name="inner", url=receiver.url + "/inner",
                                        events=["case.created"], secret="s" * 32))
        session.flush()
        assert service.anyone_listening(session) is True
        savepoint.rollback()
        assert service.anyone_listening(session) is False
        session.rollback()


def test_an_integrators_key_manages_its_own_subscriptions(
        env: tuple[stubs.WebhookReceiver, Api, int]) -> None:
    """A key made by ``otklik apikey create --scope webhooks --region 85`` (no user behind
    it) subscribes, sees, changes and removes its own subscriptions, and no other key's."""
    from otklik.accounts import apikeys
    from otklik.audit.actor import Actor

    receiver, admin_api, case_id = env
    with session_scope() as session:
        _, first_secret = apikeys.create_key(session, Actor.system("tests"),
                                             scopes=["webhooks"], name="Портал",
                                             region=world.REGION)
        _, other_secret = apikeys.create_key(session, Actor.system("tests"),
                                             scopes=["webhooks"], name="Колл-центр",
                                             region=world.REGION)
    portal, other = Api(first_secret), Api(other_secret)
    created = portal("POST", "/api/v1/webhooks", json={
        "name": "portal", "url": receiver.url + "/key", "events": ["case.created"]})
    assert created.status_code == 201, created.text
    sub = created.json()
    assert sub["region_code"] == world.REGION
    receiver.secrets["/key"] = sub["secret"]
    assert [s["id"] for s in portal("GET", "/api/v1/webhooks").json()["items"]] == [sub["id"]]
    assert portal("GET", f"/api/v1/webhooks/{sub['id']}").status_code == 200
    assert other("GET", "/api/v1/webhooks").json()["items"] == []
    assert other("GET", f"/api/v1/webhooks/{sub['id']}").status_code == 404
    assert other("DELETE", f"/api/v1/webhooks/{sub['id']}").status_code == 404
    changed = portal("PATCH", f"/api/v1/webhooks/{sub['id']}",
                     json={"events": ["case.created", "case.closed"]})
    assert changed.status_code == 200 and changed.json()["events"] == ["case.closed",
                                                                       "case.created"]
    # The region's administrator sees it too (to switch it back on, for one).
    assert sub["id"] in [s["id"] for s in admin_api("GET", "/api/v1/webhooks").json()["items"]]
    with session_scope() as session:
        events.announce(session, CaseCreated(case_id=case_id))
    stubs.settle()
    assert [r["valid"] for r in receiver.at("/key")] == [True]
    assert portal("GET", f"/api/v1/webhooks/{sub['id']}/deliveries").json()["total"] == 1
    assert portal("DELETE", f"/api/v1/webhooks/{sub['id']}").status_code == 204


def test_a_revoked_key_hears_nothing_more(env: tuple[stubs.WebhookReceiver, Api, int]) -> None:
    """Revoking an integrator's key stops its subscriptions at once: new events are not
    queued for them and a delivery still waiting for a retry is not sent."""
    from otklik.accounts import apikeys
    from otklik.audit.actor import Actor

    receiver, _, case_id = env
    with session_scope() as session:
        row, secret = apikeys.create_key(session, Actor.system("tests"), scopes=["webhooks"],
                                         name="Портал", region=world.REGION)
        key_id = row.id
    portal = Api(secret)
    sub = portal("POST", "/api/v1/webhooks", json={
        "name": "p", "url": receiver.url + "/fail-then", "events": ["case.created",
                                                                     "case.closed"]}).json()
    receiver.secrets["/fail-then"] = sub["secret"]
    with session_scope() as session:
        events.announce(session, CaseCreated(case_id=case_id))
    stubs.settle()
    assert len(receiver.at("/fail-then")) == 1  # 500: a retry is due later
    with session_scope() as session:
        apikeys.revoke_key(session, Actor.system("tests"), key_id)
    with session_scope() as session:
        assert requeue_due(session, utcnow() + timedelta(minutes=5)) == 1
        events.announce(session, CaseClosed(case_id=case_id, reason="close"))
    stubs.settle()
    assert len(receiver.at("/fail-then")) == 1
    with session_scope() as session:
        rows = session.scalars(select(Delivery).where(Delivery.source_id == sub["id"])).all()
        assert [r.event for r in rows] == ["case.created"]
        assert "revoked" in (rows[0].last_error or "")
