"""The request's unit of work commits before the response goes out (otklik.deps).

These tests use the real request session (no override) on a private database that commits.
"""

from collections.abc import Callable, Iterator
from itertools import count
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session
from tests.builders import PASSWORD
from tests.conftest import jobs_database, own_database

from otklik.accounts import service as accounts
from otklik.accounts.schemas import TokenCreate
from otklik.accounts.security import hash_password
from otklik.app import create_app
from otklik.config import Settings
from otklik.models.account import ApiToken, Role, User
from otklik.models.message import Message
from otklik.queue import broker

Event = str
_ids = count(1)


own_url = own_database("uow")


@pytest.fixture
def db(own_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The app and the test share the private database (its audit log is append-only, so
    each test makes its own user and messages instead of emptying it)."""
    with jobs_database(own_url, monkeypatch) as engine:
        yield engine


@pytest.fixture
def events() -> Iterator[list[Event]]:
    """What happened, in order: each commit of any session and each response start."""
    seen: list[Event] = []

    def committed(_session: Session) -> None:
        seen.append("commit")

    event.listen(Session, "after_commit", committed)
    yield seen
    event.remove(Session, "after_commit", committed)


@pytest.fixture
def client(db: Engine, events: list[Event]) -> Iterator[TestClient]:
    """A client of the app whose ASGI ``send`` notes when the response starts."""
    app = create_app(Settings(env="test"))  # type: ignore[call-arg]

    async def recording(scope: Any, receive: Any, send: Any) -> None:
        async def noting(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                events.append("response")
            await send(message)

        await app(scope, receive, noting)

    with TestClient(recording, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def failing_commit() -> Iterator[Callable[[], None]]:
    """Call it to make the next commit of any session fail, as a full disk would."""
    armed: list[bool] = []

    def refuse(_session: Session) -> None:
        if armed:
            armed.clear()
            raise RuntimeError("the disk is full")

    event.listen(Session, "before_commit", refuse)
    yield lambda: armed.append(True)
    event.remove(Session, "before_commit", refuse)


def _token(engine: Engine, scopes: list[str]) -> tuple[int, str]:
    """A user in Tambov and a token of theirs, committed."""
    with Session(engine) as session:
        user = User(username=f"uow-{next(_ids)}", password_hash=hash_password(PASSWORD),
                    role=Role.admin, region_codes=["68"])
        session.add(user)
        session.flush()
        row, token = accounts.create_token(session, accounts.actor_for(session, user),
                                           TokenCreate(name="uow", scopes=scopes))
        session.commit()
        return row.id, token


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def test_the_change_commits_before_the_response_and_the_next_request_sees_it(
        client: TestClient, db: Engine, events: list[Event]) -> None:
    token_id, token = _token(db, ["read", "tokens"])
    events.clear()
    revoked = client.delete(f"/api/v1/tokens/{token_id}", headers=_bearer(token))
    assert revoked.status_code == 200, revoked.text
    assert events == ["commit", "response"]
    assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 401


def test_a_failing_commit_is_an_error_for_the_client_never_a_200(
        client: TestClient, db: Engine, failing_commit: Callable[[], None]) -> None:
    token_id, token = _token(db, ["read", "tokens"])
    failing_commit()
    revoked = client.delete(f"/api/v1/tokens/{token_id}", headers=_bearer(token))
    assert revoked.status_code >= 500
    with Session(db) as session:
        row = session.get(ApiToken, token_id)
        assert row is not None and row.revoked_at is None
    assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 200


def test_jobs_go_out_after_the_commit_and_never_after_a_failed_one(
        client: TestClient, db: Engine, failing_commit: Callable[[], None]) -> None:
    _, token = _token(db, ["intake"])
    item = {"source_id": f"uow-{next(_ids)}", "text": "Не работает лифт в доме 7", "region": "68",
            "created_at": "2026-11-25T10:00:00+03:00"}

    def queued() -> int:
        # the audit sealer follows every real commit (the token's here): not the work's jobs
        return sum(queue.qsize() for name, queue in broker.queues.items() if name != "audit")

    failing_commit()
    failed = client.post("/api/v1/messages/batch", json=[item], headers=_bearer(token))
    assert failed.status_code >= 500
    assert queued() == 0
    with Session(db) as session:
        assert session.scalar(select(Message.id).where(
            Message.source_id == item["source_id"])) is None
    stored = client.post("/api/v1/messages/batch", json=[item], headers=_bearer(token))
    assert stored.status_code == 200 and stored.json()["stored"] == 1
    assert queued() == 1
    broker.flush_all()
