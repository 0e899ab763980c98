"""Shared fixtures: a migrated database per backend, one rolled-back transaction per test.

The schema is built with Alembic (not create_all). Every database test runs on SQLite and,
when ``OTKLIK_TEST_POSTGRES_URL`` is set, on PostgreSQL too.
"""

from __future__ import annotations

import os
import queue
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
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

from otklik.accounts import security  # noqa: E402
from otklik.config import get_settings  # noqa: E402
from otklik.db.migrate import upgrade  # noqa: E402
from otklik.db.session import make_engine, reset_engine_cache  # noqa: E402

POSTGRES_URL = os.environ.get("OTKLIK_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])
#: Regions loaded for tests: the five demo regions and Kursk (the evaluation data's region).
TEST_REGIONS = ("86", "68", "85", "36", "07", "38")


#: The files that take longest (the CI's ``--durations``), slowest first. Under pytest-xdist
#: (``make test``: ``--dist loadfile --no-loadscope-reorder``) they are handed out first, so
#: that no worker is left running one of them at the end while the other has nothing to do.
#: Only the order changes: every test still runs.
SLOW_FILES = (
    "tests/upkeep/test_faults.py",
    "tests/security/test_access_matrix.py",
    "tests/demo/test_demo_command.py",
    "tests/ops/test_backup_restore.py",
    "tests/demo/test_case_building.py",
    "tests/test_lint.py",
)


@pytest.hookimpl(trylast=True)  # after pytest's own reordering (by fixture parameters)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """In a pytest-xdist worker: the slow files first, then the others by their number of
    tests (most first, as pytest-xdist's own reordering would hand them out)."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    counts: dict[str, int] = {}
    for item in items:
        path = item.nodeid.split("::")[0]
        counts[path] = counts.get(path, 0) + 1
    rank = {path: index for index, path in enumerate(SLOW_FILES)}

    def order(item: pytest.Item) -> tuple[int, int]:
        path = item.nodeid.split("::")[0]
        return rank.get(path, len(rank)), -counts[path]

    items.sort(key=order)


def _admin() -> Engine:
    assert POSTGRES_URL
    return make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")


def _create_postgres_database(template: str | None = None) -> tuple[str, str]:
    """A new PostgreSQL database (a copy of ``template`` when given): (its URL, its name)."""
    assert POSTGRES_URL
    base = make_url(POSTGRES_URL)
    name = f"otklik_test_{uuid.uuid4().hex[:10]}"
    admin = _admin()
    with admin.connect() as connection:
        copy = f' TEMPLATE "{template}"' if template else ""
        connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False), name


def _drop_postgres_database(name: str) -> None:
    assert POSTGRES_URL
    admin = _admin()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


#: This process's templates, made on first use and copied for each migrated_database():
#: the SQLite file's path or the PostgreSQL database's name, by (backend, with the reference
#: data). pytest-xdist's workers each have their own.
_TEMPLATES: dict[tuple[str, bool], str] = {}


class _Dropper:
    """Drops PostgreSQL databases in a thread of its own while the tests go on.

    DROP DATABASE makes PostgreSQL write a checkpoint (seconds on a busy server): the tests
    need not wait for it. The session's end waits for every drop.
    """

    def __init__(self) -> None:
        self.names: queue.Queue[str | None] = queue.Queue()
        self.thread: threading.Thread | None = None
        self.errors: list[BaseException] = []

    def drop(self, name: str) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name="drop-databases",
                                           daemon=True)
            self.thread.start()
        self.names.put(name)

    def _run(self) -> None:
        while (name := self.names.get()) is not None:
            try:
                _drop_postgres_database(name)
            except Exception as exc:  # noqa: BLE001  (reported when the session ends)
                self.errors.append(exc)

    def wait(self) -> None:
        if self.thread is not None:
            self.names.put(None)
            self.thread.join()
            self.thread = None
        assert not self.errors, f"test databases not dropped: {self.errors}"


_DROPPER = _Dropper()


def _copy(backend: str, tmp_path_factory: pytest.TempPathFactory, folder: str,
          template: str | None) -> tuple[str, str | None]:
    """A new database of ``backend``, empty or a copy of ``template``: (URL, PostgreSQL name)."""
    if backend != "sqlite":
        return _create_postgres_database(template)
    path = tmp_path_factory.mktemp(folder) / "otklik.db"
    if template:
        source, target = sqlite3.connect(template), sqlite3.connect(path)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
    return f"sqlite:///{path.as_posix()}", None


def _template(backend: str, reference: bool, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The template of ``backend``: migrated to head by Alembic, with the test regions'
    reference data loaded when ``reference``; made on first use."""
    key = (backend, reference)
    if key not in _TEMPLATES:
        base = _template(backend, False, tmp_path_factory) if reference else None
        url, name = _copy(backend, tmp_path_factory, "template", base)
        engine = make_engine(url)
        try:
            if reference:
                _load_reference(engine)
            else:
                upgrade(url)
        finally:
            engine.dispose()
            reset_engine_cache()
        _TEMPLATES[key] = name or make_url(url).database or ""
    return _TEMPLATES[key]


@pytest.fixture(scope="session", autouse=True)
def _databases_dropped() -> Iterator[None]:
    """The session ends when its PostgreSQL databases and templates are dropped."""
    yield
    reset_engine_cache()
    for backend, reference in list(_TEMPLATES):
        name = _TEMPLATES.pop((backend, reference))
        if backend != "sqlite":
            _DROPPER.drop(name)
    _DROPPER.wait()


@contextmanager
def migrated_database(backend: str, tmp_path_factory: pytest.TempPathFactory,
                      folder: str = "db", *, reference: bool = False) -> Iterator[str]:
    """A database of ``backend`` migrated to head (with the test regions' reference data
    when ``reference``), dropped afterwards.

    It is a copy of this process's template (CREATE DATABASE ... TEMPLATE, a SQLite backup),
    made once by Alembic and the reference loader: what they would make again each time.
    tests/db checks the migrations themselves on databases of their own.
    """
    url, name = _copy(backend, tmp_path_factory, folder,
                      _template(backend, reference, tmp_path_factory))
    try:
        yield url
    finally:
        reset_engine_cache()
        if name:
            _DROPPER.drop(name)


#: argon2id as the product hashes passwords, with the least work argon2 allows: the suite makes
#: and checks thousands of passwords (each user of a world, each login), at ~0.3 s of CPU each
#: with the product's parameters. tests/accounts/test_security.py checks the product's own.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PRODUCT_HASHER = security._hasher


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashes() -> Iterator[None]:
    """Passwords hashed in this process use CHEAP_HASHER (a hash made with the product's
    parameters, by a subprocess, still verifies: argon2 reads them from the hash)."""
    security._hasher = CHEAP_HASHER
    yield
    security._hasher = PRODUCT_HASHER


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


def own_database(folder: str, *, reference: bool = False) -> Any:
    """A module's own ``own_url`` fixture: a database of each backend, migrated to head (with
    the test regions' reference data when ``reference``), that the module's tests, jobs and
    CLI commit to (``own_url = own_database("x")``)."""

    @pytest.fixture(scope="module", params=BACKENDS)
    def own_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[str]:
        with migrated_database(request.param, tmp_path_factory, folder,
                               reference=reference) as url:
            yield url

    return own_url


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[str]:
    """A fresh database migrated to head, with the test regions' reference data loaded.

    pytest-xdist's loadfile runs a file's tests of one backend, then of the other: this
    fixture is made again at each switch, each time a copy of the process's template.
    """
    with migrated_database(request.param, tmp_path_factory, reference=True) as url:
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
