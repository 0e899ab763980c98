"""Karelia's archive: the residents' messages the center took in before the demo's 90 days.

The demo's live stream covers 90 days at a small scale; Karelia's story (DESIGN.md story 1)
is about a year: over 40,000 messages and about 70 decisions. The archive fills the year
before the stream (see :func:`otklik.demo.karelia.archive_span`) for Karelia only, with
residents' own posts, chat messages, letters and web-form appeals (the talk under official
posts and the chatter are left out: a center's archive holds what it took in). They go
through the same import and the same language pipeline as the live stream, after it has
become cases (so the other regions' stories stay exactly as without the archive); they get no
case cards (the year's story is about messages and decisions, and playing 40,000 more case
lives would triple the demo's time). Around each planned decision residents write more about
its subject in its municipality before it and, when it worked, less after.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from otklik.channels.schemas import IncomingMessage
from otklik.demo import karelia
from otklik.demo.stream import (
    REGION_CODES,
    SOURCE_SHARE,
    SOURCE_THREAD,
    StreamBuilder,
    default_end,
)
from otklik.demo.stream_compose import Draft
from otklik.demo.stream_sources import IdAssigner

#: Archive messages per message of the live stream (20,000 → 62,000: the pipeline takes about
#: two in three for messages on a subject, so Karelia's year then holds a little over 40,000).
ARCHIVE_PER_STREAM_MESSAGE = 3.1
#: Thread starters by source, as in the live stream (its shares are of all messages).
ROOT_SHARE = {s: SOURCE_SHARE[s] / SOURCE_THREAD[s] for s in SOURCE_SHARE}
#: Channels where residents start the thread themselves.
RESIDENT_KINDS = ("community", "chat", "mailbox", "form")
#: Before a planned decision residents turn to its subject this often (of the municipality's
#: messages), after one that worked they turn away from it this often, for these many days.
BEFORE_PULL, AFTER_DROP = 0.06, 0.65
BEFORE_DAYS, AFTER_DAYS = 30, 60


def archive_size(stream_total: int) -> int:
    """How many archive messages go with a live stream of ``stream_total`` messages."""
    return round(stream_total * ARCHIVE_PER_STREAM_MESSAGE)


class ArchiveBuilder(StreamBuilder):
    """Karelia's residents' thread starters over the archive's span."""

    def __init__(self, seed: int, end: datetime, total: int) -> None:
        start, stop = karelia.archive_span(end)
        self.stream_end = end
        super().__init__(seed, (stop - start).days, stop, total)
        settlements = [(s.municipality, s.population)
                       for s in self.regions[karelia.REGION].settlements]
        self.plan = [p for p in karelia.plan_decisions(end, settlements) if p.in_archive]

    def _quotas(self) -> dict[str, int]:
        return {code: self.total if code == karelia.REGION else 0 for code in REGION_CODES}

    def build(self) -> list[Draft]:
        """Exactly ``total`` drafts, sorted by time."""
        code, rng = karelia.REGION, self.rng
        sources = list(ROOT_SHARE)
        weights = [ROOT_SHARE[s] for s in sources]
        drafts: list[Draft] = []
        for _ in range(self.total):
            channel = self.channel(code, rng.choices(sources, weights=weights)[0],
                                   kinds=RESIDENT_KINDS)
            when = self.sample_time(code)
            settlement = self.settlement_for(channel)
            person = self.author_for(code, settlement)
            topic, subtopic = self._topic(settlement.municipality, when)
            content = self.resident_content(channel, settlement, when, person, topic, subtopic)
            drafts.append(self.draft(channel, when, content, settlement, person))
        drafts.sort(key=lambda d: (d.created_at, d.seq))
        return drafts

    def _topic(self, municipality: str, when: datetime) -> tuple[str, str]:
        """The region's seasonal mix, bent around the planned decisions of the place."""
        rng = self.rng
        topic, subtopic = self.composer.pick_topic(rng, karelia.REGION, when)
        day = when.date()
        for planned in self.plan:
            if planned.municipality != municipality:
                continue
            wanted = planned.template.generator_topics
            before = timedelta(0) < planned.day - day <= timedelta(days=BEFORE_DAYS)
            after = timedelta(0) <= day - planned.day < timedelta(days=AFTER_DAYS)
            if before and rng.random() < BEFORE_PULL:
                return self._pick(when, wanted, True) or (topic, subtopic)
            if after and planned.works and topic in wanted and rng.random() < AFTER_DROP:
                return self._pick(when, wanted, False) or (topic, subtopic)
        return topic, subtopic

    def _pick(self, when: datetime, topics: tuple[str, ...], inside: bool
              ) -> tuple[str, str] | None:
        """A topic of the mix in ``topics`` (``inside``) or not in them."""
        for _ in range(60):
            topic, subtopic = self.composer.pick_topic(self.rng, karelia.REGION, when)
            if (topic in topics) == inside:
                return topic, subtopic
        return None  # not in season: the mix stays as it is


class _CountingIds(IdAssigner):
    """A dry run: how many ids each wall, chat or form takes and where its counter starts."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.used: dict[str, tuple[int, int]] = {}

    def _next(self, key: str, start: int, step: tuple[int, int]) -> int:
        self.used[key] = (start, self.used.get(key, (start, 0))[1] + 1)
        return super()._next(key, start, step)


class _EarlierIds(IdAssigner):
    """Ids below those the live stream starts from: the archive is older, so its posts
    have smaller numbers on the same walls and chats, and no id is taken twice."""

    def __init__(self, rng: random.Random, used: dict[str, tuple[int, int]]) -> None:
        super().__init__(rng)
        self.used = used
        self.steps: dict[str, tuple[int, int]] = {}

    def _next(self, key: str, start: int, step: tuple[int, int]) -> int:
        if key not in self.steps:
            live_start, n = self.used[key]
            room = (live_start - 1) // n
            if room >= 1:
                high = min(step[1], room)
                self.steps[key] = (min(step[0], high), high)
                self.counters[key] = live_start - 1 - n * high
            else:  # no room below: numbers far above the live stream's instead
                self.steps[key] = step
                self.counters[key] = live_start + 10**9
        return super()._next(key, start, self.steps[key])


def generate_archive(seed: int = 42, end: datetime | None = None, total: int = 62_000
                     ) -> Iterator[IncomingMessage]:
    """Yield Karelia's archive in ``created_at`` order for a live stream ending at ``end``
    (the current hour by default); deterministic for ``(seed, end, total)``."""
    if total < 1:
        return
    builder = ArchiveBuilder(seed * 7 + 86, end or default_end(), total)
    drafts = builder.build()
    counting = _CountingIds(random.Random(seed))
    for d in drafts:
        counting.message(d)
    assigner = _EarlierIds(random.Random(seed * 1_000_003 + 86), counting.used)
    for d in drafts:
        yield assigner.message(d)


def import_archive(seed: int, total: int, end: datetime,
                   progress: Callable[[int], None] | None = None) -> int:
    """Store the archive through the ordinary import (enrichment left to the caller, as for
    the live stream); returns how many messages were stored."""
    from otklik.channels.files import RowResult
    from otklik.intake.importer import import_rows

    rows = (RowResult(n, m) for n, m in enumerate(generate_archive(seed, end, total), 1))
    return import_rows(rows, enqueue=False, archived=True, progress=progress).stored
