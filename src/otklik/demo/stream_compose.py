"""Single messages of the demo stream: residents' posts, replies, official posts, noise."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from otklik.demo.stream_text import (
    TemplateFiller,
    TextContext,
    naturalize,
    season_of,
)
from otklik.demo.stream_vocab import Channel, Person, Region, Settlement, load_vocab

# Region-specific topic weight multipliers: the stories of DESIGN.md live partly here
# (Stavropol: roads about a quarter of all messages; Samara: waste/container sites).
REGION_TOPIC_BOOST: dict[str, dict[str, float]] = {
    "07": {"roads": 4.3, "agriculture": 1.6},
    "36": {"waste": 2.4},
    "85": {"utilities_water": 1.6, "agriculture": 1.8, "employment": 1.3},
    "86": {"transport": 1.2, "telecom": 1.6, "health": 1.1, "housing": 1.1},
    "68": {"roads": 1.1},
}
# Share of background noise (ads, spam, greetings, chatter, off-topic) among resident roots.
NOISE_RATE: dict[str, float] = {"07": 0.27, "36": 0.3, "85": 0.3, "86": 0.3, "68": 0.3}
NOISE_KINDS = (
    ("ads", 0.33),
    ("spam", 0.1),
    ("greetings", 0.14),
    ("chatter", 0.28),
    ("offtopic", 0.15),
)
KIND_WEIGHTS = (("complaint", 0.56), ("question", 0.28), ("proposal", 0.07), ("gratitude", 0.09))
SUBJECTS: dict[str, tuple[str, ...]] = {
    "roads": ("Жалоба на состояние дороги", "Ремонт дороги"),
    "housing": ("Жалоба на УК",),
    "utilities_water": ("Нет воды",),
    "utilities_heat": ("Отопление",),
    "health": ("Запись к врачу", "Жалоба на поликлинику"),
    "waste": ("Вывоз мусора",),
}
# Generator (topic, subtopic) -> the project's taxonomy subtopic code
# (src/otklik/nlp/taxonomy/taxonomy.json); the top-level code is the part before the dot.
TAXONOMY: dict[tuple[str, str], str] = {
    ("roads", "potholes"): "roads.potholes",
    ("roads", "snow"): "roads.snow",
    ("roads", "sidewalks"): "roads.sidewalks",
    ("roads", "bridge"): "roads.bridges",
    ("housing", "uk"): "housing.mc_inaction",
    ("housing", "lift"): "housing.elevators",
    ("housing", "capital"): "housing.capital_repair",
    ("housing", "emergency_house"): "housing.emergency_housing",
    ("utilities_water", "no_water"): "utilities.no_water",
    ("utilities_heat", "cold"): "utilities.heating",
    ("utilities_heat", "start"): "utilities.heating",
    ("utilities_power", "outage"): "utilities.power",
    ("utilities_gas", "gas"): "utilities.gas",
    ("utilities_sewer", "sewer"): "utilities.sewerage",
    ("yards", "playground"): "improvement.playgrounds",
    ("yards", "trees"): "improvement.trees",
    ("waste", "overflow"): "waste.container_sites",
    ("waste", "dumps"): "waste.illegal_dumps",
    ("waste", "tariff"): "waste.collection",
    ("waste", "no_site"): "waste.container_sites",
    ("waste", "nobody"): "waste.container_sites",
    ("waste", "no_truck"): "waste.collection",
    ("health", "appointment"): "health.appointments",
    ("health", "ambulance"): "health.ambulance",
    ("health", "medicine"): "health.medicines",
    ("health", "doctors"): "health.quality",
    ("education", "kindergarten"): "education.kindergarten",
    ("education", "school"): "education.school_conditions",
    ("transport", "buses"): "transport.frequency",
    ("social", "benefits"): "social.benefits",
    ("social", "svo"): "social.svo_families",
    ("stray_animals", "dogs"): "ecology.stray_animals",
    ("ecology", "pollution"): "ecology.air",
    ("safety", "public_order"): "safety.crime",
    ("telecom", "coverage"): "communications.mobile",
    ("culture_sport", "facilities"): "culture_sport.culture_institutions",
    ("culture_sport", "blogger_grants"): "culture_sport.events",
    ("prices", "prices"): "trade.prices",
    ("employment", "wages"): "employment.wages",
    ("construction", "construction"): "construction.sites",
    ("agriculture", "farm"): "agriculture.farming",
    ("state_services", "mfc"): "government.mfc",
    ("officials", "conduct"): "government.officials_conduct",
}


def taxonomy_of(topic: str, subtopic: str | None) -> tuple[str, str | None]:
    """The taxonomy (topic, subtopic) codes of a generator topic; noise keeps its own name."""
    code = TAXONOMY.get((topic, subtopic or ""))
    if code is None:
        return topic, None
    return code.split(".", 1)[0], code


TONE = {"complaint": "bad", "gratitude": "good", "proposal": "good", "question": "neutral"}


@dataclass
class Draft:
    """One message before its platform ids are assigned (see stream_sources.finalize)."""

    seq: int
    region: str
    channel: Channel
    created_at: datetime
    text: str
    settlement: Settlement
    author: Person | None = None
    parent: Draft | None = None
    topic: str = "noise"
    subtopic: str | None = None
    kind: str = "noise"
    story: str | None = None
    urgent: bool = False
    noise: bool = False
    campaign: str | None = None
    repeat_of: Draft | None = None
    photos: int = 0
    geo: bool = False
    subject: str | None = None
    n_children: int = 0
    ids: dict[str, Any] = field(default_factory=dict)
    # Evaluation only (see stream_sources.incident_of): the street the text names, as in
    # the vocabulary, and whether the message only follows its post ("у нас тоже", "+1").
    street: str | None = None
    follows_post: bool = False

    @property
    def is_post(self) -> bool:
        """True for a thread root (a post, a topic, a first chat message, a letter)."""
        return self.parent is None


@dataclass
class Content:
    """Text plus its demo-only ground truth."""

    text: str
    topic: str
    subtopic: str | None
    kind: str
    urgent: bool = False
    noise: bool = False
    subject: str | None = None
    street: str | None = None
    follows_post: bool = False


def weighted(
    rng: random.Random, pairs: tuple[tuple[str, float], ...] | list[tuple[str, float]]
) -> str:
    """Pick a key from (key, weight) pairs."""
    keys = [k for k, _ in pairs]
    return rng.choices(keys, weights=[w for _, w in pairs])[0]


def end_sentence(text: str) -> str:
    """Make sure a piece ends like a sentence before another one is appended."""
    text = text.strip()
    if not text or text[-1] in ".!?…)»" or not text[-1].isalnum():
        return text
    return text + "."


class Composer:
    """Writes message texts from the vocabularies for a given context."""

    def __init__(self) -> None:
        self.topics: dict[str, Any] = {
            k: v for k, v in load_vocab("topics").items() if not k.startswith("_")
        }
        self.parts = load_vocab("parts")
        self.filler = TemplateFiller()

    # ---- choosing what a resident writes about -------------------------------------------
    def pick_topic(self, rng: random.Random, region: str, when: datetime) -> tuple[str, str]:
        """Topic and subtopic for a resident message, by region mix and season."""
        season = season_of(when.month, region)
        boost = REGION_TOPIC_BOOST.get(region, {})
        pairs = []
        for name, spec in self.topics.items():
            if not any(season in v.get("seasons", [season]) for v in spec["subtopics"].values()):
                continue
            w = spec["weight"] * boost.get(name, 1.0) * spec.get("season_w", {}).get(season, 1.0)
            pairs.append((name, w))
        topic = weighted(rng, pairs)
        subs = [
            (k, 1.0)
            for k, v in self.topics[topic]["subtopics"].items()
            if season in v.get("seasons", [season])
        ]
        return topic, weighted(rng, subs)

    def resident(
        self,
        rng: random.Random,
        ctx: TextContext,
        channel: Channel,
        style: str,
        topic: str,
        subtopic: str,
        kind: str | None = None,
    ) -> Content:
        """A resident's message on a topic, with opener, details, tail and typing habits."""
        spec = self.topics[topic]["subtopics"][subtopic]
        urgent = False
        if kind is None:
            if "urgent" in spec and rng.random() < 0.13:
                kind, urgent = "complaint", True
            else:
                avail = [(k, w) for k, w in KIND_WEIGHTS if k in spec]
                kind = weighted(rng, avail or [("complaint", 1.0)])
        pool = (
            spec["urgent"]
            if urgent
            else spec.get(kind) or spec.get("complaint") or spec["question"]
        )
        k = rng.randrange(len(pool))
        pieces = [end_sentence(self.filler.fill(pool[k], ctx))]
        if kind == "complaint" and not urgent and rng.random() < 0.22 and len(pool) > 1:
            other = (k + rng.randrange(1, len(pool))) % len(pool)
            pieces.append(end_sentence(self.filler.fill(pool[other], ctx)))
        return self._dress(rng, ctx, channel, style, pieces, topic, subtopic, kind, urgent)

    def _dress(
        self,
        rng: random.Random,
        ctx: TextContext,
        channel: Channel,
        style: str,
        pieces: list[str],
        topic: str,
        subtopic: str | None,
        kind: str,
        urgent: bool,
    ) -> Content:
        openers = self.parts["openers"]
        ckind = channel.kind
        key, p_open = {
            "community": ("community", 0.3),
            "chat": ("chat", 0.2),
            "mailbox": ("email", 0.9),
            "form": ("official", 0.3),
            "gospublic": ("authority", 0.4),
            "center": ("authority", 0.4),
        }.get(ckind, ("official", 0.45))
        formal = ckind in ("mailbox", "form") and rng.random() < 0.7
        if rng.random() < p_open:
            opener = self.filler.fill(rng.choice(openers[key]), ctx)
            if opener.endswith(",") and pieces[0][:2] != pieces[0][:2].upper() * 2:
                # "Соседи, когда дадут ..." reads on in one sentence (abbreviations stay).
                pieces[0] = pieces[0][:1].lower() + pieces[0][1:]
            pieces.insert(0, opener)
        tails = self.parts["tails"].get(kind, [])
        if tails and rng.random() < (0.5 if formal else 0.4):
            pieces.append(self.filler.fill(rng.choice(tails), ctx))
        if ckind == "mailbox" or (ckind in ("form", "governor") and style == "elderly"):
            if rng.random() < 0.75:
                pieces.append("\n" + self.filler.fill(rng.choice(self.parts["signatures"]), ctx))
        sep = "\n\n" if ckind == "mailbox" else " "
        text = sep.join(p.strip() for p in pieces if p.strip())
        text = naturalize(text, "formal" if formal else style, rng, TONE.get(kind, "neutral"))
        subject = None
        if ckind == "mailbox":
            subject = rng.choice(
                SUBJECTS.get(topic, ())
                + (
                    "Обращение",
                    "Жалоба",
                    "Прошу помочь",
                    "Вопрос",
                    "(без темы)",
                    "Обращение гражданина",
                )
            )
        return Content(text, topic, subtopic, kind, urgent=urgent, subject=subject,
                       street=ctx.values.get("_street0"))

    def story_text(
        self,
        rng: random.Random,
        ctx: TextContext,
        channel: Channel,
        style: str,
        templates: list[str],
        topic: str,
        subtopic: str,
        kind: str,
        dress: bool = True,
    ) -> Content:
        """A story message from the story's own templates."""
        core = end_sentence(self.filler.fill(rng.choice(templates), ctx))
        if not dress:
            return Content(core, topic, subtopic, kind, street=ctx.values.get("_street0"))
        return self._dress(rng, ctx, channel, style, [core], topic, subtopic, kind, False)

    # ---- noise, replies, official posts ---------------------------------------------------
    def noise(
        self, rng: random.Random, ctx: TextContext, style: str, kind: str | None = None
    ) -> Content:
        """Background noise: ads, spam, greetings, chatter, off-topic."""
        kind = kind or weighted(rng, NOISE_KINDS)
        text = self.filler.fill(rng.choice(self.parts["noise"][kind]), ctx)
        if kind in ("chatter", "offtopic", "greetings"):
            text = naturalize(text, style, rng)
        return Content(text, kind, None, "noise", noise=True)

    def reaction(
        self, rng: random.Random, ctx: TextContext, style: str, mood: str, root: Content
    ) -> Content:
        """A short follow-up under a post: ``у нас тоже``, ``+1``, ``админ, ответьте``."""
        text = self.filler.fill(rng.choice(self.parts["reactions"][mood]), ctx)
        if rng.random() < 0.3:
            text = naturalize(text, style, rng, "bad" if mood != "positive" else "good")
        kind = "gratitude" if mood == "positive" else "complaint"
        if root.noise or root.topic == "official":
            # Comments on an announcement ("Показуха", "Молодцы") ask nothing of anyone.
            return Content(text, "chatter", None, "noise", noise=True)
        return Content(text, root.topic, root.subtopic, kind, follows_post=True)

    def admin_reply(self, rng: random.Random, ctx: TextContext) -> Content:
        """The community's or the authority's short reply under a resident's post."""
        return Content(
            self.filler.fill(rng.choice(self.parts["admin_replies"]), ctx),
            "official",
            None,
            "official",
        )

    def official(self, rng: random.Random, ctx: TextContext, channel: Channel) -> Content:
        """A post of a governor's page, a госпаблик, a community or the center."""
        kind = {"governor": "governor", "gospublic": "gospublic", "center": "center"}.get(
            channel.kind, "community"
        )
        text = self.filler.fill(rng.choice(self.parts["officials"][kind]), ctx)
        return Content(text, "official", None, "official")


def make_context(
    rng: random.Random,
    region: Region,
    settlement: Settlement,
    when: datetime,
    person: Person | None,
) -> TextContext:
    """A fresh template context for one message."""
    return TextContext(rng=rng, region=region, settlement=settlement, when=when, person=person)
