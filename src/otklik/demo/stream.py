"""The demo's generated stream of residents' messages (about 20,000 over 90 days).

``generate_stream`` yields :class:`~otklik.channels.schemas.IncomingMessage` objects in
``created_at`` order for five demo regions (OKTMO codes 86 Karelia, 68 Tambov, 85 Kalmykia,
36 Samara, 07 Stavropol), from VK, Odnoklassniki, Telegram, e-mail and a web form, with the
stories of DESIGN.md woven in. The output depends only on ``(seed, days, end, total)``.

Each message's ``raw["_demo"]`` holds demo-only ground truth (story, topic hint, kind,
urgency, noise, settlement, person key) for the demo loader's simulation and for tests;
the pipeline must not read it.
"""

from __future__ import annotations

import bisect
import json
import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from otklik.channels.schemas import IncomingMessage
from otklik.demo.stream_compose import NOISE_RATE, Composer, Content, Draft, make_context
from otklik.demo.stream_sources import DEMO_META_KEY, email_address, finalize
from otklik.demo.stream_vocab import (
    Channel,
    Person,
    Settlement,
    female_surname,
    load_regions,
    load_vocab,
    patronymic,
    translit,
)

__all__ = ["DEMO_META_KEY", "REGION_CODES", "default_end", "export_jsonl", "generate_stream"]

REGION_CODES = ("86", "68", "85", "36", "07")
# Target shares of messages by source, and the mean thread size each source tends to have;
# threads are drawn with weight share/size so the message shares come out right.
SOURCE_SHARE = {"vk": 0.62, "ok": 0.12, "telegram": 0.15, "email": 0.045, "web": 0.065}
SOURCE_THREAD = {"vk": 4.0, "ok": 2.9, "telegram": 2.6, "email": 1.0, "web": 1.0}
MEAN_COMMENTS = {"community": 2.4, "governor": 7.0, "gospublic": 3.5, "center": 3.5, "chat": 1.6}
# Activity by local hour 0..23 and by weekday (Mon..Sun).
HOUR_PROFILE = (
    0.16,
    0.08,
    0.05,
    0.04,
    0.04,
    0.08,
    0.25,
    0.55,
    0.9,
    1.1,
    1.2,
    1.2,
    1.15,
    1.1,
    1.1,
    1.1,
    1.12,
    1.15,
    1.25,
    1.35,
    1.4,
    1.25,
    0.9,
    0.45,
)
WEEKDAY_PROFILE = (1.0, 1.02, 1.0, 0.98, 0.95, 0.72, 0.68)
STYLES = (("normal", 0.42), ("careless", 0.25), ("angry", 0.12), ("elderly", 0.11), ("young", 0.10))
# Shares that a story needs exactly (of the region's residents' messages on a subject, noise
# and official posts aside: what the dashboard's topic shares count); a feedback loop keeps
# the running share near the target, since whole threads on one topic make plain sampling noisy.
# Stavropol's roads are generated at 28 % so that the dashboard, which sees what the
# classifier accepts, shows "almost a quarter" (23-24 %).
TARGET_SHARE: dict[str, dict[str, float]] = {"07": {"roads": 0.28}}
REPEAT_PREFIXES = (
    "Повторно пишу!",
    "Пишу уже второй раз.",
    "Напоминаю про свою жалобу.",
    "Прошла неделя — ничего не изменилось.",
    "ОПЯТЬ пишу.",
    "Ответа так и не было.",
    "Снова обращаюсь.",
)


def default_end() -> datetime:
    """Where the stream ends by default: the current hour (UTC)."""
    now = datetime.now(UTC)
    return now.replace(minute=0, second=0, microsecond=0)


class StreamBuilder:
    """Builds the whole stream as drafts; deterministic for its arguments."""

    def __init__(self, seed: int, days: int, end: datetime, total: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.days = days
        self.end = end if end.tzinfo else end.replace(tzinfo=UTC)
        self.start = self.end - timedelta(days=days)
        self.total = total
        self.regions = load_regions()
        self.composer = Composer()
        self.seq = 0
        self.quota = self._quotas()
        self.people: dict[str, list[Person]] = {}
        self._people_cum: dict[str, list[float]] = {}
        self._by_home: dict[tuple[str, str], tuple[list[Person], list[float]]] = {}
        self._hour_cum: dict[str, list[float]] = {}
        self._settle_cum: dict[tuple[str, float], list[float]] = {}
        self.topic_counts: dict[str, Counter[str]] = {c: Counter() for c in REGION_CODES}
        for code in REGION_CODES:
            self._make_people(code)
            self._make_hours(code)

    # ---- world --------------------------------------------------------------------------
    def _quotas(self) -> dict[str, int]:
        shares = {c: self.regions[c].share for c in REGION_CODES}
        out = {c: int(self.total * s) for c, s in shares.items()}
        out[REGION_CODES[0]] += self.total - sum(out.values())
        return out

    def _make_people(self, code: str) -> None:
        rng = self.rng
        names = load_vocab("names")
        region = self.regions[code]
        n = max(120, int(self.quota[code] / 3.2))
        males = names["male"] + names["region_male"][code] * 3
        females = names["female"] + names["region_female"][code] * 3
        surnames = names["surnames"] + names["region_surnames"][code] * 3
        people: list[Person] = []
        weights: list[float] = []
        for i in range(n):
            gender = "f" if rng.random() < 0.56 else "m"
            first = rng.choice(females if gender == "f" else males)
            last = rng.choice(surnames)
            if gender == "f":
                last = female_surname(last)
            dims = names["female_dim" if gender == "f" else "male_dim"]
            r = rng.random()
            if r < 0.68:
                display = f"{first} {last}"
            elif r < 0.8 and first in dims:
                display = f"{dims[first]} {last}"
            elif r < 0.9:
                display = f"{first} {last[0]}."
            elif r < 0.95:
                display = f"{first}{rng.choice(names['tg_suffixes'])}".strip()
            else:
                display = f"{rng.choice(names['nick_words'])} {region.capital}"
            home = self._pick_settlement(code, 0.85)
            username = (
                f"{translit(first)}_{translit(last)[:5]}{rng.randint(1, 99)}"
                if rng.random() < 0.55
                else None
            )
            people.append(
                Person(
                    key=f"p{code}-{i:05d}",
                    region=code,
                    gender=gender,
                    first=first,
                    last=last,
                    patronymic=patronymic(rng.choice(names["patronymic_bases"]), gender),
                    display=display,
                    style=rng.choices([s for s, _ in STYLES], weights=[w for _, w in STYLES])[0],
                    home=home,
                    vk_id=rng.randint(1_000_000, 890_000_000),
                    ok_id=rng.randint(500_000_000_000, 599_999_999_999),
                    tg_id=rng.randint(100_000_000, 7_999_999_999),
                    tg_username=username,
                    email=email_address(first, last, rng, names["email_domains"]),
                )
            )
            # A handful of very active writers, then a long tail.
            weights.append(45.0 if i < 5 else min(rng.paretovariate(1.6), 25.0))
        self.people[code] = people
        self._people_cum[code] = _cum(weights)
        homes: dict[str, tuple[list[Person], list[float]]] = {}
        for p, w in zip(people, weights, strict=True):
            lst, ws = homes.setdefault(p.home.name, ([], []))
            lst.append(p)
            ws.append(w)
        for name, (lst, ws) in homes.items():
            self._by_home[(code, name)] = (lst, _cum(ws))

    def _make_hours(self, code: str) -> None:
        tz = self.regions[code].tz
        weights = []
        for h in range(self.days * 24):
            local = (self.start + timedelta(hours=h)).astimezone(tz)
            trend = 0.9 + 0.2 * h / (self.days * 24)
            weights.append(HOUR_PROFILE[local.hour] * WEEKDAY_PROFILE[local.weekday()] * trend)
        self._hour_cum[code] = _cum(weights)

    # ---- sampling helpers ---------------------------------------------------------------
    def next_seq(self) -> int:
        """A running number that keeps creation order among equal timestamps."""
        self.seq += 1
        return self.seq

    def sample_time(
        self, code: str, lo: datetime | None = None, hi: datetime | None = None
    ) -> datetime:
        """A moment in the window (or in [lo, hi]) following the daily/weekly rhythm."""
        cum = self._hour_cum[code]
        a = 0 if lo is None else max(0, int((lo - self.start).total_seconds() // 3600))
        a = min(a, len(cum) - 1)
        b = (
            len(cum)
            if hi is None
            else min(len(cum), int((hi - self.start).total_seconds() // 3600) + 1)
        )
        b = max(b, a + 1)
        base = cum[a - 1] if a else 0.0
        x = base + self.rng.random() * (cum[b - 1] - base)
        idx = min(bisect.bisect_left(cum, x), len(cum) - 1)
        t = self.start + timedelta(hours=idx, seconds=self.rng.randint(0, 3599))
        if lo is not None and t < lo:
            t = lo + timedelta(seconds=self.rng.randint(0, 1800))
        return self.local(code, min(t, self.end))

    def local(self, code: str, t: datetime) -> datetime:
        """The moment in the region's time zone, as its residents' clocks show it."""
        return t.astimezone(self.regions[code].tz)

    def _pick_settlement(self, code: str, power: float) -> Settlement:
        key = (code, power)
        region = self.regions[code]
        if key not in self._settle_cum:
            self._settle_cum[key] = _cum([s.population**power for s in region.settlements])
        cum = self._settle_cum[key]
        return region.settlements[bisect.bisect_left(cum, self.rng.random() * cum[-1])]

    def settlement_for(self, channel: Channel, rural: bool = False) -> Settlement:
        """Where a message in this channel is about: the channel's town mostly."""
        region = self.regions[channel.region]
        if channel.city and self.rng.random() < 0.88:
            return region.settlement(channel.city)
        return self._pick_settlement(channel.region, 0.5 if rural else 0.8)

    def author_for(self, code: str, settlement: Settlement) -> Person:
        """A resident of the settlement when there is one, else of the region."""
        home = self._by_home.get((code, settlement.name))
        if home and self.rng.random() < 0.85:
            lst, cum = home
        else:
            lst, cum = self.people[code], self._people_cum[code]
        return lst[bisect.bisect_left(cum, self.rng.random() * cum[-1])]

    def channel(
        self,
        code: str,
        source: str | None = None,
        kinds: tuple[str, ...] | None = None,
        name: str | None = None,
    ) -> Channel:
        """A channel of the region, weighted, optionally by source, kind or exact name."""
        chans = [
            c
            for c in self.regions[code].channels
            if (source is None or c.source == source)
            and (kinds is None or c.kind in kinds)
            and (name is None or c.name == name)
        ]
        return self.rng.choices(chans, weights=[c.weight for c in chans])[0]

    def draft(
        self,
        channel: Channel,
        when: datetime,
        content: Content,
        settlement: Settlement,
        author: Person | None,
        parent: Draft | None = None,
        story: str | None = None,
    ) -> Draft:
        """A draft from composed content; photos and coordinates for a small share."""
        rng = self.rng
        d = Draft(
            seq=self.next_seq(),
            region=channel.region,
            channel=channel,
            created_at=when,
            text=content.text,
            settlement=settlement,
            author=author,
            parent=parent,
            topic=content.topic,
            subtopic=content.subtopic,
            kind=content.kind,
            story=story,
            urgent=content.urgent,
            noise=content.noise,
            subject=content.subject,
            street=content.street,
            follows_post=content.follows_post,
        )
        resident = author is not None and not content.noise
        if resident and channel.source != "email":
            p_photo = 0.16 if parent is None else 0.03
            if content.urgent:
                p_photo += 0.2
            if rng.random() < p_photo:
                d.photos = 1 if rng.random() < 0.7 else rng.randint(2, 4)
            p_geo = {"vk": 0.07, "ok": 0.02, "web": 0.3}.get(channel.source, 0.0)
            d.geo = parent is None and rng.random() < p_geo
        if parent is not None:
            parent.n_children += 1
        if not content.noise and content.topic != "official":
            # Shares are of what residents wrote about (as the dashboard counts them).
            counts = self.topic_counts[channel.region]
            counts[content.topic] += 1
            counts["*"] += 1
        return d

    def comment_time(self, root_time: datetime) -> datetime:
        """When a reply comes: minutes to days after the post, mostly within hours."""
        minutes = min(self.rng.lognormvariate(3.3, 1.3), 4 * 24 * 60) + 0.5
        return root_time + timedelta(minutes=minutes)

    def ctx(self, code: str, settlement: Settlement, when: datetime, person: Person | None) -> Any:
        """A text context for one message."""
        return make_context(self.rng, self.regions[code], settlement, when, person)

    def resident_content(
        self,
        channel: Channel,
        settlement: Settlement,
        when: datetime,
        person: Person,
        topic: str | None = None,
        subtopic: str | None = None,
        kind: str | None = None,
    ) -> Content:
        """A resident's message on a topic (drawn from the region's mix if not given)."""
        code = channel.region
        if topic is None or subtopic is None:
            topic, subtopic = self._steered_topic(code, when)
        ctx = self.ctx(code, settlement, when, person)
        return self.composer.resident(self.rng, ctx, channel, person.style, topic, subtopic, kind)

    def _steered_topic(self, code: str, when: datetime) -> tuple[str, str]:
        topic, subtopic = self.composer.pick_topic(self.rng, code, when)
        counts = self.topic_counts[code]
        for target_topic, target in TARGET_SHARE.get(code, {}).items():
            if counts["*"] < 50:
                break
            share = counts[target_topic] / counts["*"]
            while share > target + 0.005 and topic == target_topic:
                topic, subtopic = self.composer.pick_topic(self.rng, code, when)
            if share < target - 0.005 and topic != target_topic and self.rng.random() < 0.5:
                while topic != target_topic:
                    topic, subtopic = self.composer.pick_topic(self.rng, code, when)
        return topic, subtopic

    # ---- background threads ---------------------------------------------------------------
    def background(self, code: str, budget: int) -> list[Draft]:
        """Everyday threads of a region until its budget is used up."""
        rng = self.rng
        out: list[Draft] = []
        roots: dict[str, list[Draft]] = {}
        src_pairs = [(s, SOURCE_SHARE[s] / SOURCE_THREAD[s]) for s in SOURCE_SHARE]
        while len(out) < budget:
            source = rng.choices([s for s, _ in src_pairs], weights=[w for _, w in src_pairs])[0]
            channel = self.channel(code, source)
            when = self.sample_time(code)
            thread = self._thread(channel, when, roots, budget - len(out))
            out.extend(thread)
        return out

    def _thread(
        self, channel: Channel, when: datetime, roots: dict[str, list[Draft]], room: int
    ) -> list[Draft]:
        rng = self.rng
        code = channel.region
        settlement = self.settlement_for(channel)
        kind = channel.kind
        if kind in ("governor", "gospublic", "center") or (
            kind == "community" and rng.random() < 0.07
        ):
            content = self.composer.official(rng, self.ctx(code, settlement, when, None), channel)
            root = self.draft(channel, when, content, settlement, None)
            official_root = True
        else:
            person = self.author_for(code, settlement)
            earlier = roots.setdefault(channel.name, [])
            candidates = [
                r
                for r in earlier[-40:]
                if r.kind == "complaint"
                and r.repeat_of is None
                and 4 <= (when - r.created_at).days <= 30
            ]
            if candidates and rng.random() < 0.05:
                root = self._repeat(rng.choice(candidates), when)
            else:
                noise_p = NOISE_RATE[code] * (0.25 if kind in ("mailbox", "form") else 1.0)
                if rng.random() < noise_p:
                    style = person.style
                    content = self.composer.noise(
                        rng,
                        self.ctx(code, settlement, when, person),
                        style,
                        "spam" if kind in ("mailbox", "form") else None,
                    )
                else:
                    content = self.resident_content(channel, settlement, when, person)
                root = self.draft(channel, when, content, settlement, person)
            earlier.append(root)
            official_root = False
        thread = [root]
        if kind in ("mailbox", "form"):
            return thread
        mean = MEAN_COMMENTS.get(kind, 2.0) * (0.8 if channel.source == "ok" else 1.0)
        if root.urgent:
            mean += 4
        if root.noise:
            mean *= 0.5
        n = min(int(rng.expovariate(1 / mean)), 40, room - 1)
        times = sorted(self.comment_time(when) for _ in range(n))
        root_content = Content(root.text, root.topic, root.subtopic, root.kind, noise=root.noise)
        admin_done = False
        for t in times:
            if t > self.end:
                break
            thread.append(self._comment(channel, root, root_content, t, official_root, admin_done))
            admin_done = admin_done or thread[-1].author is None
        return thread

    def _comment(
        self,
        channel: Channel,
        root: Draft,
        root_content: Content,
        when: datetime,
        official_root: bool,
        admin_done: bool,
    ) -> Draft:
        rng = self.rng
        code = channel.region
        settlement = self.settlement_for(channel)
        person = self.author_for(code, settlement)
        ctx = self.ctx(code, settlement, when, person)
        r = rng.random()
        if official_root:
            if r < 0.55:
                content = self.resident_content(channel, settlement, when, person)
            elif r < 0.72:
                content = self.composer.reaction(
                    rng, ctx, person.style, rng.choice(("sceptic", "positive")), root_content
                )
            elif r < 0.86:
                content = self.composer.noise(
                    rng, ctx, person.style, rng.choice(("chatter", "offtopic", "greetings", "ads"))
                )
            else:
                content = self.composer.reaction(rng, ctx, person.style, "generic", root_content)
            return self.draft(channel, when, content, settlement, person, parent=root)
        if r < 0.08 and not admin_done and not root.noise and channel.kind == "community":
            return self.draft(
                channel, when, self.composer.admin_reply(rng, ctx), settlement, None, parent=root
            )
        if r < 0.62 or root.noise:
            mood = "generic" if rng.random() < 0.85 else "sceptic"
            content = self.composer.reaction(rng, ctx, person.style, mood, root_content)
        elif r < 0.8 and root.subtopic:
            content = self.resident_content(
                channel, settlement, when, person, root.topic, root.subtopic
            )
        else:
            content = self.composer.noise(
                rng, ctx, person.style, rng.choice(("chatter", "offtopic", "chatter", "ads"))
            )
        d = self.draft(channel, when, content, settlement, person, parent=root)
        d.story = root.story if not content.noise else None
        return d

    def _repeat(self, orig: Draft, when: datetime) -> Draft:
        prefix = self.rng.choice(REPEAT_PREFIXES)
        content = Content(
            f"{prefix} {orig.text}", orig.topic, orig.subtopic, orig.kind, urgent=orig.urgent,
            street=orig.street,
        )
        d = self.draft(orig.channel, when, content, orig.settlement, orig.author)
        d.repeat_of = orig
        return d

    # ---- everything -----------------------------------------------------------------------
    def build(self) -> list[Draft]:
        """All drafts of the stream, exactly ``total`` of them, sorted by time."""
        from otklik.demo.stream_stories import story_drafts

        drafts: list[Draft] = []
        for code in REGION_CODES:
            stories = _in_window(story_drafts(self, code), self.start, self.end)
            quota = self.quota[code]
            if len(stories) > quota:
                stories = _trim(stories, quota)
            drafts.extend(stories)
            drafts.extend(_trim(self.background(code, quota - len(stories)), quota - len(stories)))
        drafts.sort(key=lambda d: (d.created_at, d.seq))
        return drafts


def _cum(weights: list[float]) -> list[float]:
    out, acc = [], 0.0
    for w in weights:
        acc += w
        out.append(acc)
    return out


def _in_window(drafts: list[Draft], start: datetime, end: datetime) -> list[Draft]:
    """Drafts inside [start, end]; replies go with their posts (posts come first)."""
    kept: set[int] = set()
    out = []
    for d in drafts:
        parent_ok = d.parent is None or id(d.parent) in kept
        if start <= d.created_at <= end and parent_ok:
            kept.add(id(d))
            out.append(d)
        elif d.parent is not None and parent_ok:
            d.parent.n_children -= 1
    return out


def _trim(drafts: list[Draft], n: int) -> list[Draft]:
    """Keep ``n`` drafts, dropping replies before posts so no reply loses its post."""
    if len(drafts) <= n:
        return drafts
    keep = sorted(drafts, key=lambda d: (d.parent is not None, d.created_at, d.seq))[:n]
    kept = {id(d) for d in keep}
    out = [d for d in drafts if id(d) in kept]
    for d in drafts:
        if id(d) not in kept and d.parent is not None:
            d.parent.n_children -= 1
    return out


def generate_stream(
    seed: int = 42, days: int = 90, end: datetime | None = None, total: int = 20000
) -> Iterator[IncomingMessage]:
    """Yield the demo stream in ``created_at`` order; posts always before their comments.

    ``end`` defaults to the current hour (UTC); for fixed ``(seed, days, end, total)`` the
    output is identical on every run.
    """
    if total < 1 or days < 1:
        return
    builder = StreamBuilder(seed, days, end or default_end(), total)
    drafts = builder.build()
    yield from finalize(drafts, random.Random(seed * 1_000_003 + 17))


def export_jsonl(path: str | Path, **kwargs: Any) -> int:
    """Write the stream to a JSONL file (one ``IncomingMessage`` per line); return the count."""
    count = 0
    with Path(path).open("w", encoding="utf-8") as fh:
        for msg in generate_stream(**kwargs):
            fh.write(json.dumps(msg.model_dump(mode="json"), ensure_ascii=False))
            fh.write("\n")
            count += 1
    return count
