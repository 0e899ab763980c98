"""Browser fixtures: a live Otklik on a fresh SQLite database and Debian's Chromium.

The database is built the way tests/conftest.py builds one (Alembic, reference data), then
filled through the services with users and cases and committed, because the server runs in
its own thread with its own sessions. Chromium is Debian's (``apt-get install chromium``),
never a browser that Playwright downloads. Without it the tests fail, saying how to install
it: a silent skip would hide that the journeys never ran.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from otklik.accounts.schemas import UserCreate
from otklik.accounts.scope import Scope
from otklik.accounts.service import actor_for, create_user
from otklik.audit.actor import Actor
from otklik.cases import service
from otklik.cases.service import case_from_message
from otklik.channels.schemas import IncomingMessage, Source
from otklik.config import get_settings
from otklik.db.migrate import upgrade
from otklik.db.session import make_engine, reset_engine_cache
from otklik.intake.service import store_messages
from otklik.models.account import Role, User
from otklik.models.case import Case
from otklik.models.message import Message, MessageEnrichment
from otklik.models.organization import OrganizationKind
from otklik.organizations.repository import OrganizationRepository
from otklik.territories.repository import TerritoryRepository

CHROMIUM = os.environ.get("OTKLIK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
PASSWORD = "browser-journey-2026"
XSS_TEXT = ("Срочно! <script>alert('xss')</script><img src=x onerror=alert(1)> "
            "\u202eадрес задом наперёд\u202c, ул. Интернациональная 5")

pytestmark = pytest.mark.browser


@dataclass
class World:
    """What the journeys work with."""

    base_url: str
    database_url: str = ""
    cases: dict[str, int] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)
    organizations: dict[str, int] = field(default_factory=dict)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _message(session: Session, source_id: str, text: str, *, topic: str, subtopic: str | None,
             municipality_id: int | None, hours_ago: int, url: str | None = None) -> Case:
    store_messages(session, [IncomingMessage(
        source=Source.vk, source_id=source_id, text=text, author_id=f"id{source_id[-3:]}",
        author_name="Житель Мичуринска", url=url,
        created_at=datetime.now(UTC) - timedelta(hours=hours_ago), region="68")],
        enqueue=False)
    message = session.scalars(select(Message).where(Message.source_id == source_id)).one()
    if "<script>" in text:
        message.text = text  # intake strips markup; the page must be safe even without that
    enrichment = MessageEnrichment(
        message_id=message.id, relevant=True, kind="complaint", topic=topic, subtopic=subtopic,
        topic_confidence=0.72, sentiment="negative", urgency="normal", region_code="68",
        municipality_id=municipality_id, street="ул. Лаврова",
        result={"topic": {"code": topic, "name": topic, "confidence": 0.72},
                "explain": {"topic": {"matched": {topic: ["путепровод", "яма"]}}}})
    session.add(enrichment)
    session.flush()
    return case_from_message(session, Actor.system("browser-tests"), message, enrichment)


def _fill(session: Session, world: World) -> None:
    from otklik.demo.loader import load_organizations
    from otklik.territories.service import load_territories

    system = Actor.system("browser-tests")
    load_territories(session, system, ("68",))
    load_organizations(session, system)
    municipality = TerritoryRepository(session).by_key("68715")
    assert municipality is not None
    orgs = OrganizationRepository(session)
    michurinsk = orgs.page(Scope.system(), region_code="68", q="Мичуринска",
                           kind=OrganizationKind.municipal_admin, limit=1)[0][0]
    ministry = orgs.page(Scope.system(), region_code="68", kind=OrganizationKind.ministry,
                         limit=1)[0][0]
    world.organizations = {"michurinsk": michurinsk.id, "ministry": ministry.id}
    made = {
        "operator": (Role.operator, None), "moderator": (Role.operator, None),
        "executor": (Role.executor, michurinsk.id),
    }
    for name, (role, organization_id) in made.items():
        user = create_user(session, system, UserCreate(
            username=f"b_{name}", password=PASSWORD, role=role, region_codes=["68"],
            full_name=f"Тест {name}", organization_id=organization_id))
        world.users[name] = user.username
    road = _message(session, "wall-68_901", "На путепроводе по ул. Лаврова в Мичуринске "
                    "огромные ямы, машины бьют колёса. Когда отремонтируют?",
                    topic="waste", subtopic=None, municipality_id=municipality.id, hours_ago=3,
                    url="https://vk.com/wall-68_901")
    other = _message(session, "wall-68_902", "В селе Заворонежское не работает уличное "
                     "освещение на ул. Садовой уже месяц", topic="housing", subtopic=None,
                     municipality_id=municipality.id, hours_ago=5)
    operator = actor_for(session, session.get(User, _user_id(session, "b_operator")))
    service.route(session, operator, other, ministry.id)
    xss = _message(session, "wall-68_903", XSS_TEXT, topic="roads", subtopic=None,
                   municipality_id=municipality.id, hours_ago=1,
                   url="javascript:alert('link')")
    world.cases = {"road": road.id, "other": other.id, "xss": xss.id}


def _user_id(session: Session, username: str) -> int:
    return int(session.scalars(select(User.id).where(User.username == username)).one())


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A running server on a fresh database with users and cases; restored afterwards."""
    import uvicorn

    from otklik.app import create_app

    url = f"sqlite:///{(tmp_path_factory.mktemp('browser') / 'otklik.db').as_posix()}"
    upgrade(url)
    engine = make_engine(url)
    world = World(base_url="", database_url=url)
    with Session(engine) as session:
        _fill(session, world)
        session.commit()
    engine.dispose()
    saved = {k: os.environ.get(k) for k in ("OTKLIK_DATABASE_URL", "OTKLIK_ENV")}
    os.environ["OTKLIK_DATABASE_URL"] = url
    os.environ["OTKLIK_ENV"] = "test"
    get_settings.cache_clear()
    reset_engine_cache()
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the Otklik server did not start"
    world.base_url = f"http://127.0.0.1:{port}"
    try:
        yield world
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()
        reset_engine_cache()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright; a clear failure when it is missing."""
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: run `apt-get install -y "
                    "chromium` (as root; `make test` and .ci/run do it) or set "
                    "OTKLIK_CHROMIUM to its path", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is not installed: pip install -e '.[test]'", pytrace=False)
    path = CHROMIUM if Path(CHROMIUM).exists() else str(shutil.which("chromium"))
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any, world: World) -> Iterator[Any]:
    """A fresh browser context (its own cookies) at 1366×768, with dialogs recorded."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="ru-RU",
                                  base_url=world.base_url)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    tab.dialogs = []  # type: ignore[attr-defined]
    tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message),  # type: ignore[attr-defined]
                                     dialog.dismiss()))
    yield tab
    context.close()


def log_in(page: Any, world: World, who: str) -> None:
    """Log in through the form as one of the world's users."""
    page.goto("/login")
    page.get_by_label("Логин").fill(world.users[who])
    page.get_by_label("Пароль").fill(PASSWORD)
    page.get_by_role("button", name="Войти").click()
    page.wait_for_selector('[data-testid="current-user"]')
