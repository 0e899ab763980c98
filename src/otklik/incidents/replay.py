"""A file of messages replayed through the enrichment stages and the detector, offline, in
time order, as if live (``otklik signals``; no database)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from otklik.incidents.detector import Detector, Observation, Signal
from otklik.incidents.settings import DetectorSettings


class StreamError(ValueError):
    """A record that cannot be replayed; the message names the line."""


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time (``Z`` or an offset; a naive time is UTC), or None."""
    if value in (None, ""):
        return None
    try:
        at = datetime.fromisoformat(str(value).strip().replace(" ", "T", 1))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


@dataclass
class ReplayResult:
    """The signals and what the replay saw."""

    signals: list[Signal]
    messages: int = 0
    without_place: int = 0
    duplicates: int = 0
    late: int = 0
    enrich_seconds: float = 0.0
    detect_seconds: float = 0.0
    skipped_stages: list[str] = field(default_factory=list)

    @property
    def detector_rate(self) -> float:
        """Messages a second the detector alone handles (CPU time)."""
        return self.messages / self.detect_seconds if self.detect_seconds > 0 else float("inf")


def checked(records: Iterable[tuple[int, dict[str, Any]]], source: str
            ) -> Iterator[tuple[datetime, dict[str, Any]]]:
    """Each record with its time; a record without text or time fails naming its line."""
    for line, rec in records:
        if "text" not in rec:
            raise StreamError(f"{source}, строка {line}: нет поля text; есть: "
                              f"{', '.join(map(str, rec)) or 'ничего'}")
        at = parse_time(rec.get("created_at"))
        if at is None:
            raise StreamError(f"{source}, строка {line}: created_at — время в ISO 8601, "
                              f"например 2026-10-12T08:30:00+03:00 (дано "
                              f"{rec.get('created_at')!r})")
        rec = dict(rec)
        if rec.get("id") in (None, ""):
            rec["id"] = f"line-{line}"
        rec["id"] = str(rec["id"])
        yield at, rec


def replay(records: Iterable[tuple[datetime, dict[str, Any]]], pipeline: Any,
           settings: DetectorSettings | None = None, batch_size: int = 256,
           progress: Callable[[int], None] | None = None) -> ReplayResult:
    """Enrich every record (``pipeline``: :class:`otklik.nlp.pipeline.Pipeline`), then run
    the detector over them in time order (a stable sort: the file's order breaks ties)."""
    observations: list[Observation] = []
    pending: list[tuple[datetime, dict[str, Any]]] = []
    started = time.process_time()

    def flush() -> None:
        enriched = pipeline.process([rec for _, rec in pending])
        for (at, rec), out in zip(pending, enriched, strict=True):
            observations.append(Observation.from_enriched(rec, out, at))
        if progress:
            progress(len(pending))
        pending.clear()

    for item in records:
        pending.append(item)
        if len(pending) >= batch_size:
            flush()
    if pending:
        flush()
    enrich_seconds = time.process_time() - started
    observations.sort(key=lambda o: o.at)
    detector = Detector(settings)
    started = time.process_time()
    detector.run(observations)
    detect_seconds = time.process_time() - started
    return ReplayResult(
        signals=detector.signals, messages=len(observations),
        without_place=sum(1 for o in observations
                          if o.municipality is None and o.settlement is None),
        duplicates=detector.skipped_duplicates, late=detector.late,
        enrich_seconds=enrich_seconds, detect_seconds=detect_seconds,
        skipped_stages=list(getattr(pipeline, "skipped", [])))
