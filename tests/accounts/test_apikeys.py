"""Integrators' API keys: ``otklik apikey create | list | revoke`` (the secret alone on the
last line, stored hashed), the key on the REST API within its region, the token buckets
(in process and in Redis)."""
# ruff: noqa: F811  (fixtures imported from tests/cases/conftest.py are parameters here)

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.cases.conftest import make_case, make_message  # noqa: F401
from tests.conftest import jobs_database, own_database
from typer.testing import CliRunner

from otklik.accounts import ratelimit
from otklik.accounts.security import hash_token
from otklik.accounts.service import authenticate_token
from otklik.cli import app
from otklik.errors import NotAuthenticated
from otklik.models.account import ApiToken
from otklik.models.case import Case

runner = CliRunner()
own_url = own_database("apikeys")


@pytest.fixture
def db(own_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    with jobs_database(own_url, monkeypatch) as engine:
        yield engine


def test_create_list_revoke_from_the_cli(db: Engine) -> None:
    from tests.conftest import _load_reference

    if not _regions_loaded(db):
        _load_reference(db)
    result = runner.invoke(app, ["apikey", "create", "--scope", "open311", "--scope", "read",
                                 "--name", "Портал Тамбова", "--region", "Тамбовская область"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert secret.startswith("otk_") and " " not in secret
    with Session(db) as session:
        row = session.scalars(select(ApiToken).where(ApiToken.name == "Портал Тамбова")).one()
        assert row.token_hash == hash_token(secret) and secret not in row.token_hash
        assert row.user_id is None and row.region_code == "68"
        assert row.scopes == ["open311", "read"]
        actor = authenticate_token(session, secret)
        assert actor.scope.can("open311") and actor.scope.can("read")
        assert not actor.scope.can("write") and not actor.scope.can("admin")
        assert actor.scope.sees_region("68") and not actor.scope.sees_region("86")
        key_id = row.id
    listed = runner.invoke(app, ["apikey", "list"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0 and "Портал Тамбова" in listed.output
    assert secret not in listed.output
    revoked = runner.invoke(app, ["apikey", "revoke", str(key_id)])
    assert revoked.exit_code == 0, revoked.output
    with Session(db) as session, pytest.raises(NotAuthenticated):
        authenticate_token(session, secret)
    for bad in (["apikey", "create", "--scope", "admin"],
                ["apikey", "create", "--scope", "open311", "--region", "Атлантида"],
                ["apikey", "revoke", "999999"]):
        failed = runner.invoke(app, bad)
        assert failed.exit_code == 2 and "Ошибка" in failed.output


def _regions_loaded(engine: Engine) -> bool:
    from otklik.models.territory import Territory

    with Session(engine) as session:
        return session.scalar(select(Territory.id).limit(1)) is not None


def test_the_key_reads_the_rest_api_within_its_region(client: object, session: Session) -> None:
    from otklik.accounts import apikeys
    from otklik.audit.actor import Actor

    _, secret = apikeys.create_key(session, Actor.system("t"), scopes=["read"], name="BI",
                                   region="68")
    session.flush()
    headers = {"authorization": f"Bearer {secret}"}
    ok = client.get("/api/v1/cases", headers=headers)  # type: ignore[attr-defined]
    assert ok.status_code == 200, ok.text
    denied = client.post("/api/v1/territories", json={},  # type: ignore[attr-defined]
                         headers=headers)
    assert denied.status_code in (403, 405, 422)


def test_the_memory_bucket_refills() -> None:
    bucket = ratelimit.MemoryBucket()
    key = uuid.uuid4().hex
    assert [bucket.take(key, 1000.0, 2)[0] for _ in range(3)] == [True, True, False]
    allowed, wait = bucket.take(key, 0.001, 2)
    assert not allowed and wait > 0


def test_the_redis_bucket_is_shared() -> None:
    try:
        first = ratelimit.RedisBucket("redis://127.0.0.1:6379/15")
        first.client.ping()
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"Redis at 127.0.0.1:6379 is needed for this test: {exc}")
    second = ratelimit.RedisBucket("redis://127.0.0.1:6379/15")
    key = uuid.uuid4().hex
    assert first.take(key, 0.01, 2)[0] and second.take(key, 0.01, 2)[0]
    allowed, wait = first.take(key, 0.01, 2)
    assert not allowed and wait > 1
    first.client.delete(f"otklik:ratelimit:{key}")


def test_the_admin_page_makes_lists_and_revokes_keys(client: object, session: Session) -> None:
    """/admin/apikeys: an administrator of a region makes a key for it (the secret shown once,
    on that answer only, never in the list), sees it listed and revokes it; the key then
    files nothing; an operator is refused the page."""
    import re

    from tests.builders import PASSWORD, make_user
    from tests.conftest import login

    from otklik.models.account import Role

    http: Any = client
    admin = make_user(session, Role.admin, ["68"])
    login(http, admin.username, PASSWORD)
    page = http.get("/admin/apikeys")
    assert page.status_code == 200 and 'value="open311" checked' in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    made = http.post("/admin/apikeys", data={"csrf": csrf[1], "name": "Городское приложение",
                                             "region": "68", "scopes": ["open311", "read"]})
    assert made.status_code == 200, made.text
    assert made.headers["cache-control"] == "no-store"
    shown = re.search(r'data-testid="new-key-secret">([^<]+)<', made.text)
    assert shown is not None and shown[1].startswith("otk_")
    secret = shown[1]
    row = session.scalars(select(ApiToken).where(ApiToken.name == "Городское приложение")).one()
    assert row.token_hash == hash_token(secret) and row.region_code == "68"
    assert row.scopes == ["open311", "read"] and row.user_id is None
    listed = http.get("/admin/apikeys")
    assert "Городское приложение" in listed.text and secret not in listed.text
    assert authenticate_token(session, secret).scope.can("open311")

    refused = http.post("/admin/apikeys", data={"csrf": csrf[1], "name": "x", "region": "68",
                                                "scopes": ["admin"]})
    assert refused.status_code == 400 and "unknown key scope" in refused.text
    no_csrf = http.post(f"/admin/apikeys/{row.id}/revoke", data={})
    assert no_csrf.status_code in (400, 403) and row.revoked_at is None

    revoked = http.post(f"/admin/apikeys/{row.id}/revoke", data={"csrf": csrf[1]},
                        follow_redirects=True)
    assert revoked.status_code == 200 and "Ключ отозван" in revoked.text
    session.refresh(row)
    assert row.revoked_at is not None
    with pytest.raises(NotAuthenticated):
        authenticate_token(session, secret)
    filed = http.post("/open311/v2/requests.json", data={
        "api_key": secret, "service_code": "roads", "description": "Яма на улице Лаврова",
        "jurisdiction_id": "68", "address_string": "Мичуринск, Лаврова, 5"})
    assert filed.status_code == 403 and "revoked" in filed.json()[0]["description"]

    operator = make_user(session, Role.operator, ["68"])
    http.post("/api/v1/auth/logout")
    login(http, operator.username, PASSWORD)
    assert http.get("/admin/apikeys").status_code == 403


def test_keys_with_write_and_webhooks_scopes_serve_the_rest_api(
        client: object, session: Session, make_case: Callable[..., Case]) -> None:
    """A ``write`` key corrects a case of its region (a ``read`` key may not; a case of
    another region does not exist for it); a ``webhooks`` key lists subscriptions and reads
    no case."""
    from otklik.accounts import apikeys
    from otklik.audit.actor import Actor

    http: Any = client
    system = Actor.system("t")
    keys = {scope: apikeys.create_key(session, system, scopes=[scope], name=scope,
                                      region="68")[1] for scope in ("read", "write", "webhooks")}
    ours, theirs = make_case(), make_case()
    theirs.region_code, theirs.municipality_id, theirs.settlement_id = "86", None, None
    session.flush()

    def call(scope: str, method: str, path: str, **kwargs: Any) -> Any:
        return http.request(method, path, headers={"authorization": f"Bearer {keys[scope]}"},
                            **kwargs)

    edit = {"changes": {"urgency": "high"}}
    assert call("read", "GET", f"/api/v1/cases/{ours.id}").status_code == 200
    assert call("read", "PATCH", f"/api/v1/cases/{ours.id}", json=edit).status_code == 403
    changed = call("write", "PATCH", f"/api/v1/cases/{ours.id}", json=edit)
    assert changed.status_code == 200, changed.text
    assert changed.json()["urgency"] == "high"
    assert call("write", "PATCH", f"/api/v1/cases/{theirs.id}", json=edit).status_code == 404
    assert call("webhooks", "GET", "/api/v1/webhooks").status_code == 200
    assert call("webhooks", "GET", f"/api/v1/cases/{ours.id}").status_code == 403
