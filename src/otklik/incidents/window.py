"""The live detector's memory: each region's window of the stream, kept in the worker process
between batches, so that a batch costs what is new, not a replay of three days.

**What the detector sees** (the reference, :func:`replay`): for a batch, in each region, a
detector fresh at the window's start — the midnight (UTC) before the batch's oldest message
less :data:`HISTORY` — fed the region's stored, enriched, not deleted messages created since
then (at most about :data:`MAX_HISTORY`, the latest: a cut window starts at its oldest
message's time), in (created_at, id) order. That is one definition whichever worker runs the
batch, whatever ran before: the start moves once a day, not with every batch.

**What the memory keeps**: per database, the detector of each region after the messages it
was fed, and the ids and observations it took. At each batch it reads what any worker
enriched since its last look (``enriched_at`` after the watermark less :data:`OVERLAP`; the
ids already held with the same time are not read again) and feeds the region's new messages
in order. The detector is exact only when fed in order, so the window is rebuilt from the
database (a :func:`replay`) when it is missing (a new process, another database), when its
start moved (a new day, a late message), when the thresholds or the rubricator changed, when
a new message sorts before one already fed (another worker committed an older batch later),
when a message it holds was enriched anew with another answer, and when the region's stored
window (count and sum of ids, one indexed query) is not what it holds (a message deleted, a
rolled-back or missed batch, a database reset). The alerts are therefore exactly those of the
replay (``tests/incidents/test_window.py``). A detector's baselines are fed by what leaves
its count window, so nothing can be taken out of it: its memory restarts with the window's
start, once a day per region. When the start moves (a new day; in a catch-up load — history
worked faster than it was written — almost every batch, back and forth), the window is
replayed from what it holds rather than read again: its observations since the new start
(what it was fed, and what it held before its own start, while both fit in
:data:`MAX_HISTORY`), with the new ones fed in, are the database's window when the region's
count and sum of ids say so (the same indexed query); for a start before what it holds, only
the days between are read from the database (so a region is read whole once per process
however its batches' starts wander); otherwise it is read from the database whole.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from otklik.incidents.detector import Detector, Observation, Place
from otklik.incidents.repository import (
    IncidentRepository,
    StreamEnrichment,
    StreamMessage,
    stream_region,
)
from otklik.incidents.settings import DetectorSettings
from otklik.territories.repository import TerritoryRepository

log = logging.getLogger(__name__)

#: How much of a region's stream the detector replays for each batch (its baselines learn
#: from it; spikes need ``warmup`` of it, hazards and bursts fire from the first hour).
HISTORY = timedelta(days=3)
#: ... and at most about this many messages of it (a large region's three days).
MAX_HISTORY = 20_000
#: Enrichments other workers committed slightly out of order are caught by re-reading this
#: much before the last one seen; one committed later still is found by the window's count.
OVERLAP = timedelta(seconds=30)
#: A window re-feeds, in order, the messages of its last this much of the stream when an
#: earlier one arrives after later ones (workers commit their batches in any order); one
#: earlier still makes it replay the whole window from the database.
SETTLE_AFTER = timedelta(hours=1)
#: More new enrichments than this since the last look (a bulk load in between): the windows
#: are dropped and rebuilt when next needed rather than fed a backlog.
MAX_FEED = 20_000
#: A region's windows left behind by a move of the start, kept (the latest this many) to
#: serve their start again while nothing new of the region arrives (a catch-up load works
#: batches whose starts wander over a few days, every one already enriched).
PARKED = 3

Row = tuple[StreamMessage, StreamEnrichment]


def window_start(oldest: datetime) -> datetime:
    """The start of the window of a batch whose oldest message is ``oldest``."""
    return (oldest - HISTORY).replace(hour=0, minute=0, second=0, microsecond=0)


def observation(message: StreamMessage, enrichment: StreamEnrichment,
                places: Mapping[int, Place], topic_names: Mapping[str, str]) -> Observation:
    """What the detector needs of a stored message: its stored place (the thread's or the
    channel's when the text named none) wins over the stages' raw answer."""
    from otklik.incidents.detector import TRACKED_HAZARDS

    result = enrichment.result or {}
    urgency = result.get("urgency") or {}
    matched = ((result.get("explain") or {}).get("urgency") or {}).get("matched") or {}
    hazards = tuple(s for s in urgency.get("signals") or () if s in TRACKED_HAZARDS)
    topic = enrichment.topic or "other"
    return Observation(
        id=str(message.id), at=message.created_at,
        author=message.author_key or message.author_id
        or f"?{enrichment.duplicate_of_id or message.id}",
        topic_code=topic, topic_name=topic_names.get(topic, topic),
        region_code=enrichment.region_code or message.region_code,
        municipality=places.get(enrichment.municipality_id or 0),
        settlement=places.get(enrichment.settlement_id or 0),
        street=enrichment.street, hazards=hazards,
        words=tuple(str(matched[h]) for h in hazards if h in matched),
        duplicate_of=str(enrichment.duplicate_of_id) if enrichment.duplicate_of_id else None,
        critical=(enrichment.urgency or urgency.get("level")) == "critical")


def _order(obs: Observation) -> tuple[datetime, int]:
    return obs.at, int(obs.id)


@dataclass
class RegionWindow:
    """One region's detector and what it was fed.

    ``settled`` has been fed the messages more than :data:`SETTLE_AFTER` older than the
    newest; ``tail`` holds the newer ones in order, and ``detector`` is ``settled`` fed the
    tail. A new message that sorts inside the tail (another worker committed an earlier batch
    later) re-feeds a fork of ``settled`` the tail; one older than the tail cannot be fed
    exactly: the window is rebuilt."""

    region: str | None
    start: datetime  # the window's start (window_start of the batch)
    since: datetime  # what it holds starts here: the start, or a cut window's oldest message
    settings: DetectorSettings
    taxonomy: str
    settled: Detector
    detector: Detector
    tail: list[Observation] = field(default_factory=list)
    settled_last: tuple[datetime, int] | None = None
    seen: dict[int, Observation] = field(default_factory=dict)
    id_sum: int = 0
    forks: int = 0  # how many times the tail was re-fed (tests, profiles)
    territories: set[int] = field(default_factory=set)  # the places its messages name
    named: dict[int, tuple[int | None, int | None]] = field(default_factory=dict)  # by message
    # What it held before its start after the start moved (back to ``floor``; dropped when
    # with the window it exceeds MAX_HISTORY), kept up to date: a start moved back is
    # replayed from it.
    older: dict[int, Observation] = field(default_factory=dict)
    floor: datetime | None = None  # held (older, then seen) is whole from here; None: since

    def places(self, memory: Memory) -> dict[int, Place]:
        """The places of the window's messages (a signal's place is one of them)."""
        return {t: p for t in self.territories if (p := memory.places.get(t)) is not None}

    def take(self, observations: Iterable[Observation]) -> bool:
        """Feed new observations (in any order); False when they cannot be fed exactly (one
        sorts before the tail, or a held message now reads differently)."""
        new: list[Observation] = []
        for obs in observations:
            held = self.seen.get(int(obs.id))
            if held is None:
                new.append(obs)
            elif held != obs:
                return False
        if not new:
            return True
        new.sort(key=_order)
        if self.settled_last is not None and _order(new[0]) <= self.settled_last:
            return False
        if not self.tail or _order(new[0]) > _order(self.tail[-1]):
            self.detector.run(new)
            self.tail.extend(new)
        else:  # inside the tail: the settled detector, forked, fed the tail again in order
            self.tail = sorted([*self.tail, *new], key=_order)
            self.detector = self.settled.fork()
            self.detector.run(self.tail)
            self.forks += 1
        for obs in new:
            self.seen[int(obs.id)] = obs
            self.id_sum += int(obs.id)
        self._settle()
        return True

    def _settle(self) -> None:
        if not self.tail:
            return
        horizon = self.tail[-1].at - SETTLE_AFTER
        n = 0
        while n < len(self.tail) and self.tail[n].at < horizon:
            n += 1
        if n:
            self.settled.run(self.tail[:n])
            self.settled_last = _order(self.tail[n - 1])
            del self.tail[:n]

    @classmethod
    def replayed(cls, region: str | None, start: datetime, since: datetime,
                 settings: DetectorSettings, taxonomy: str,
                 observations: Sequence[Observation]) -> RegionWindow:
        """A window fed these observations from scratch (each is fed once, the tail twice)."""
        ordered = sorted(observations, key=_order)
        settled = Detector(settings)
        window = cls(region, start, since, settings, taxonomy, settled, settled)
        if ordered:
            horizon = ordered[-1].at - SETTLE_AFTER
            n = 0
            while n < len(ordered) and ordered[n].at < horizon:
                n += 1
            settled.run(ordered[:n])
            if n:
                window.settled_last = _order(ordered[n - 1])
            window.detector = settled.fork()
            window.tail = ordered[n:]
            window.detector.run(window.tail)
            window.seen = {int(o.id): o for o in ordered}
            window.id_sum = sum(window.seen)
        else:
            window.detector = settled.fork()
        return window


@dataclass
class Memory:
    """What one process holds of one database."""

    database: str
    watermark: datetime | None = None
    known: dict[int, datetime] = field(default_factory=dict)  # id -> enriched_at, last OVERLAP
    places: dict[int, Place | None] = field(default_factory=dict)
    windows: dict[str | None, RegionWindow] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    rebuilds: int = 0  # how many windows were replayed from the database (tests, profiles)
    why: Counter[str] = field(default_factory=Counter)  # ... and why
    moves: int = 0  # how many were replayed from what they held when their start moved
    # windows left behind when their region's start moved, by (region, start)
    parked: dict[tuple[str | None, datetime], RegionWindow] = field(default_factory=dict)
    unparked: int = 0  # how many served their start again (nothing replayed)
    # the stored windows' digests (count and sum of ids) the batch being worked will check,
    # read at once (:func:`read_digests`); only for the length of that batch
    digests: dict[tuple[str | None, datetime], tuple[int, int]] = field(default_factory=dict)


_memories: dict[str, Memory] = {}
_lock = threading.Lock()


@contextmanager
def memory_of(session: Session) -> Iterator[Memory]:
    """The memory of the session's database, held for this thread until the block ends."""
    database = session.get_bind().engine.url.render_as_string(hide_password=True)
    with _lock:
        memory = _memories.get(database)
        if memory is None:
            memory = _memories[database] = Memory(database)
    with memory.lock:
        yield memory


def forget() -> None:
    """Drop every window (tests; a process that wants its memory back)."""
    with _lock:
        _memories.clear()


def places_of(session: Session, memory: Memory, rows: Iterable[Row]) -> Mapping[int, Place]:
    """The municipalities and settlements of these rows as the detector's places (read once
    per process; a territory's name and code do not change under a running stream)."""
    wanted = {t for _, e in rows for t in (e.municipality_id, e.settlement_id)
              if t is not None and t not in memory.places}
    if wanted:
        found = TerritoryRepository(session).many(wanted)
        for territory_id in wanted:
            territory = found.get(territory_id)
            memory.places[territory_id] = (Place(territory.name, territory.oktmo)
                                           if territory is not None else None)
    return {k: v for k, v in memory.places.items() if v is not None}


def read_new(session: Session, memory: Memory, have: Sequence[Row] = ()) -> list[Row] | None:
    """The rows enriched by any worker since the last look (none the first time); None
    when there are too many to feed (the windows are dropped). ``have``: rows already read
    (the batch's own), not read again."""
    repo = IncidentRepository(session)
    if memory.watermark is None:
        # A new memory holds no window: each is read from the database, which has all that
        # is enriched now. So what is enriched now is known, not new at the next look (read
        # and fed again there, it was a no-op that also dropped every parked window).
        memory.watermark = repo.last_enriched_at()
        if memory.watermark is not None:
            memory.known = dict(repo.enriched_since(memory.watermark - OVERLAP))
        return []
    rows = repo.enriched_since(memory.watermark - OVERLAP)
    new = [i for i, at in rows if memory.known.get(i) != at]
    if rows:
        memory.watermark = max(memory.watermark, max(at for _, at in rows))
    floor = memory.watermark - OVERLAP
    memory.known = {i: at for i, at in memory.known.items() if at > floor}
    memory.known.update((i, at) for i, at in rows if at > floor)
    if len(new) > MAX_FEED:
        memory.windows.clear()
        memory.parked.clear()
        return None
    if not new:
        return []
    held = {m.id: (m, e) for m, e in have}
    rows_ = [held[i] for i in new if i in held]
    missing = [i for i in new if i not in held]
    if missing:
        rows_.extend(repo.stream_rows(missing))
    # a parked window is not fed: one of a region with anything new is no longer its window
    touched = {stream_region(m, e) for m, e in rows_}
    memory.parked = {k: w for k, w in memory.parked.items() if k[0] not in touched}
    return rows_


def read_digests(session: Session, memory: Memory, by_region: Mapping[str | None, Sequence[Row]],
                 settings: DetectorSettings, taxonomy: str) -> None:
    """Read at once the digest each region's window will be checked against in this batch
    (:func:`window_for`: the window's own start when its start stays, else the batch's
    start; a window read from the database whole needs none): one statement, not one per
    region. The database is read after what is new (:func:`read_new`), as the checks one by
    one were; the digests are dropped when the batch is done (:func:`digest`)."""
    wanted: list[tuple[str | None, datetime]] = []
    for region, rows in by_region.items():
        window = memory.windows.get(region)
        if window is None or window.settings != settings or window.taxonomy != taxonomy:
            continue
        start = window_start(min(m.created_at for m, _ in rows))
        wanted.append((region, window.since if window.start == start else start))
    memory.digests = IncidentRepository(session).stream_digests(wanted)


def digest(session: Session, memory: Memory, region: str | None, since: datetime
           ) -> tuple[int, int]:
    """The region's stored window since ``since`` (count and sum of ids): read ahead for
    this batch (:func:`read_digests`), else now."""
    found = memory.digests.get((region, since))
    if found is not None:
        return found
    return IncidentRepository(session).stream_digest(region, since)


def rebuild(session: Session, memory: Memory, region: str | None, start: datetime,
            settings: DetectorSettings, taxonomy: str, topic_names: Mapping[str, str]
            ) -> RegionWindow:
    """The region's window replayed from the database (and kept)."""
    rows = IncidentRepository(session).stream(region, start, MAX_HISTORY)
    places = places_of(session, memory, rows)
    since = rows[0][0].created_at if len(rows) >= MAX_HISTORY else start
    window = RegionWindow.replayed(region, start, since, settings, taxonomy,
                                   [observation(m, e, places, topic_names) for m, e in rows])
    _name(window, rows)
    memory.windows[region] = window
    memory.rebuilds += 1
    return window


def _name(window: RegionWindow, rows: Iterable[Row]) -> None:
    """Note the places these rows of the window name."""
    for m, e in rows:
        window.named[m.id] = (e.municipality_id, e.settlement_id)
        window.territories.update(t for t in (e.municipality_id, e.settlement_id)
                                  if t is not None)


def _mine(region: str | None, since: datetime, batch: Sequence[Row], new: Sequence[Row]
          ) -> dict[int, Row]:
    """The region's rows of what is new and of the batch, created since ``since``."""
    mine = {m.id: (m, e) for m, e in new if stream_region(m, e) == region
            and m.created_at >= since}
    mine.update((m.id, (m, e)) for m, e in batch if m.created_at >= since)
    return mine


def moved(session: Session, memory: Memory, window: RegionWindow, start: datetime,
          batch: Sequence[Row], new: Sequence[Row], topic_names: Mapping[str, str]
          ) -> RegionWindow | None:
    """The window of another start replayed from what ``window`` holds since that start
    (what it was fed, and what it held before its own start), what is new (a new message's
    reading replaces a held one's) and, for a start before what it holds, the days between
    read from the database (only those: a batch whose messages reach further back than any
    before it costs their read, not the whole window's); None when that is not the
    database's window (count and sum of ids differ) or would be cut (:data:`MAX_HISTORY`):
    then it is read from the database whole."""
    floor = window.floor or window.since
    earlier: Sequence[Row] = ()
    if start < floor:
        earlier = IncidentRepository(session).stream(window.region, start, MAX_HISTORY,
                                                      before=floor)
        if len(earlier) >= MAX_HISTORY:
            return None
        floor = start
    mine = _mine(window.region, floor, batch, new)
    places = places_of(session, memory, [*earlier, *mine.values()])
    pool = {**window.older, **window.seen}
    named = dict(window.named)
    for m, e in [*earlier, *mine.values()]:  # the new readings last: they win
        pool[m.id] = observation(m, e, places, topic_names)
        named[m.id] = (e.municipality_id, e.settlement_id)
    held = {i: o for i, o in pool.items() if o.at >= start}
    if len(held) >= MAX_HISTORY or digest(session, memory, window.region, start) != (
            len(held), sum(held)):
        return None
    kept = RegionWindow.replayed(window.region, start, start, window.settings,
                                 window.taxonomy, list(held.values()))
    if len(pool) <= MAX_HISTORY:  # all it held before the start is kept (bounded as a window)
        kept.floor = floor
        kept.older = {i: o for i, o in pool.items() if o.at < start}
    else:
        kept.floor = start
    kept.named = {i: named[i] for i in (*held, *kept.older)}
    kept.territories = {t for i in held for t in named[i] if t is not None}
    memory.windows[window.region] = kept
    memory.moves += 1
    return kept


def _park(memory: Memory, window: RegionWindow) -> None:
    """Keep a window its region's start left behind (the latest :data:`PARKED` of a
    region)."""
    memory.parked.pop((window.region, window.start), None)
    memory.parked[(window.region, window.start)] = window
    mine = [k for k in memory.parked if k[0] == window.region]
    for key in mine[:-PARKED]:
        del memory.parked[key]


def _unparked(session: Session, memory: Memory, region: str | None, start: datetime,
              batch: Sequence[Row], new: Sequence[Row], settings: DetectorSettings,
              taxonomy: str, topic_names: Mapping[str, str]) -> RegionWindow | None:
    """The region's window of this start parked earlier, fed the batch, when it is still
    the database's window (the region had nothing new since it was parked, see
    :func:`read_new`; the batch's messages are held as they read; count and sum of ids
    agree): nothing is replayed. None otherwise (it is dropped)."""
    window = memory.parked.pop((region, start), None)
    if window is None or window.settings != settings or window.taxonomy != taxonomy:
        return None
    mine = _mine(region, window.since, batch, new)
    places = places_of(session, memory, mine.values())
    if not window.take(observation(m, e, places, topic_names) for m, e in mine.values()):
        return None
    _name(window, mine.values())
    _keep_older(session, memory, window, new, topic_names)
    if digest(session, memory, region, window.since) != (len(window.seen), window.id_sum):
        return None
    memory.windows[region] = window
    memory.unparked += 1
    return window


def _keep_older(session: Session, memory: Memory, window: RegionWindow, new: Sequence[Row],
                topic_names: Mapping[str, str]) -> None:
    """New readings of the region's messages before the window's start, into what it holds
    of them (so that a start moved back replays them as the database has them)."""
    if window.floor is None or window.floor >= window.since:
        return
    rows = [(m, e) for m, e in new if stream_region(m, e) == window.region
            and window.floor <= m.created_at < window.since]
    if not rows:
        return
    places = places_of(session, memory, rows)
    for m, e in rows:
        window.older[m.id] = observation(m, e, places, topic_names)
        window.named[m.id] = (e.municipality_id, e.settlement_id)


def replay(session: Session, region: str | None, oldest: datetime,
           settings: DetectorSettings, topic_names: Mapping[str, str]) -> Detector:
    """The reference: a fresh detector fed the region's window of a batch whose oldest
    message is ``oldest``, in order (nothing kept, nothing forked)."""
    rows = IncidentRepository(session).stream(region, window_start(oldest), MAX_HISTORY)
    places = places_of(session, Memory("replay"), rows)
    detector = Detector(settings)
    detector.run(sorted((observation(m, e, places, topic_names) for m, e in rows),
                        key=_order))
    return detector


def window_for(session: Session, memory: Memory, region: str | None, batch: Sequence[Row],
               new: Sequence[Row] | None, settings: DetectorSettings, taxonomy: str,
               topic_names: Mapping[str, str]) -> RegionWindow:
    """The region's window brought up to the database for this batch of its messages
    (``new``: what :func:`read_new` returned): fed what is new, or rebuilt."""
    start = window_start(min(m.created_at for m, _ in batch))
    window = memory.windows.get(region)
    if (window is not None and new is not None and window.start != start
            and window.settings == settings and window.taxonomy == taxonomy):
        kept = (_unparked(session, memory, region, start, batch, new, settings, taxonomy,
                          topic_names)
                or moved(session, memory, window, start, batch, new, topic_names))
        _park(memory, window)  # it may serve its start again
        if kept is not None:
            return kept
        memory.why["start"] += 1
        return rebuild(session, memory, region, start, settings, taxonomy, topic_names)
    if (window is None or new is None or window.start != start or window.settings != settings
            or window.taxonomy != taxonomy):
        why = ("none" if window is None else "backlog" if new is None
               else "start" if window.start != start else "settings")
        memory.why[why] += 1
        return rebuild(session, memory, region, start, settings, taxonomy, topic_names)
    since = window.since
    mine = _mine(region, since, batch, new)
    places = places_of(session, memory, mine.values())
    fed = window.take(observation(m, e, places, topic_names) for m, e in mine.values())
    _name(window, mine.values())
    _keep_older(session, memory, window, new, topic_names)
    if not fed or (digest(session, memory, region, since)
                   != (len(window.seen), window.id_sum)):
        memory.why["out of order or changed" if not fed else "stale"] += 1
        return rebuild(session, memory, region, start, settings, taxonomy, topic_names)
    return window
