"""Data of problem clustering: the matcher's settings, a case's features, a problem's
state and an assignment. Re-exported by :mod:`otklik.problems.clustering`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from otklik.problems.clustering_text import street_key

# Subtopics whose failures cover a whole district at once: one broken water intake leaves
# every village of a district without water, so their cases join across settlements.
# Chronic complaints (rusty water, smells) are not events and are matched like the rest.
AREA_SUBTOPICS = frozenset(
    {
        "utilities.no_water",
        "utilities.hot_water",
        "utilities.heating",
        "utilities.power",
        "utilities.gas",
        "communications.mobile",
        "communications.internet",
        "communications.tv_radio",
        "safety.flood_disaster",
    }
)

# Outages that last rather than break (see ClusterConfig.season_subtopics): a season (the
# heating not switched on, hot water off for the summer) or a state of the place (no mobile
# signal, poor internet or TV, no gas) that residents keep reporting for weeks. A burst of
# no water or no power stays an event: a week later it is another break.
LASTING_SUBTOPICS = frozenset(
    {
        "utilities.heating",
        "utilities.hot_water",
        "utilities.gas",
        "communications.mobile",
        "communications.internet",
        "communications.tv_radio",
    }
)

# Subjects that sit at an address, so that one street of a town is one problem and the next
# street another (potholes on Lenina and on Mira); every other subject is one problem per
# town (stray dogs in Michurinsk, the queue at the clinic), whatever street a case names.
STREET_TOPICS = frozenset({"roads", "housing", "improvement"})
STREET_SUBTOPICS = frozenset(
    {
        "utilities.water_quality",
        "utilities.sewerage",
        "utilities.storm_drain",
        "utilities.manholes",
        "waste.container_sites",
        "waste.illegal_dumps",
        "waste.bulky_waste",
        "waste.collection",
        "transport.stops",
        "construction.sites",
        "safety.dangerous_objects",
    }
)
NOT_STREET_SUBTOPICS = frozenset({"housing.payments", "improvement.cemeteries"})
# A structure of its own is a problem apart from the street it carries: the overpass on
# Lavrov Street is not the potholes of Lavrov Street (see ClusterConfig.own_subtopics).
OBJECT_SUBTOPICS = frozenset({"roads.bridges"})
# Below this population a settlement is a village or a small town: its streets are not
# problems of their own, and a regional center files its complaints by district (the
# container sites of Samara's villages were counted municipality by municipality).
TOWN_POPULATION = 50_000


def street_bound(code: str | None) -> bool:
    """True when problems of this topic or subtopic code are told apart by street."""
    if not code or code in NOT_STREET_SUBTOPICS:
        return False
    return code in STREET_SUBTOPICS or code.split(".", 1)[0] in STREET_TOPICS


def one_subject(a: str | None, b: str | None, cfg: ClusterConfig) -> bool:
    """The same subtopic; or two subtopics of one topic for things at an address (residents
    and the classifier split «ямы» and «тротуар» of one street at random), except an outage,
    which is its own event (no water and no power are two problems), and a structure of its
    own (the overpass is not the street's potholes): see ClusterConfig.own_subtopics. The
    clinic queue and the medicines of a town stay two problems."""
    if not a or not b:
        return False
    if a == b:
        return True
    if a in cfg.own_subtopics or b in cfg.own_subtopics:
        return False
    return (a.split(".", 1)[0] == b.split(".", 1)[0]
            and street_bound(a) and street_bound(b))



def is_rural(population: int | None) -> bool:
    """True for a settlement filed by district (its population is known and small)."""
    return population is not None and population < TOWN_POPULATION


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    """Weights and gates of the matcher; the defaults are tuned on the tests' stories."""

    w_place: float = 0.35
    w_text: float = 0.5
    w_subtopic: float = 0.15
    area_subtopics: frozenset[str] = AREA_SUBTOPICS
    # Subtopics that join only their own kind; the others of a topic are one subject in one
    # place (residents and the classifier split «ямы» and «тротуар» of a street at random).
    own_subtopics: frozenset[str] = AREA_SUBTOPICS | OBJECT_SUBTOPICS
    # An outage burst: district-wide joins only while the problem was active this recently.
    area_window: timedelta = timedelta(days=3)
    # Outages that last rather than break: the heating season not started, hot water off
    # for the summer, and a town's or village's poor mobile signal, internet, TV or gas
    # (no mast, an old line: residents report it every few weeks, not in a one-day burst).
    # In one settlement the same one stays open this long.
    season_subtopics: frozenset[str] = LASTING_SUBTOPICS
    season_window: timedelta = timedelta(days=30)
    min_text_settlement: float = 0.15
    min_text_area: float = 0.08
    min_text_municipality: float = 0.8
    min_text_other_subtopic: float = 0.3
    # MinHash Jaccard of a copy: as in otklik.nlp.dedup; form letters differing only in
    # the street name reach 0.6-0.7 and must not count as copies.
    near_duplicate: float = 0.8
    # A case naming only the region joins a problem there at this text similarity.
    strong_text: float = 0.6
    # ... and one that does not name the problem's street, town or district at this
    # similarity of the whole text (see ProblemIndex._region_match); above 1: never.
    strong_text_unnamed: float = 0.7
    ignore_topics: frozenset[str] = frozenset({"other"})
    max_terms: int = 48
    max_signatures: int = 4
    # Problems idle longer than this are dropped from memory (they stay in the database).
    retention: timedelta = timedelta(days=120)


@dataclass(frozen=True, slots=True)
class CaseFeatures:
    """What the clusterer needs to know about one case (already enriched)."""

    case_id: int
    created_at: datetime
    topic: str | None
    subtopic: str | None
    region: str | None
    municipality_id: int | None
    settlement_id: int | None
    street: str | None
    house: str | None
    text: str
    lemmas: Sequence[str] | None = None
    # The message's stored dedup key (otklik.nlp.dedup.signature); computed when None.
    signature: str | None = None
    settlement_name: str | None = None
    municipality_name: str | None = None
    # The settlement's population (None: unknown, taken for a town); see is_rural.
    settlement_population: int | None = None


@dataclass(slots=True)
class ProblemState:
    """One problem as the clusterer sees it; ``problem_id`` is None until stored."""

    topic: str
    subtopic: str | None
    region: str | None
    municipality_id: int | None
    settlement_id: int | None
    street: str | None
    first_seen: datetime
    last_seen: datetime
    problem_id: int | None = None
    # term -> number of member cases containing it (a bounded centroid, see max_terms).
    terms: dict[str, float] = field(default_factory=dict)
    size: int = 0
    title: str = ""
    settlement_name: str | None = None
    municipality_name: str | None = None
    case_ids: set[int] = field(default_factory=set)
    signatures: list[str] = field(default_factory=list)
    # Street key -> member cases naming it, for a settlement-wide problem (see street_key).
    streets: dict[str, int] = field(default_factory=dict)
    key: str = ""
    # The version of the rubricator the title was written with (None: stored before
    # titles recorded it, i.e. the packaged one); see ProblemIndex.retitle.
    title_taxonomy: str | None = None
    # Subtopic -> member cases classified so: one subject may span subtopics of a topic
    # (see ProblemIndex), and ``subtopic`` is the commonest of them.
    subtopics: dict[str, int] = field(default_factory=dict)
    # Opened in a village or a small town: its villages' cases of the same subtopic join it
    # and it becomes the district's problem.
    rural: bool = False

    @property
    def street_key(self) -> str | None:
        """The street in comparable form ("улица Лаврова" -> "лавров")."""
        return street_key(self.street)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for storage (see :meth:`from_dict`)."""
        return {
            "key": self.key,
            "problem_id": self.problem_id,
            "topic": self.topic,
            "subtopic": self.subtopic,
            "region": self.region,
            "municipality_id": self.municipality_id,
            "settlement_id": self.settlement_id,
            "street": self.street,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "terms": dict(self.terms),
            "size": self.size,
            "title": self.title,
            "settlement_name": self.settlement_name,
            "municipality_name": self.municipality_name,
            "case_ids": sorted(self.case_ids),
            "signatures": list(self.signatures),
            "streets": dict(self.streets),
            "title_taxonomy": self.title_taxonomy,
            "rural": self.rural,
            "subtopics": dict(self.subtopics),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProblemState:
        """Inverse of :meth:`to_dict`."""
        return cls(
            key=data.get("key") or "",
            problem_id=data.get("problem_id"),
            topic=data["topic"],
            subtopic=data.get("subtopic"),
            region=data.get("region"),
            municipality_id=data.get("municipality_id"),
            settlement_id=data.get("settlement_id"),
            street=data.get("street"),
            first_seen=datetime.fromisoformat(data["first_seen"]),
            last_seen=datetime.fromisoformat(data["last_seen"]),
            terms={str(k): float(v) for k, v in (data.get("terms") or {}).items()},
            size=int(data.get("size") or 0),
            title=data.get("title") or "",
            settlement_name=data.get("settlement_name"),
            municipality_name=data.get("municipality_name"),
            case_ids={int(c) for c in data.get("case_ids") or ()},
            signatures=list(data.get("signatures") or ()),
            streets={str(k): int(v) for k, v in (data.get("streets") or {}).items()},
            title_taxonomy=data.get("title_taxonomy"),
            rural=bool(data.get("rural")),
            subtopics={str(k): int(v) for k, v in (data.get("subtopics") or {}).items()},
        )


@dataclass(slots=True)
class Assignment:
    """The outcome for one case: which problem (None: none), whether new, and why."""

    case_id: int
    problem_key: str | None
    is_new: bool
    score: float
    reasons: list[str]
    pinned: bool = False
    candidates: int = 0


# ---- the index's buckets ---------------------------------------------------------------------
Bucket = dict[str, None]  # an insertion-ordered set: iteration order must not depend on hashing


def add_to(buckets: dict[Any, Bucket], bucket_key: Any, key: str) -> None:
    """Put ``key`` into the bucket ``bucket_key`` (made when missing)."""
    buckets.setdefault(bucket_key, {})[key] = None


def drop_from(buckets: dict[Any, Bucket], bucket_key: Any, key: str) -> None:
    """Take ``key`` out of its bucket (the bucket gone when empty)."""
    bucket = buckets.get(bucket_key)
    if bucket is not None:
        bucket.pop(key, None)
        if not bucket:
            del buckets[bucket_key]


def lean_minhash(values: np.ndarray) -> Any:
    """A LeanMinHash for the LSH; the scheme and seed are those of otklik.nlp.dedup."""
    from datasketch import LeanMinHash

    return LeanMinHash(seed=1, hashvalues=values.astype(np.uint64), scheme="affine32")
