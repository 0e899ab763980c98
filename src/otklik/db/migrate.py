"""Run Alembic migrations from code (``otklik db upgrade``, tests, the demo)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

#: Objects only migrations create (full-text search: a GIN expression index on PostgreSQL,
#: an FTS5 table and its shadow tables on SQLite); autogenerate must not compare them.
MIGRATION_ONLY_TABLE_PREFIX = "message_fts"
MIGRATION_ONLY_INDEXES = frozenset({"ix_message_text_fts"})


def include_name(name: str | None, type_: str, _parent_names: object) -> bool:
    """Alembic's ``include_name`` hook: leave the migration-only search objects alone."""
    if type_ == "table" and name and name.startswith(MIGRATION_ONLY_TABLE_PREFIX):
        return False
    return not (type_ == "index" and name in MIGRATION_ONLY_INDEXES)


def alembic_config(database_url: str) -> Config:
    """An Alembic configuration pointing at the packaged migrations and this database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database schema up to ``revision``."""
    command.upgrade(alembic_config(database_url), revision)


def current_revision(database_url: str) -> str | None:
    """The revision the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    from otklik.db.session import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
