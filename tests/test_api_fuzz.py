"""Property-based run of the whole API (schemathesis over the app's own OpenAPI).

Every operation gets generated requests, inside and outside its documented schema, sent in
process to the app with an admin API token, on a small seeded database of its own (committed,
as in production: one unit of work per request). No request may end in a server error, and
every response must be one the OpenAPI documents (status, content type, body shape): the
error bodies included, so clients and fuzzers can rely on them.

The run is bounded (a few examples per operation, no deadline) and derandomized, so it is the
same run every time; operations that destroy what the run relies on run last or not at all.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session
from tests.conftest import BACKENDS, migrated_database

from otklik.app import create_app
from otklik.config import Settings, get_settings
from otklik.db.session import make_engine, reset_engine_cache

#: Examples per operation and phase; with the coverage phase's boundary values this is about
#: a thousand requests in all, well under a minute per database.
MAX_EXAMPLES = int(os.environ.get("OTKLIK_FUZZ_EXAMPLES", "8"))

#: Left out, and why: revoking tokens would revoke the run's own credential (every later
#: request a 401, nothing tested); logging out and in touches only the cookie session.
EXCLUDED = {
    ("DELETE", "/api/v1/tokens/{token_id}"),
    ("POST", "/api/v1/auth/logout"),
}


def _seed(session: Session) -> str:
    """Territories and organizations of one region, an admin with a token, messages, cases,
    a problem, a decision, a calendar correction and a push connector; returns the token."""
    from otklik.accounts.schemas import TokenCreate, UserCreate
    from otklik.accounts.scope import PERMISSIONS
    from otklik.accounts.service import TOKEN_SCOPES, actor_for, create_token, create_user
    from otklik.audit.actor import Actor
    from otklik.cases import admin
    from otklik.cases.schemas import CalendarExceptionCreate
    from otklik.cases.service import case_from_message
    from otklik.channels import service as connectors_service
    from otklik.channels.schemas import IncomingMessage, Source
    from otklik.decisions import service as decisions
    from otklik.decisions.schemas import DecisionCreate
    from otklik.demo.loader import load_organizations
    from otklik.intake.service import store_messages
    from otklik.models.account import Role
    from otklik.models.message import Message, MessageEnrichment
    from otklik.territories.service import load_territories

    system = Actor.system("fuzz")
    load_territories(session, system, ("68",))
    load_organizations(session, system)
    user = create_user(session, system, UserCreate(
        username="fuzz_admin", password="correct horse battery", role=Role.admin,
        all_regions=True))
    actor = actor_for(session, user)
    _, token = create_token(session, actor, TokenCreate(
        name="fuzz", scopes=sorted(TOKEN_SCOPES & PERMISSIONS[Role.admin])))
    now = datetime.now(UTC)
    texts = ["На путепроводе на ул. Лаврова огромные ямы", "Нет горячей воды в доме 5",
             "Не вывозят мусор с контейнерной площадки"]
    store_messages(session, [
        IncomingMessage(source=Source.vk, source_id=f"fuzz-{n}", text=text, region="68",
                        created_at=now - timedelta(hours=n + 1), author_id=f"id{n}")
        for n, text in enumerate(texts)], enqueue=False)
    for n, message in enumerate(session.query(Message).order_by(Message.id)):
        enrichment = MessageEnrichment(
            message_id=message.id, relevant=True, kind="complaint",
            topic=["roads", "housing", "waste"][n % 3], topic_confidence=0.9,
            sentiment="negative", urgency="normal", region_code="68", result={})
        session.add(enrichment)
        session.flush()
        case_from_message(session, system, message, enrichment)
    decisions.create_decision(session, actor, DecisionCreate(
        region_code="68", title="Ремонт путепровода", decided_on=now.date(),
        decided_by="Правительство области"))
    admin.add_calendar_exception(session, actor, CalendarExceptionCreate(
        region_code="68", day="2026-12-31", kind="holiday"))
    connectors_service.add_connector(session, actor, kind="vk", name="fuzz-vk", region_code="68",
                                     config={"access_token": "x", "group_id": 1,
                                             "callback_secret": "s3cret"})
    return token


@pytest.fixture(scope="module", params=BACKENDS)
def fuzz_token(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[str]:
    """A private seeded database the app's requests commit to; an admin API token for it."""
    from otklik.queue import broker

    with migrated_database(request.param, tmp_path_factory, "fuzz") as url, \
            pytest.MonkeyPatch.context() as patch:
        patch.setenv("OTKLIK_DATABASE_URL", url)
        # the fuzzer fires hundreds of requests with one token: lift the key's rate limit
        # (tests/accounts/test_apikeys.py tests the limit itself)
        patch.setenv("OTKLIK_API_KEY_RATE_PER_MINUTE", "100000")
        patch.setenv("OTKLIK_API_KEY_BURST", "100000")
        get_settings.cache_clear()
        reset_engine_cache()
        engine = make_engine(url)
        with Session(engine) as session:
            token = _seed(session)
            session.commit()
        engine.dispose()
        try:
            yield token
        finally:
            broker.flush_all()  # the run's enrichment jobs belong to this database only
            get_settings.cache_clear()
            reset_engine_cache()


#: The app as served; its requests use the configured database (the fixture's).
APP = create_app(Settings(env="test"))  # type: ignore[arg-type]
schema = schemathesis.openapi.from_asgi("/api/openapi.json", APP)
FUZZ_SETTINGS = settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None,
                         database=None, suppress_health_check=list(HealthCheck))
CHECKS = [content_type_conformance, response_schema_conformance, status_code_conformance]


def _call(case: Any, token: str) -> None:
    if (case.method.upper(), case.path) in EXCLUDED:
        return
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} answered {response.status_code}:\n"
        f"{case.as_curl_command()}\n{response.text[:2000]}")
    case.validate_response(response, checks=CHECKS)


@schema.exclude(method="DELETE").parametrize()
@FUZZ_SETTINGS
def test_no_operation_fails_or_breaks_its_schema(case: Any, fuzz_token: str) -> None:
    """Reads and writes: never a 5xx; every answer as the OpenAPI documents it."""
    _call(case, fuzz_token)


@schema.include(method="DELETE").parametrize()
@FUZZ_SETTINGS
def test_deletions_neither_fail_nor_break_their_schema(case: Any, fuzz_token: str) -> None:
    """Deletions run after everything else, so they do not empty what the others read."""
    _call(case, fuzz_token)
