"""Shared fixtures: a migrated database per backend, one rolled-back transaction per test.

The schema is built with Alembic (not create_all). Every database test runs on SQLite and,
when ``OTKLIK_TEST_POSTGRES_URL`` is set, on PostgreSQL too.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

os.environ.setdefault("OTKLIK_ENV", "test")
os.environ["OTKLIK_BROKER_URL"] = "stub"  # jobs run only when a test drains the queue
# pytest-xdist's workers get COLUMNS=80, which Rich would fix as the width of the CLIs'
# consoles when they are imported; a test gives the width it wants to the command it runs.
for _fixed in ("COLUMNS", "LINES"):
    os.environ.pop(_fixed, None)

from tests.logscan import (  # noqa: E402, F401  (the whole run's logs are checked: tests/logscan.py)
    pytest_configure,
    pytest_runtest_logstart,
    pytest_sessionfinish,
    pytest_terminal_summary,
)

from otklik.config import get_settings  # noqa: E402
from otklik.db.migrate import upgrade  # noqa: E402
from otklik.db.session import make_engine, reset_engine_cache  # noqa: E402

POSTGRES_URL = os.environ.get("OTKLIK_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])
#: Regions loaded for tests: the five demo regions and Kursk (the evaluation data's region).
TEST_REGIONS = ("86", "68", "85", "36", "07", "38")


def _create_postgres_database() -> tuple[str, str]:
    assert POSTGRES_URL
    base = make_url(POSTGRES_URL)
    name = f"otklik_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(base.render_as_string(hide_password=False),
                        isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False), name


def _drop_postgres_database(name: str) -> None:
    assert POSTGRES_URL
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def migrated_database(backend: str, tmp_path_factory: pytest.TempPathFactory,
                      folder: str = "db") -> Iterator[str]:
    """An empty database of ``backend`` migrated to head, dropped afterwards."""
    if backend == "sqlite":
        url = f"sqlite:///{(tmp_path_factory.mktemp(folder) / 'otklik.db').as_posix()}"
        name = None
    else:
        url, name = _create_postgres_database()
    upgrade(url)
    try:
        yield url
    finally:
        reset_engine_cache()
        if name:
            _drop_postgres_database(name)


@contextmanager
def jobs_database(url: str, monkeypatch: pytest.MonkeyPatch,
                  empty: Sequence[Any] = ()) -> Iterator[Engine]:
    """Jobs, the CLI and the test share a private database that commits (``url``).

    The queue, the settings, the engines and this process's pipelines (whose near-duplicate
    memory holds other databases' ids) start fresh; afterwards the queue is drained, the
    statements of ``empty`` (deletes, in order) run and everything is fresh again.
    """
    from otklik.analytics import tasks as analytics_tasks
    from otklik.language import taxonomy_service
    from otklik.queue import broker, drain

    def fresh() -> None:
        broker.flush_all()  # other tests' never-drained jobs do not belong to this database
        taxonomy_service._pipelines.clear()
        get_settings.cache_clear()
        reset_engine_cache()

    monkeypatch.setenv("OTKLIK_DATABASE_URL", url)
    monkeypatch.setattr(analytics_tasks, "INLINE_DELAY_MS", 0)
    fresh()
    engine = make_engine(url)
    try:
        yield engine
        if empty:
            drain()
            with Session(engine) as session:
                for statement in empty:
                    session.execute(statement)
                session.commit()
    finally:
        engine.dispose()
        fresh()


def own_database(folder: str) -> Any:
    """A module's own ``own_url`` fixture: an empty database of each backend, migrated to
    head, that the module's tests, jobs and CLI commit to (``own_url = own_database("x")``)."""

    @pytest.fixture(scope="module", params=BACKENDS)
    def own_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[str]:
        with migrated_database(request.param, tmp_path_factory, folder) as url:
            yield url

    return own_url


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[str]:
    """A fresh database migrated to head, with the test regions' reference data loaded."""
    with migrated_database(request.param, tmp_path_factory) as url:
        engine = make_engine(url)
        _load_reference(engine)
        engine.dispose()
        yield url


def _load_reference(engine: Engine) -> None:
    from otklik.audit.actor import Actor
    from otklik.demo.loader import load_organizations
    from otklik.territories.service import load_territories

    with Session(engine) as session:
        load_territories(session, Actor.system("tests"), TEST_REGIONS)
        load_organizations(session, Actor.system("tests"))
        session.commit()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The engine of the test database."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test.

    Jobs other tests left in the in-memory queue are dropped first, and this test's after
    it: they name rows of a rolled-back transaction and would keep a later drain() waiting.
    """
    from otklik.queue import broker

    broker.flush_all()
    connection = engine.connect()
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # pysqlite begins a transaction only before a write and lets a SAVEPOINT open one
        # itself, so the session's "commit" (RELEASE SAVEPOINT) would really commit and leak
        # rows into later tests: take the transaction in hand, as SQLAlchemy's docs advise.
        driver = connection.connection.driver_connection
        driver.isolation_level = None  # type: ignore[union-attr]
    transaction = connection.begin()
    if sqlite:
        connection.exec_driver_sql("BEGIN")
    session = Session(bind=connection, join_transaction_mode="create_savepoint",
                      expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        if transaction.is_active:
            transaction.rollback()
        if sqlite:
            driver.isolation_level = ""  # type: ignore[union-attr]
        connection.close()
        broker.flush_all()


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[None]:
    """Point the process settings at the test database."""
    monkeypatch.setenv("OTKLIK_ENV", "test")
    monkeypatch.setenv("OTKLIK_DATABASE_URL", database_url)
    get_settings.cache_clear()
    reset_engine_cache()
    yield
    get_settings.cache_clear()
    reset_engine_cache()


@pytest.fixture
def artifacts_dir() -> Path:
    """Where tests leave files worth looking at (screenshots, reports)."""
    path = Path(__file__).resolve().parent.parent / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def client(session: Session) -> Iterator[object]:
    """A TestClient whose requests share the test's rolled-back session."""
    from fastapi.testclient import TestClient

    from otklik.app import create_app
    from otklik.config import Settings
    from otklik.deps import get_session

    app = create_app(Settings(env="test"))  # type: ignore[arg-type]

    def _session() -> Iterator[Session]:
        yield session
        session.flush()

    app.dependency_overrides[get_session] = _session
    with TestClient(app) as test_client:
        yield test_client


def login(client: object, username: str, password: str) -> str:
    """Log in through the API; returns the CSRF token for unsafe requests."""
    response = client.post("/api/v1/auth/login",  # type: ignore[attr-defined]
                           json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    token = client.get("/api/v1/auth/csrf").json()["csrf"]  # type: ignore[attr-defined]
    return str(token)
