"""Engines and sessions. Services never commit; the boundary that opened the session does."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from otklik.config import get_settings, normalize_database_url
from otklik.errors import ConfigurationError

_NUL_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


# json.dumps(value, ensure_ascii=False) builds this encoder at every call (a batch's results
# are thousands of calls); the output is the same
_ENCODER = json.JSONEncoder(ensure_ascii=False)
# What orjson does beyond the standard library's encoder it leaves to it (which writes it or
# refuses it, as it always did): a date, a dataclass.
_ORJSON = (orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
           | orjson.OPT_PASSTHROUGH_DATACLASS)


def json_dumps(value: Any, default: Callable[[Any], Any] | None = None) -> str:
    """JSON for JSON/JSONB columns; a NUL character (which PostgreSQL refuses) and a lone
    UTF-16 surrogate (which no UTF-8 database holds) are kept as visible text (``\\u0000``,
    ``\\ud800``) instead (``default``: what to write for what JSON has no form for, as
    :func:`json.dumps`'s).

    orjson writes it: a path's batch is tens of thousands of values (the enrichments'
    results, the sources' records, history and audit details), in a quarter of the standard
    library's time. What orjson refuses (a lone surrogate, an integer beyond 64 bits, a NumPy
    number) the standard library writes, or refuses with its own error. The same JSON either
    way (compact on SQLite; PostgreSQL's JSONB keeps no spacing anyway), except that NaN and
    infinities, which JSON has not and PostgreSQL refuses, are written as null."""
    try:
        encoded = orjson.dumps(value, default=default, option=_ORJSON).decode()
    except TypeError:  # orjson.JSONEncodeError is one
        encoded = (_ENCODER if default is None else json.JSONEncoder(
            ensure_ascii=False, default=default)).encode(value)
    if "\\u0000" in encoded:
        encoded = _NUL_ESCAPE.sub(r"\1\\\\u0000", encoded)
    if _SURROGATE.search(encoded):
        encoded = _SURROGATE.sub(lambda m: f"\\\\u{ord(m.group()):04x}", encoded)
    return encoded


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLite's own lower() folds only ASCII; Russian names need Unicode case folding.
    dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for SQLite (making its folder) or PostgreSQL via psycopg 3."""
    url = normalize_database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False},
                               json_serializer=json_dumps, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, json_serializer=json_dumps, **kwargs)


_ENDING_KEY = "otklik_forget_at_transaction_end"


def forget_at_transaction_end(session: Session, key: str) -> None:
    """Drop ``session.info[key]`` (a value kept for one transaction: a cache) when the
    session's transaction ends: at its commit — not at a released SAVEPOINT, which
    SQLAlchemy reports as a commit too while the transaction goes on — and at any rollback,
    a SAVEPOINT's too (what was read inside it may be gone)."""
    keys: set[str] | None = session.info.get(_ENDING_KEY)
    if keys is None:
        keys = session.info[_ENDING_KEY] = set()
        event.listen(session, "after_commit", _forget_at_commit)
        event.listen(session, "after_soft_rollback", _forget_ended)
    keys.add(key)


def _forget_at_commit(session: Session) -> None:
    if not session.in_nested_transaction():  # not a released SAVEPOINT
        _forget_ended(session)


def _forget_ended(session: Session, *_: Any) -> None:
    for key in session.info.get(_ENDING_KEY, ()):
        session.info.pop(key, None)


@lru_cache
def get_engine() -> Engine:
    """The process-wide engine for the configured database."""
    return make_engine(get_settings().sqlalchemy_url)


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    """The process-wide session factory."""
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session] | None = None) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on error (for CLI commands and jobs)."""
    session = (factory or get_sessionmaker())()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def check_database(engine: Engine | None = None) -> None:
    """Fail with one clear line naming the setting when the database cannot be reached."""
    engine = engine or get_engine()
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        safe = make_url(str(engine.url)).render_as_string(hide_password=True)
        raise ConfigurationError(
            f"OTKLIK_DATABASE_URL: cannot connect to {safe}: {reason}"
        ) from exc


def reset_engine_cache() -> None:
    """Forget the cached engine and session factory (after settings change)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    get_sessionmaker.cache_clear()
