"""A stored stream through the live pipeline: ``otklik replay --data FILE --speed N``.

Each record (``id``, ``text``, ``created_at``, ``author``; ``source``, ``channel``, ``region``
optional) is stored through intake in time order, enriched in the same unit of work and
announced as a live batch, so the cases' and the incidents' consumers run exactly as for a
channel's messages. ``--speed`` multiplies time (60: an hour of the stream in a minute; 0:
as fast as possible). It lives here, in the demo layer, because it joins intake (which
incidents may not import) with the stream reading of :mod:`otklik.incidents.replay`. (The
demo's own incidents are opened by the live detector over its stored stream:
:mod:`otklik.demo.emergencies`.)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from otklik.channels.schemas import IncomingMessage, Source
from otklik.console import err, fail, progress_bar


def _incoming(rec: dict[str, Any], at: datetime, region: str | None) -> IncomingMessage:
    source = str(rec.get("source") or "import")
    known = {s.value for s in Source}
    return IncomingMessage(
        source=Source(source) if source in known else Source.import_,
        source_id=f"replay-{rec['id']}" if source not in known else str(rec["id"]),
        text=str(rec.get("text") or ""), created_at=at,
        author_id=str(rec.get("author") or "") or None,
        channel=str(rec["channel"]) if rec.get("channel") else None,
        region=str(rec.get("region") or region or "") or None)


def feed(records: Iterable[tuple[datetime, dict[str, Any]]], *, speed: float = 0.0,
         region: str | None = None, batch: int = 50,
         progress: Callable[[int], None] | None = None) -> int:
    """Store, enrich and announce (live) the records in time order; returns how many."""
    from otklik.db.session import session_scope
    from otklik.intake.service import store_messages
    from otklik.intake.tasks import enrich_now
    from otklik.queue import drain

    ordered = sorted(records, key=lambda item: item[0])
    done = 0
    started, first = time.monotonic(), ordered[0][0] if ordered else None
    for start in range(0, len(ordered), batch):
        chunk = ordered[start:start + batch]
        if speed > 0 and first is not None:  # wait until the stream's clock reaches it
            due = (chunk[0][0] - first).total_seconds() / speed
            pause = due - (time.monotonic() - started)
            if pause > 0:
                time.sleep(pause)
        with session_scope() as session:
            summary = store_messages(session, [_incoming(rec, at, region) for at, rec in chunk],
                                     enqueue=False)
            enrich_now(session, summary.to_enrich, live=True)
        drain()
        done += len(chunk)
        if progress:
            progress(len(chunk))
    return done


def replay_command(
    data: Annotated[Path, typer.Option("--data", help="CSV/JSONL: id, text, created_at, "
                                                      "author (source, channel, region)")],
    speed: Annotated[float, typer.Option("--speed", min=0.0,
                                         help="во сколько раз быстрее жизни (0 — сразу)")] = 0.0,
    region: Annotated[str | None, typer.Option("--region", help="код региона (85)")] = None,
    batch: Annotated[int, typer.Option("--batch", min=1, max=1000)] = 50,
) -> None:
    """Пропустить сохранённый поток через живой конвейер (приём → обогащение → события →
    обращения и ЧС) в порядке времени."""
    from otklik import events
    from otklik.incidents.replay import StreamError, checked
    from otklik.nlp.records import TrainingDataError, iter_records

    events.consumers_of(events.MessagesEnriched)  # every consumer declared before jobs run
    try:
        records = list(checked(iter_records(data), str(data)))
    except (TrainingDataError, StreamError, OSError) as exc:
        raise fail(str(exc)) from None
    with progress_bar() as bar:
        task = bar.add_task("replay", total=len(records))
        count = feed(records, speed=speed, region=region, batch=batch,
                     progress=lambda n: bar.advance(task, n))
    err.print(f"{count} сообщений пропущено через приём")


def register(app: typer.Typer) -> None:
    """Add ``otklik replay``."""
    app.command("replay")(replay_command)
