"""Importing files (CSV, JSONL, XLSX, Telegram export) in streamed, committed batches."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from otklik.channels.files import RowResult, read_file
from otklik.channels.schemas import IncomingMessage
from otklik.db.session import get_sessionmaker, session_scope
from otklik.errors import InvalidInput
from otklik.intake.repository import MessageRepository
from otklik.intake.service import StoreSummary, store_messages

log = logging.getLogger(__name__)
T = TypeVar("T")
BATCH = 2000
#: How many rejected rows the summary lists one by one.
MAX_LISTED_REJECTS = 1000


@dataclass
class ImportSummary:
    """Read, stored, duplicates, and rejected rows with their reasons."""

    read: int = 0
    stored: int = 0
    duplicates: int = 0
    updated: int = 0
    rejected: int = 0
    rejects: list[tuple[int, str]] = field(default_factory=list)


#: Pauses between attempts to store a batch while the database refuses connections.
DB_RETRY_SECONDS = (0.5, 1, 2, 4, 8, 15)


def retry_while_unreachable(work: Callable[[], T]) -> T:
    """Run a unit of work again while the database is unreachable (a restart, a failover:
    the connection was refused or dropped); the batch rolled back, and storing is
    idempotent, so running it again stores nothing twice. Other errors pass through."""
    for pause in (*DB_RETRY_SECONDS, None):
        try:
            return work()
        except DBAPIError as exc:
            if pause is None or not (exc.connection_invalidated
                                     or isinstance(exc, OperationalError)):
                raise
            log.warning("database unreachable (%s); storing the batch again in %ss",
                        exc.orig, pause)
            time.sleep(pause)
    raise AssertionError("unreachable")


def parse_mapping(pairs: Iterable[str]) -> dict[str, str]:
    """``["text=Текст", "created_at=Дата"]`` → ``{"text": "Текст", ...}`` with clear errors."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        field_name, sep, column = pair.partition("=")
        if not sep or not field_name.strip() or not column.strip():
            raise InvalidInput(f"--map {pair!r}: write it as field=Column, e.g. text=Текст")
        mapping[field_name.strip()] = column.strip()
    return mapping


def rows_of(path: Path, *, source: str, mapping: dict[str, str], region: str | None,
            channel: str | None, format: str | None) -> Iterator[RowResult]:
    """The file's rows, one by one; an unreadable file is a clear error."""
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    try:
        return read_file(path, format=format, mapping=mapping, source=source, channel=channel,
                         region=region)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc


def import_rows(
    rows: Iterable[RowResult],
    *,
    factory: sessionmaker[Session] | None = None,
    enqueue: bool = True,
    archived: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Store rows in batches, each batch its own committed unit of work.

    Memory stays flat however large the file; a crash loses at most the batch in flight
    and a rerun stores nothing twice.
    """
    factory = factory or get_sessionmaker()
    summary = ImportSummary()
    batch: list[IncomingMessage] = []
    next_analyze = [BATCH]

    def store() -> StoreSummary:
        with session_scope(factory) as session:
            result = store_messages(session, batch, enqueue=enqueue, archived=archived)
            if summary.stored + result.stored >= next_analyze[0]:
                # each time the import doubles what it stored, refresh the planner's view
                MessageRepository(session).refresh_statistics()
                next_analyze[0] *= 2
        return result

    def flush() -> None:
        if not batch:
            return
        _add(summary, retry_while_unreachable(store))
        if progress:
            progress(len(batch))
        batch.clear()

    for row in rows:
        summary.read += 1
        if row.message is None:
            summary.rejected += 1
            if len(summary.rejects) < MAX_LISTED_REJECTS:
                summary.rejects.append((row.row_number, row.error or "unreadable row"))
            if progress:
                progress(1)
            continue
        batch.append(row.message)
        if len(batch) >= BATCH:
            flush()
    flush()
    return summary


def _add(summary: ImportSummary, result: StoreSummary) -> None:
    summary.stored += result.stored
    summary.duplicates += result.duplicates
    summary.updated += result.updated
