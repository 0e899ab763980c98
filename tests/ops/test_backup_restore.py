"""The restore drill of docs/deploy.md, on PostgreSQL: load data through the CLI (import with
its enrichment and cases), ``pg_dump -Fc``, ``pg_restore`` into a fresh database, and the
restored copy gives the same ``otklik check --json``, ``otklik stats --json``, the same
``otklik audit verify`` (the chain whole, up to the head read before the dump) and the same
row count in every table."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from tests.conftest import (
    POSTGRES_URL,
    _create_postgres_database,
    _drop_postgres_database,
    _load_reference,
    migrated_database,
)

from otklik.db.session import make_engine

pytestmark = [
    pytest.mark.skipif(not POSTGRES_URL, reason="the restore drill runs on PostgreSQL "
                       "(OTKLIK_TEST_POSTGRES_URL)"),
    pytest.mark.skipif(not shutil.which("pg_dump") or not shutil.which("pg_restore"),
                       reason="pg_dump/pg_restore are not installed (apt install "
                              "postgresql-client)"),
    pytest.mark.timeout(600),
]


def _env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTKLIK_")}
    env.update(OTKLIK_ENV="test", OTKLIK_DATABASE_URL=database_url, OTKLIK_BROKER_URL="inline",
               PYTHONPATH=os.pathsep.join(sys.path))
    return env


def _otklik(args: list[str], database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "otklik.cli", *args], env=_env(database_url),
                          text=True, capture_output=True, timeout=400)


def _libpq(url: str) -> list[str]:
    """pg_dump/pg_restore connection options of a SQLAlchemy URL."""
    parsed = make_url(url)
    return ["-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432),
            "-U", parsed.username or "postgres", "-d", str(parsed.database)]


def _pg_env(url: str) -> dict[str, str]:
    password = make_url(url).password
    return {**os.environ, **({"PGPASSWORD": str(password)} if password else {})}


def _row_counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            tables = inspect(connection).get_table_names()
            return {t: int(connection.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one())
                    for t in sorted(tables)}
    finally:
        engine.dispose()


def _verdicts(url: str, head: str | None = None) -> dict[str, Any]:
    check = _otklik(["check", "--json", "--grace", "0"], url)
    assert check.returncode in (0, 1), check.stderr
    stats = _otklik(["stats", "--json"], url)
    assert stats.returncode == 0, stats.stderr
    audit = _otklik(["audit", "verify", "--json", *(["--head", head] if head else [])], url)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    return {"check": json.loads(check.stdout), "stats": json.loads(stats.stdout),
            "audit": json.loads(audit.stdout)}


@pytest.fixture
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with migrated_database("postgresql", tmp_path_factory, "drill") as url:
        engine = make_engine(url)
        _load_reference(engine)
        engine.dispose()
        yield url


def test_a_dump_restored_into_a_fresh_database_gives_the_same_counts(
        source: str, tmp_path: Path) -> None:
    stream = tmp_path / "stream.jsonl"
    exported = _otklik(["demo", "--export", str(stream), "--messages", "400", "--seed", "5"],
                       source)
    assert exported.returncode == 0, exported.stderr
    imported = _otklik(["import", str(stream)], source)  # inline: enriched and cased here
    assert imported.returncode == 0, imported.stdout + imported.stderr
    before = _verdicts(source)
    assert before["check"]["ok"] and before["check"]["messages"] == 400
    assert before["check"]["enriched"] == 400 and before["stats"]["cases"] > 0
    assert before["audit"]["ok"] and before["audit"]["entries"] > 0
    counts = _row_counts(source)

    dump = tmp_path / "otklik.dump"
    subprocess.run(["pg_dump", "-Fc", "--no-owner", "-f", str(dump), *_libpq(source)],
                   env=_pg_env(source), check=True, capture_output=True, timeout=300)
    assert dump.stat().st_size > 0
    restored, name = _create_postgres_database()
    try:
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", *_libpq(restored),
                        str(dump)], env=_pg_env(restored), check=True, capture_output=True,
                       timeout=300)
        after = _verdicts(restored, head=before["audit"]["head"])
        assert after["check"] == before["check"]
        assert after["stats"] == before["stats"]
        assert after["audit"]["ok"] and after["audit"]["head"] == before["audit"]["head"]
        assert after["audit"]["entries"] == before["audit"]["entries"]
        assert _row_counts(restored) == counts
        current = _otklik(["db", "current"], restored)  # the schema version came along
        assert current.returncode == 0 and current.stdout.strip()
    finally:
        _drop_postgres_database(name)
