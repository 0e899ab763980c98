"""Migrations reach head from an empty database and match the models (no drift)."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import otklik.models  # noqa: F401
from otklik.db.base import Base
from otklik.db.migrate import alembic_config, current_revision, include_name
from otklik.db.session import make_engine


def test_head_has_every_table_and_no_drift(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                                "include_name": include_name})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()
    command.check(alembic_config(database_url))
    assert current_revision(database_url) is not None


def test_downgrade_and_upgrade_again(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    config = alembic_config(url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    assert current_revision(url) is None
    command.upgrade(config, "head")
    assert current_revision(url) is not None


def test_head_keeps_the_database_guards(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A later migration that rebuilds a table (SQLite's batch mode) must not drop the
    triggers earlier ones put on it: the full-text index of messages, the append-only audit."""
    url = f"sqlite:///{tmp_path / 'guards.db'}"
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            names = {row[0] for row in connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
            fts = connection.exec_driver_sql(
                "SELECT count(*) FROM sqlite_master WHERE name = 'message_fts'").scalar()
    finally:
        engine.dispose()
    assert {"audit_log_no_update", "audit_log_no_delete", "audit_seal_no_update",
            "audit_seal_no_delete"} <= names
    if fts:
        assert {"message_fts_ai", "message_fts_ad", "message_fts_au"} <= names
