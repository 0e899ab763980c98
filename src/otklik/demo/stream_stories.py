"""The stories of DESIGN.md woven into the demo stream (one function per story).

Story sizes are fractions of the region's quota, so a smaller ``total`` keeps the shape.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from otklik.demo.stream_compose import Content, Draft
from otklik.demo.stream_vocab import Channel, Person, Settlement, load_vocab

if TYPE_CHECKING:
    from otklik.demo.stream import StreamBuilder

OVERPASS = "michurinsk_overpass"
WATER = "kalmykia_water_outage"
SITES = "samara_container_sites"
PROPOSAL = "karelia_resident_proposal"
GRANTS = "karelia_blogger_grants"
ROADS = "stavropol_roads"

WATER_DAYS_BEFORE_END = 40  # the outage starts this many days before the end of the window
DIRECT_LINE_DAYS_BEFORE_END = 18


def story_drafts(b: StreamBuilder, code: str) -> list[Draft]:
    """All story drafts of one region."""
    stories = load_vocab("stories")
    out: list[Draft] = []
    if code == "68":
        out += overpass(b, stories["overpass"])
    if code == "85":
        out += water_outage(b, stories["water"])
    if code == "36":
        out += container_sites(b, stories["samara_sites"])
    if code == "86":
        out += resident_proposal(b, stories["proposal"])
        out += blogger_grants(b, stories["grants"])
    for camp in stories["campaigns"]:
        if camp["region"] == code:
            out += campaign(b, camp)
    return out


def _thread(
    b: StreamBuilder,
    channel: Channel,
    when: datetime,
    root: Content,
    settlement: Settlement,
    author: Person | None,
    story: str,
    n_comments: int,
    make_comment: Callable[[datetime, Settlement, Person], Content],
    spread_hours: float | None = None,
) -> list[Draft]:
    """A post and its replies, all tagged with the story."""
    post = b.draft(channel, when, root, settlement, author, story=story)
    out = [post]
    times = []
    for _ in range(n_comments):
        if spread_hours is None:
            times.append(b.comment_time(when))
        else:
            times.append(when + timedelta(hours=b.rng.uniform(0.05, spread_hours)))
    for t in sorted(times):
        place = b.settlement_for(channel) if channel.city is None else settlement
        person = b.author_for(channel.region, place)
        out.append(
            b.draft(
                channel, t, make_comment(t, place, person), place, person, parent=post, story=story
            )
        )
    return out


def _rural_site_message(message: Callable[[datetime, Settlement, Person], Content],
                        b: StreamBuilder, channel: Channel, t: datetime, _place: Settlement,
                        person: Person) -> Content:
    """A container-site comment written from a village of the channel's area."""
    return message(t, b.settlement_for(channel, rural=True), person)


def _grant_question(b: StreamBuilder, channel: Channel, questions: Any, t: datetime,
                    place: Settlement, person: Person) -> Content:
    """A question under a bloggers' grant contest post."""
    return _story_content(b, channel, place, t, person, questions, "culture_sport",
                          "blogger_grants", "question")


def _story_content(
    b: StreamBuilder,
    channel: Channel,
    settlement: Settlement,
    when: datetime,
    person: Person | None,
    templates: list[str],
    topic: str,
    subtopic: str,
    kind: str,
    dress: bool = True,
) -> Content:
    ctx = b.ctx(channel.region, settlement, when, person)
    style = person.style if person else "formal"
    return b.composer.story_text(
        b.rng, ctx, channel, style, templates, topic, subtopic, kind, dress=dress
    )


def _fill(b: StreamBuilder, code: str, settlement: Settlement, when: datetime, text: str) -> str:
    return b.composer.filler.fill(text, b.ctx(code, settlement, when, None))


# ---- Tambov: the overpass on Lavrov Street in Michurinsk ----------------------------------
def overpass(b: StreamBuilder, spec: dict[str, Any]) -> list[Draft]:
    """A growing cluster about the Lavrov Street overpass, and the governor's direct line."""
    rng = b.rng
    code = spec["region"]
    town = b.regions[code].settlement(spec["settlement"])
    budget = int(b.quota[code] * 0.10)
    dl = b.end - timedelta(days=DIRECT_LINE_DAYS_BEFORE_END)
    dl = b.local(code, dl.replace(hour=9, minute=0, second=0, microsecond=0))
    kinds = (("complaint", 0.66), ("question", 0.26), ("proposal", 0.08))
    out: list[Draft] = []

    def message(t: datetime, place: Settlement, person: Person, phase: str = "") -> Content:
        if phase == "dl" or (t > dl and rng.random() < 0.35):
            return _story_content(
                b, channel, town, t, person, spec["direct_line"], "roads", "bridge", "complaint"
            )
        if rng.random() < 0.3:
            root_c = Content("", "roads", "bridge", "complaint")
            ctx = b.ctx(code, town, t, person)
            return b.composer.reaction(rng, ctx, person.style, "generic", root_c)
        kind = rng.choices([k for k, _ in kinds], weights=[w for _, w in kinds])[0]
        return _story_content(b, channel, town, t, person, spec[kind], "roads", "bridge", kind)

    # The direct line: the governor's post and a burst of replies about the overpass.
    channel = b.channel(code, kinds=("governor",))
    dl_post = Content(_fill(b, code, town, dl, spec["dl_post"]), "official", None, "official")
    n_dl = max(3, int(budget * 0.22))
    out += _thread(
        b,
        channel,
        dl + timedelta(hours=3),
        dl_post,
        town,
        None,
        OVERPASS,
        n_dl,
        lambda t, p, a: message(t, p, a, "dl"),
        spread_hours=96,
    )
    # Community news posts with discussions.
    for k, text in enumerate(spec["news_post"]):
        channel = b.channel(code, kinds=("community",), source="vk")
        when = b.sample_time(code, lo=b.start + timedelta(days=b.days * (0.35 + 0.4 * k)))
        news = Content(text, "roads", "bridge", "official")
        out += _thread(
            b, channel, when, news, town, None, OVERPASS, max(2, int(budget * 0.07)), message
        )
    # The growing stream of residents' posts with short discussions.
    michurinsk = [
        c
        for c in b.regions[code].channels
        if c.city == "Мичуринск" or c.kind in ("governor", "mailbox", "form")
    ]
    while len(out) < budget:
        channel = rng.choices(michurinsk, weights=[c.weight for c in michurinsk])[0]
        # Density grows towards the end of the window, over a low steady floor.
        u = rng.random() if rng.random() < 0.2 else rng.random() ** (1 / 2.4)
        when = b.sample_time(
            code,
            lo=b.start + timedelta(days=b.days * u * 0.98),
            hi=b.start + timedelta(days=b.days * u * 0.98 + 1),
        )
        person = b.author_for(code, town)
        if channel.kind == "governor":
            root = b.composer.official(rng, b.ctx(code, town, when, None), channel)
            author = None
        else:
            root = message(when, town, person)
            author = person
        n = 0 if channel.kind in ("mailbox", "form") else min(int(rng.expovariate(1 / 2.5)), 12)
        n = min(n, budget - len(out) - 1)
        out += _thread(b, channel, when, root, town, author, OVERPASS, n, message)
    return out


# ---- Kalmykia: water intake failure ------------------------------------------------------
def water_outage(b: StreamBuilder, spec: dict[str, Any]) -> list[Draft]:
    """Over 12,000 residents of one district without water for three days, then restored."""
    rng = b.rng
    code = spec["region"]
    region = b.regions[code]
    places = [region.settlement(n) for n in spec["settlements"]]
    budget = int(b.quota[code] * 0.17)
    start = (b.end - timedelta(days=WATER_DAYS_BEFORE_END)).astimezone(region.tz)
    start = start.replace(hour=5, minute=40, second=0, microsecond=0)
    out: list[Draft] = []

    def phase_of(t: datetime) -> str:
        h = (t - start).total_seconds() / 3600
        if h > 86:
            return "echo"
        if h > 66:
            return "restored"
        if h > 8 and rng.random() < 0.5:
            return "tankers"
        return "outage"

    def message(t: datetime, place: Settlement, person: Person) -> Content:
        phase = phase_of(t)
        if rng.random() < 0.18 and phase != "echo":
            ctx = b.ctx(code, place, t, person)
            mood = "positive" if phase == "restored" else "generic"
            return b.composer.reaction(
                rng,
                ctx,
                person.style,
                mood,
                Content("", "utilities_water", "no_water", "complaint"),
            )
        kind = {
            "outage": "complaint",
            "tankers": "question",
            "restored": "gratitude",
            "echo": "question",
        }[phase]
        return _story_content(
            b,
            channel,
            rng.choice(places),
            t,
            person,
            spec[phase],
            "utilities_water",
            "no_water",
            kind,
        )

    def when_in(hours_lo: float, hours_hi: float) -> datetime:
        return start + timedelta(hours=rng.uniform(hours_lo, hours_hi))

    # Official updates: heightened readiness, HQ and funds, the tanker schedule, restoration.
    offsets = (3, 11, 30, 52, 70)
    gov_channels = [c for c in region.channels if c.kind in ("governor", "gospublic")]
    per_post = max(2, int(budget * 0.38 / len(offsets)))
    for k, (off, text) in enumerate(zip(offsets, spec["official"], strict=True)):
        channel = gov_channels[k % len(gov_channels)]
        when = start + timedelta(hours=off)
        lagan = places[0]
        post = Content(_fill(b, code, lagan, when, text), "official", None, "official")
        post.urgent = k < 3
        out += _thread(
            b,
            channel,
            when,
            post,
            lagan,
            None,
            WATER,
            per_post,
            message,
            spread_hours=20 if k < 4 else 14,
        )
    # Residents' posts in the local communities and chats.
    local = [c for c in region.channels if c.kind in ("community", "chat", "mailbox", "form")]
    while len(out) < budget:
        channel = rng.choices(
            local, weights=[c.weight * (3 if c.city == "Лагань" else 1) for c in local]
        )[0]
        r = rng.random()
        when = (
            when_in(0.3, 40)
            if r < 0.55
            else when_in(40, 66)
            if r < 0.82
            else when_in(66, 84)
            if r < 0.93
            else when_in(96, 14 * 24)
        )
        place = rng.choice(places)
        person = b.author_for(code, place)
        root = message(when, place, person)
        if root.kind == "complaint" and rng.random() < 0.35:
            root.urgent = True
        n = 0 if channel.kind in ("mailbox", "form") else min(int(rng.expovariate(1 / 3.0)), 15)
        n = min(n, budget - len(out) - 1)
        out += _thread(b, channel, when, root, place, person, WATER, n, message, spread_hours=10)
    return out


# ---- Samara: container sites --------------------------------------------------------------
def container_sites(b: StreamBuilder, spec: dict[str, Any]) -> list[Draft]:
    """Missing, overflowing, ownerless container sites; garbage trucks skipping villages."""
    rng = b.rng
    code = spec["region"]
    budget = int(b.quota[code] * 0.08)
    subs = (("no_site", 0.3), ("overflow", 0.3), ("nobody", 0.2), ("no_truck", 0.2))
    out: list[Draft] = []

    def message(t: datetime, place: Settlement, person: Person) -> Content:
        sub = rng.choices([s for s, _ in subs], weights=[w for _, w in subs])[0]
        kind = "question" if sub == "no_truck" and rng.random() < 0.4 else "complaint"
        return _story_content(b, channel, place, t, person, spec[sub], "waste", sub, kind)

    for k, text in enumerate(spec["official"]):
        channel = b.channel(code, kinds=("gospublic", "governor"))
        when = b.sample_time(code, lo=b.start + timedelta(days=b.days * (0.55 + 0.3 * k)))
        place = b.regions[code].settlement("Самара")
        post = Content(text, "official", None, "official")
        out += _thread(
            b,
            channel,
            when,
            post,
            place,
            None,
            SITES,
            max(2, int(budget * 0.06)),
            partial(_rural_site_message, message, b, channel),
        )
    while len(out) < budget:
        channel = b.channel(code, kinds=("community", "chat", "mailbox", "form"))
        when = b.sample_time(code)
        place = b.settlement_for(channel, rural=True)
        if channel.city is None and place.is_town and rng.random() < 0.6:
            place = b.settlement_for(channel, rural=True)
        person = b.author_for(code, place)
        root = message(when, place, person)
        n = 0 if channel.kind in ("mailbox", "form") else min(int(rng.expovariate(1 / 2.0)), 10)
        n = min(n, budget - len(out) - 1)
        out += _thread(b, channel, when, root, place, person, SITES, n, message)
    return out


# ---- Karelia: a resident's proposal and the blogger grants -------------------------------
def resident_proposal(b: StreamBuilder, spec: dict[str, Any]) -> list[Draft]:
    """A software engineer with cerebral palsy proposes his software for rehabilitation."""
    rng = b.rng
    code = spec["region"]
    region = b.regions[code]
    town = region.settlement(spec["settlement"])
    a = spec["author"]
    base = b.author_for(code, town)
    author = Person(
        key=f"p{code}-proposal",
        region=code,
        gender=a["gender"],
        first=a["first"],
        last=a["last"],
        patronymic="Андреевич",
        display=f"{a['first']} {a['last']}",
        style="formal",
        home=town,
        vk_id=base.vk_id + 7,
        ok_id=base.ok_id + 7,
        tg_id=base.tg_id + 7,
        tg_username=None,
        email="ilya.savinen@example.org",
    )
    channel = b.channel(code, kinds=("governor",))
    center = b.channel(code, kinds=("center",))
    when = b.sample_time(
        code, lo=b.end - timedelta(days=min(b.days, 62)), hi=b.end - timedelta(days=min(b.days, 61))
    )
    gov_post = b.composer.official(rng, b.ctx(code, town, when, None), channel)
    root = b.draft(channel, when, gov_post, town, None)
    out = [root]
    text = _fill(b, code, town, when, spec["post"])
    prop = b.draft(
        channel,
        when + timedelta(minutes=rng.randint(20, 300)),
        Content(text, "social", "svo", "proposal"),
        town,
        author,
        parent=root,
        story=PROPOSAL,
    )
    out.append(prop)
    n_support = max(1, min(len(spec["support"]), int(b.quota[code] * 0.004)))
    for line in rng.sample(spec["support"], n_support):
        person = b.author_for(code, town)
        t = prop.created_at + timedelta(minutes=rng.randint(10, 3000))
        out.append(
            b.draft(
                channel,
                t,
                Content(line, "social", "svo", "proposal"),
                town,
                person,
                parent=root,
                story=PROPOSAL,
            )
        )
    t = prop.created_at + timedelta(hours=rng.randint(20, 40))
    out.append(
        b.draft(
            channel,
            t,
            Content(spec["center_reply"], "official", None, "official"),
            town,
            None,
            parent=root,
            story=PROPOSAL,
        )
    )
    follow_topics = (
        ("safety", "public_order", "proposal"),
        ("social", "svo", "gratitude"),
        ("social", "svo", "proposal"),
    )
    for k, text in enumerate(spec["followups"]):
        t = prop.created_at + timedelta(days=6 + 14 * k, hours=rng.randint(0, 8))
        topic, sub, kind = follow_topics[k]
        ch = channel if k != 1 else center
        post_root = b.draft(
            ch,
            t - timedelta(hours=rng.randint(1, 5)),
            b.composer.official(rng, b.ctx(code, town, t, None), ch),
            town,
            None,
        )
        out += [
            post_root,
            b.draft(
                ch,
                t,
                Content(text, topic, sub, kind),
                town,
                author,
                parent=post_root,
                story=PROPOSAL,
            ),
        ]
    return out


def blogger_grants(b: StreamBuilder, spec: dict[str, Any]) -> list[Draft]:
    """The center's blogger grant contest announcement and residents' questions about it."""
    code = spec["region"]
    region = b.regions[code]
    town = region.settlement(region.capital)
    budget = max(3, int(b.quota[code] * 0.017))
    when = b.sample_time(
        code, lo=b.end - timedelta(days=min(b.days, 35)), hi=b.end - timedelta(days=min(b.days, 34))
    )
    out: list[Draft] = []
    for k, ch in enumerate(
        (
            b.channel(code, kinds=("center",)),
            b.channel(code, kinds=("governor",)),
            b.channel(code, source="telegram"),
        )
    ):
        t = when + timedelta(hours=3 * k)
        post = Content(
            _fill(b, code, town, t, spec["post"]), "culture_sport", "blogger_grants", "official"
        )
        share = (0.55, 0.3, 0.15)[k]
        out += _thread(
            b,
            ch,
            t,
            post,
            town,
            None,
            GRANTS,
            max(1, int(budget * share) - 1),
            partial(_grant_question, b, ch, spec["questions"]),
            spread_hours=24 * 14,
        )
    return out


# ---- copy-paste campaigns -----------------------------------------------------------------
def campaign(b: StreamBuilder, spec: dict[str, Any]) -> list[Draft]:
    """Near-identical texts from different authors within a few days (a petition drive)."""
    rng = b.rng
    code = spec["region"]
    region = b.regions[code]
    n = max(2, int(b.quota[code] * spec["size"]))
    channel = b.channel(code, kinds=(spec["channel_kind"],))
    anchor = b.start + timedelta(days=b.days * spec["at"])
    root_place = (
        region.settlement(spec["settlement"])
        if spec["settlement"]
        else region.settlement(region.capital)
    )
    root = b.draft(
        channel,
        b.local(code, anchor),
        b.composer.official(rng, b.ctx(code, root_place, anchor, None), channel),
        root_place,
        None,
    )
    out = [root]
    signers = rng.sample(b.people[code], min(n, len(b.people[code])))
    for k in range(n):
        t = b.sample_time(
            code, lo=anchor + timedelta(minutes=10), hi=anchor + timedelta(days=spec["spread_days"])
        )
        place = root_place if spec["settlement"] else b.settlement_for(channel, rural=True)
        person = signers[k % len(signers)]
        text = spec["text"]
        r = rng.random()
        if r < 0.25:
            text = rng.choice(("Поддерживаю! ", "Присоединяюсь. ", "Подписываюсь: ", "+++ ")) + text
        elif r < 0.45:
            text = text + " " + rng.choice(("🙏", "‼️", "Жители.", f"{person.first}.", "Просим!!!"))
        elif r < 0.55:
            text = text.replace("!", ".")
        d = b.draft(
            channel,
            t,
            Content(text, spec["topic"], spec["subtopic"], spec["kind"]),
            place,
            person,
            parent=root,
            story=spec.get("story", ROADS if code == "07" else None),
        )
        d.campaign = spec["id"]
        out.append(d)
    return out
