"""The emergency detector: enriched messages in, in time order, signals out (pure).

Three detectors share one pass over the stream (docs/incidents.md):

* **spike** — a topic in a territory (a municipality, and a settlement when the message
  names one) gets more different authors in the window than its baseline allows
  (:mod:`otklik.incidents.baseline`);
* **hazard** — the urgency stage's hazard signals (no water, heat, power or gas, flood, fire,
  a live wire, people trapped, children at risk, …) from several different authors in one
  place, tested against that hazard's own baseline there;
* **burst** — near-identical messages (the dedup stage's ``duplicate_of``) or messages on the
  same subject and street from different authors in one place.

Everything counts *authors*, not messages: one author's flood of identical posts is one
voice. A signal, once fired, stays open for its place and topic and collects the messages
that follow (no second signal for the same thing) until the place is quiet for
``quiet_after``. A message late beyond the window, one seen twice or one without a place
never raises an exception: it is counted where it can be and fires nothing by itself.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from otklik.incidents.baseline import (
    HOUR,
    Series,
    WeekProfile,
    tail_probability,
    timestamp,
)
from otklik.incidents.settings import DetectorSettings, Thresholds

#: Hazards whose signal is critical whatever the count: life is at risk.
CRITICAL_HAZARDS = frozenset({"fire", "explosion", "gas_smell", "people_trapped", "collapse",
                              "threat_to_life", "live_wire", "children_at_risk", "flood"})
#: Hazards that leave homes without a utility: high, critical for many people.
UTILITY_HAZARDS = frozenset({"no_water", "no_heating", "no_power", "no_gas", "sewage"})
#: Hazards the detector follows. Ice and snow, a road accident, a fallen tree, an open
#: manhole or a dog are one spot's trouble or the season's (the first snow is everywhere at
#: once): their messages still count in their topic's spikes.
TRACKED_HAZARDS = CRITICAL_HAZARDS | UTILITY_HAZARDS
#: A settlement up to this size is affected as a whole by a utility outage.
WHOLE_PLACE_POPULATION = 10_000
#: In a larger place, each different author stands for about this many residents.
RESIDENTS_PER_AUTHOR = 150


def _surge_now(regional: Series, ts: float, horizon: float, factor: float) -> float:
    """How many times the region's usual count of a stream the current window holds (≥ 1)."""
    expected = regional.expected(ts, horizon / HOUR, factor, 0.0)
    if expected <= 0 or regional.level <= 0:
        return 1.0
    return min(max(len(regional.window) / expected, 1.0), 20.0)


@dataclass(frozen=True)
class Place:
    """A municipality or settlement: name and OKTMO code (either may be missing)."""

    name: str | None
    oktmo: str | None

    @property
    def key(self) -> str | None:
        """What identifies the place in counts."""
        return self.oktmo or self.name

    def as_dict(self) -> dict[str, str | None]:
        """``{"name", "oktmo"}``."""
        return {"name": self.name, "oktmo": self.oktmo}


@dataclass(frozen=True)
class Observation:
    """What the detector needs of one enriched message."""

    id: str
    at: datetime
    author: str
    topic_code: str
    topic_name: str
    region_code: str | None = None
    region_name: str | None = None
    municipality: Place | None = None
    settlement: Place | None = None
    street: str | None = None
    hazards: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    duplicate_of: str | None = None
    critical: bool = False

    @classmethod
    def from_enriched(cls, raw: Mapping[str, Any], enriched: Mapping[str, Any], at: datetime
                      ) -> Observation:
        """From an input record (``author``, ``region``) and its ``otklik enrich`` record."""
        territory = enriched.get("territory") or {}
        region = territory.get("region") or {}
        urgency = enriched.get("urgency") or {}
        matched = ((enriched.get("explain") or {}).get("urgency") or {}).get("matched") or {}
        hazards = tuple(s for s in urgency.get("signals") or () if s in TRACKED_HAZARDS)
        topic = enriched.get("topic") or {}
        author = str(raw.get("author") or "").strip()
        if not author:  # anonymous: one voice per distinct text, so a copied text is one
            author = "?" + str(enriched.get("duplicate_of") or enriched.get("id"))
        return cls(
            id=str(enriched.get("id")), at=at, author=author,
            topic_code=str(topic.get("code") or "other"), topic_name=str(topic.get("name") or ""),
            region_code=region.get("code") or _str(raw.get("region")),
            region_name=region.get("name"),
            municipality=_place(territory.get("municipality")),
            settlement=_place(territory.get("settlement")),
            street=territory.get("street") or None, hazards=hazards,
            words=tuple(str(matched[h]) for h in hazards if h in matched),
            duplicate_of=enriched.get("duplicate_of"),
            critical=urgency.get("level") == "critical",
        )


def _str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _place(value: Any) -> Place | None:
    if not isinstance(value, dict) or not (value.get("name") or value.get("oktmo")):
        return None
    return Place(value.get("name"), value.get("oktmo"))


@dataclass
class Signal:
    """One fired signal and the messages it ties together."""

    number: int
    kind: str  # spike | hazard | burst
    fired_at: datetime
    topic: dict[str, str]
    region: dict[str, str | None] | None
    municipality: Place | None
    settlement: Place | None
    first_message_id: str
    reason: dict[str, Any]
    confidence: float
    message_ids: list[str] = field(default_factory=list)
    authors: set[str] = field(default_factory=set)
    hazards: set[str] = field(default_factory=set)
    streets: set[str] = field(default_factory=set)
    roots: set[str] = field(default_factory=set)
    critical_messages: int = 0
    opened_ts: float = 0.0
    last_ts: float = 0.0

    @property
    def id(self) -> str:
        """``sig-000001``: the signal's number in the run."""
        return f"sig-{self.number:06d}"

    def attach(self, obs: Observation, ts: float) -> None:
        """Tie a message to this signal."""
        self.message_ids.append(obs.id)
        self.authors.add(obs.author)
        self.hazards.update(obs.hazards)
        self.roots.add(obs.duplicate_of or obs.id)
        self.critical_messages += obs.critical
        self.last_ts = max(self.last_ts, ts)

    def severity(self) -> str:
        """critical (life at risk, or a utility out for many), high (a utility, a hazard),
        normal (a spike or burst without a hazard)."""
        if self.hazards & CRITICAL_HAZARDS:
            return "critical"
        if self.hazards & UTILITY_HAZARDS:
            affected = self.people_affected()
            return "critical" if (affected or 0) >= 1000 or self.critical_messages >= 3 else "high"
        return "high" if self.hazards else "normal"

    def people_affected(self) -> int | None:
        """Residents affected, estimated from the population of the place (see docs)."""
        from otklik.incidents.population import population

        place = self.settlement or self.municipality
        region = (self.region or {}).get("code")
        people = population(place.oktmo, place.name, region) if place else None
        if people is None or people <= 0:
            return None
        if people <= WHOLE_PLACE_POPULATION and self.settlement is not None:
            return people
        return min(people, RESIDENTS_PER_AUTHOR * len(self.authors))

    def as_dict(self) -> dict[str, Any]:
        """The output record (``otklik signals``; signal_schema.json)."""
        return {
            "id": self.id,
            "fired_at": self.fired_at.isoformat(),
            "kind": self.kind,
            "topic": self.topic,
            "territory": {
                "region": self.region,
                "municipality": self.municipality.as_dict() if self.municipality else None,
                "settlement": self.settlement.as_dict() if self.settlement else None,
            },
            "message_ids": list(self.message_ids),
            "first_message_id": self.first_message_id,
            "severity": self.severity(),
            "people_affected": self.people_affected(),
            "confidence": self.confidence,
            "reason": self.reason,
        }


class _Region:
    """Per region: the week profile and the regional series of each topic and hazard."""

    __slots__ = ("profile", "streams", "started")

    def __init__(self, started: float) -> None:
        self.started = started  # the first message seen: every series is as old as this
        self.profile = WeekProfile()
        self.streams: dict[str, Series] = {}

    def copy(self) -> _Region:
        other = _Region(self.started)
        other.profile = self.profile.copy()
        other.streams = {k: v.copy() for k, v in self.streams.items()}
        return other


class Detector:
    """Feed observations in time order with :meth:`observe`; read :attr:`signals`."""

    def __init__(self, settings: DetectorSettings | None = None) -> None:
        self.settings = settings or DetectorSettings()
        self.signals: list[Signal] = []
        self.seen = 0
        self.skipped_duplicates = 0
        self.late = 0
        self._ids: set[str] = set()
        self._clock = -math.inf
        self._regions: dict[str, _Region] = {}
        self._series: dict[tuple[str, ...], Series] = {}
        self._open: dict[tuple[str, str], Signal] = {}  # (place key, topic) -> open signal
        self._topics: dict[str, tuple[str, str]] = {}
        self._hazards_of: dict[str, tuple[str, ...]] = {}
        self._topic_order: deque[tuple[float, str]] = deque()

    def fork(self) -> Detector:
        """An independent copy: fed the same further messages, it gives what this one would
        (the live detector keeps a settled one and forks it to re-feed a reordered tail)."""
        other = Detector(self.settings)
        copies: dict[int, Signal] = {}
        for signal in self.signals:
            copies[id(signal)] = replace(
                signal, message_ids=list(signal.message_ids), authors=set(signal.authors),
                hazards=set(signal.hazards), streets=set(signal.streets),
                roots=set(signal.roots))
        other.signals = [copies[id(s)] for s in self.signals]
        other.seen, other.skipped_duplicates, other.late = (
            self.seen, self.skipped_duplicates, self.late)
        other._ids = set(self._ids)
        other._clock = self._clock
        other._regions = {k: v.copy() for k, v in self._regions.items()}
        other._series = {k: v.copy() for k, v in self._series.items()}
        other._open = {k: copies[id(v)] for k, v in self._open.items()}
        other._topics = dict(self._topics)
        other._hazards_of = dict(self._hazards_of)
        other._topic_order = deque(self._topic_order)
        return other

    # --- input ---------------------------------------------------------------------------
    def run(self, observations: Iterable[Observation]) -> list[Signal]:
        """Observe every message; return all signals."""
        for obs in observations:
            self.observe(obs)
        return self.signals

    def observe(self, obs: Observation) -> list[Signal]:
        """One message; returns the signals it fired (usually none)."""
        if obs.id in self._ids:
            self.skipped_duplicates += 1
            return []
        self._ids.add(obs.id)
        self.seen += 1
        ts = timestamp(obs.at)
        th = self.settings.for_place(obs.region_code, obs.topic_code)
        horizon = th.window.total_seconds()
        late = ts < self._clock - horizon
        if late:
            self.late += 1
        self._clock = max(self._clock, ts)
        region = self._regions.get(obs.region_code or "")
        if region is None:
            region = self._regions[obs.region_code or ""] = _Region(ts)
        region.profile.add(ts)
        factor = region.profile.factor(ts)
        self._remember_topic(obs, ts, horizon)
        streams = ([obs.topic_code] if obs.topic_code != "other" else []) + [
            "!" + h for h in obs.hazards]
        placed = obs.municipality is not None or obs.settlement is not None
        weights: dict[str, float] = {}
        for stream in streams if placed else ():  # a place-less "у нас" is no other place
            regional = region.streams.get(stream)
            if regional is None:
                regional = region.streams[stream] = Series(region.started)
            regional.add(ts, 1.0 / factor, obs.author, obs.id, horizon)
            # A place learns its level net of the region-wide rise of the moment: the heating
            # season's first days must not leave every town a high baseline for weeks (the
            # region's own level takes the season in; the surge then falls back to 1).
            weights[stream] = 1.0 / (factor * _surge_now(regional, ts, horizon, factor))

        joined = self._join_open(obs, ts, th)
        if obs.municipality is None and obs.settlement is None:
            # No town: only "затопило улицу Степная" from several authors can fire (a street
            # of the region); otherwise it counts where it joined an open signal, if any.
            if not (obs.street and obs.hazards) or late or joined:
                return []
            street = Place(obs.street, None)
            for hazard in obs.hazards:
                street_key = (obs.region_code or "", "street:" + obs.street.lower(),
                              "!" + hazard)
                series = self._series.get(street_key)
                if series is None:
                    series = self._series[street_key] = Series(region.started)
                series.add(ts, 1.0 / factor, obs.author, obs.id, horizon)
                signal = self._test_series(obs, ts, th, region, factor, street, "!" + hazard,
                                           series)
                if signal is not None:
                    return [signal]
            return []
        places = [p for p in (obs.settlement, obs.municipality) if p is not None and p.key]
        total = region.streams.get("*")
        if total is None:
            total = region.streams["*"] = Series(region.started)
        total.add(ts, 1.0 / factor, obs.author, obs.id, horizon)
        for place in places:  # every message of the place: its share of the region
            key = (place.key or "", "*")
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = Series(region.started)
            series.add(ts, 1.0 / factor, obs.author, obs.id, horizon)
        touched: list[tuple[Place, str, Series]] = []
        for place in places:
            for stream in streams:
                key = (place.key or "", stream)
                series = self._series.get(key)
                if series is None:
                    series = self._series[key] = Series(region.started)
                series.add(ts, weights.get(stream, 1.0 / factor), obs.author, obs.id, horizon)
                touched.append((place, stream, series))
        fired: list[Signal] = []
        if late or joined:
            self._feed_bursts(obs, ts, th, factor)
            return fired
        for place, stream, series in touched:
            signal = self._test_series(obs, ts, th, region, factor, place, stream, series)
            if signal is not None:
                fired.append(signal)
                break
        burst = self._test_burst(obs, ts, th, factor, test=not fired)
        if burst is not None:
            fired.append(burst)
        return fired

    # --- open signals ----------------------------------------------------------------------
    def _muni_key(self, obs: Observation) -> str | None:
        place = obs.municipality or obs.settlement
        return place.key if place else None

    def _join_open(self, obs: Observation, ts: float, th: Thresholds) -> bool:
        quiet, longest = th.quiet_after.total_seconds(), th.longest.total_seconds()
        for key, signal in list(self._open.items()):
            if ts - signal.last_ts > quiet or ts - signal.opened_ts > longest:
                del self._open[key]
        muni = self._muni_key(obs)
        for (place_key, topic), signal in self._open.items():
            if muni is not None and place_key != muni:
                street_only = (not place_key and signal.municipality is None
                               and bool(signal.hazards & set(obs.hazards)) and (
                                   obs.street is None or obs.street.lower() in signal.streets))
                if not street_only:
                    continue
                # A street signal learns its town from the first message that names one.
                signal.municipality, signal.settlement = obs.municipality, obs.settlement
                signal.attach(obs, ts)
                return True
            if muni is None and (signal.region or {}).get("code") != obs.region_code:
                continue
            copy = obs.duplicate_of is not None and obs.duplicate_of in signal.roots
            hazard = bool(signal.hazards & set(obs.hazards))
            street = obs.street is not None and obs.street.lower() in signal.streets
            if muni is None:  # no place: a copy, or the same hazard (on its street, if named)
                joins = copy or (hazard and (street or not obs.street or not signal.streets))
            else:
                joins = copy or hazard or (topic == obs.topic_code and (
                    signal.kind == "spike" or street))
            if joins:
                signal.attach(obs, ts)
                return True
        return False

    def _fire(self, kind: str, obs: Observation, ts: float, place: Place, topic: tuple[str, str],
              window: Iterable[tuple[float, str, str]], reason: dict[str, Any], sure: float,
              by_id: Mapping[str, Observation] | None = None) -> Signal:
        settlement = place if obs.settlement is not None and place == obs.settlement else None
        if obs.street:
            reason.setdefault("street", obs.street)
        signal = Signal(
            number=len(self.signals) + 1, kind=kind, fired_at=obs.at.astimezone(UTC)
            if obs.at.tzinfo else obs.at.replace(tzinfo=UTC),
            topic={"code": topic[0], "name": topic[1]},
            region={"code": obs.region_code, "name": obs.region_name}
            if obs.region_code or obs.region_name else None,
            municipality=obs.municipality, settlement=settlement, first_message_id="",
            reason=reason, confidence=round(min(max(sure, 0.0), 0.99), 3))
        ordered = sorted(window)
        signal.first_message_id = ordered[0][2] if ordered else obs.id
        for _ts, author, message_id in ordered:
            signal.message_ids.append(message_id)
            signal.authors.add(author)
        for _ts, _author, message_id in ordered:
            signal.hazards.update(self._hazards_of.get(message_id, ()))
        if kind == "hazard":
            signal.hazards.add(reason["hazard"])
        if obs.street:
            signal.streets.add(obs.street.lower())
        signal.roots.add(obs.duplicate_of or obs.id)
        signal.critical_messages = int(obs.critical)
        signal.last_ts = signal.opened_ts = ts
        self.signals.append(signal)
        self._open[(self._muni_key(obs) or "", topic[0])] = signal
        return signal

    # --- spike and hazard ----------------------------------------------------------------
    def _test_series(self, obs: Observation, ts: float, th: Thresholds, region: _Region,
                     factor: float, place: Place, stream: str, series: Series
                     ) -> Signal | None:
        hazard = stream[1:] if stream.startswith("!") else None
        if hazard is None:
            if ts - region.started < th.warmup.total_seconds():
                return None
            need = th.spike_min_authors
        elif hazard in CRITICAL_HAZARDS:
            need = th.critical_hazard_min_authors
        else:
            need = th.hazard_min_authors
        if len(series.window) < need:  # fewer messages than that: fewer authors too
            return None
        authors = series.authors()
        if len(authors) < need:
            return None
        window_h = th.window.total_seconds() / HOUR
        mid = factor if len(series.window) < 2 else region.profile.factor(
            ts - th.window.total_seconds() / 2)
        floor = th.min_baseline_per_day if hazard is None else th.hazard_min_baseline_per_day
        expected = series.expected(ts, window_h, mid, floor)
        surge = 1.0
        regional = region.streams.get(stream)
        if regional is not None:
            own = series
            if obs.municipality is not None and obs.municipality.key:
                own = self._series.get((obs.municipality.key, stream), series)
            # Authors, like the observed count: one author's flood is one voice here too.
            others = len(regional.authors() - own.authors())
            others_expected = regional.expected(ts, window_h, mid, 0.0) - expected
            if others_expected > 0:
                surge = min(max(others / others_expected, 1.0), 20.0)
            # The common mode: were the rise region-wide, this place would get its usual share
            # of the others' count (its share of all the region's messages).
            share = self._share(region, place, ts)
            common = share * max(others, 0) / (1.0 - share)
        else:
            common = 0.0
        mean = max(expected * surge, common)
        p_value = tail_probability(len(authors), mean, th.dispersion)
        limit = th.spike_p_value if hazard is None else th.hazard_p_value
        if p_value >= limit:
            return None
        if hazard is not None:
            topics = Counter(o for o in self._window_topics(series) if o[0] != "other")
            topic = topics.most_common(1)[0][0] if topics else (obs.topic_code, obs.topic_name)
        else:
            topic = (obs.topic_code, obs.topic_name)
        if (self._muni_key(obs) or "", topic[0]) in self._open:
            return None
        surprise, needed = -math.log10(max(p_value, 1e-300)), -math.log10(limit)
        where = place.name or place.oktmo
        reason: dict[str, Any] = {
            "text": (f"{len(authors)} разных авторов за {round(window_h * 60)} мин "
                     f"({where}), ожидалось {mean:.2f}"
                     + (f": {hazard}" if hazard else f": тема {topic[1] or topic[0]}")
                     + (f" (рост по всему региону ×{surge:.1f} учтён)" if surge > 1.05 else "")),
            "observed_authors": len(authors),
            "observed_messages": len(series.window),
            "expected": round(mean, 4),
            "baseline_per_day": round(expected / window_h / mid * 24, 4),
            "regional_surge": round(surge, 3),
            "p_value": p_value,
            "window_minutes": round(window_h * 60),
            "hazard": hazard,
            "words": sorted(set(obs.words)),
            "authors": sorted(authors)[:50],
        }
        window = [(t, a, i) for t, _w, a, i in series.window]
        return self._fire("hazard" if hazard else "spike", obs, ts, place, topic, window,
                          reason, 1.0 - needed / (2 * surprise))

    def _share(self, region: _Region, place: Place, ts: float) -> float:
        """The place's share of all the region's placed messages (0.001 … 0.9), from the
        levels only: the window (where a spike is) must not make its own place look big."""
        total = region.streams.get("*")
        mine = self._series.get((place.key or "", "*"))
        if total is None or mine is None:
            return 0.001
        whole = total.level_at_time(ts)
        if whole <= 0:
            return 0.001
        return min(max(mine.level_at_time(ts) / whole, 0.001), 0.9)

    def _window_topics(self, series: Series) -> list[tuple[str, str]]:
        topics = []
        for _ts, _w, _a, message_id in series.window:
            info = self._topics.get(message_id)
            if info:
                topics.append(info)
        return topics

    def _remember_topic(self, obs: Observation, ts: float, horizon: float) -> None:
        """The topics of the messages still in some window (a hazard signal takes the
        most common one); older ones are forgotten so memory stays bounded."""
        self._topics[obs.id] = (obs.topic_code, obs.topic_name)
        if obs.hazards:
            self._hazards_of[obs.id] = obs.hazards
        self._topic_order.append((ts, obs.id))
        while self._topic_order and self._topic_order[0][0] < self._clock - 4 * horizon:
            old_id = self._topic_order.popleft()[1]
            self._topics.pop(old_id, None)
            self._hazards_of.pop(old_id, None)

    # --- bursts --------------------------------------------------------------------------
    def _feed_bursts(self, obs: Observation, ts: float, th: Thresholds, factor: float) -> None:
        self._test_burst(obs, ts, th, factor, test=False)

    def _test_burst(self, obs: Observation, ts: float, th: Thresholds, factor: float,
                    test: bool = True) -> Signal | None:
        muni = self._muni_key(obs)
        if muni is None:
            return None
        horizon = th.burst_window.total_seconds()
        groups = ["dup:" + (obs.duplicate_of or obs.id)]
        if obs.street and obs.topic_code != "other":
            groups.append(f"subj:{obs.topic_code}:{obs.street.lower()}")
        fired: Signal | None = None
        for group in groups:
            key = (muni, group)
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = Series(self._regions[obs.region_code or ""].started)
            series.add(ts, 1.0 / factor, obs.author, obs.id, horizon)
            if fired is not None or not test:
                continue
            if len(series.window) < th.burst_min_authors:  # fewer authors than messages
                continue
            authors = series.authors()
            if len(authors) < th.burst_min_authors or (muni, obs.topic_code) in self._open:
                continue
            same_text = group.startswith("dup:")
            p_value = None
            if not same_text:
                # A busy street gets several complaints on one subject every day: the same
                # subject must also be unusual for it.
                window_h = horizon / HOUR
                mean = series.expected(ts, window_h, factor, th.min_baseline_per_day)
                p_value = tail_probability(len(authors), mean, th.dispersion)
                if p_value >= th.spike_p_value:
                    continue
            place = obs.settlement or obs.municipality
            assert place is not None
            same = "тот же текст" if same_text else f"одна тема, {obs.street}"
            reason = {
                "text": (f"{len(authors)} разных авторов за "
                         f"{round(horizon / 60)} мин ({place.name or place.oktmo}): {same}"),
                "observed_authors": len(authors),
                "observed_messages": len(series.window),
                "group": "same_text" if same_text else "same_subject",
                "street": obs.street,
                "p_value": p_value,
                "window_minutes": round(horizon / 60),
                "words": sorted(set(obs.words)),
                "authors": sorted(authors)[:50],
            }
            if p_value is None:
                del reason["p_value"]
            window = [(t, a, i) for t, _w, a, i in series.window]
            fired = self._fire("burst", obs, ts, place, (obs.topic_code, obs.topic_name),
                               window, reason, 1.0 - 1.0 / (len(authors) - 1))
        return fired
