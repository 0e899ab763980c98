"""Detector thresholds: defaults, overridden per region and per topic.

The admin editing comes later; until then a :class:`DetectorSettings` is built in code (or
from a dict, :meth:`DetectorSettings.from_dict`) and handed to the detector.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from typing import Any


@dataclass(frozen=True)
class Thresholds:
    """When a signal fires; one set applies to one (region, topic)."""

    #: The window the recent count is taken over.
    window: timedelta = timedelta(hours=3)
    #: A spike fires when the chance of seeing this many authors under the baseline is below.
    spike_p_value: float = 1e-5
    #: ... and at least this many different authors wrote in the window.
    spike_min_authors: int = 5
    #: A hazard (no water, fire, …) fires once this many different authors report it in one
    #: place within the window, and the count is unlikely under that hazard's own baseline.
    hazard_min_authors: int = 3
    hazard_p_value: float = 1e-3
    #: Hazards one report of which is enough in a small place (a fire, people trapped) still
    #: need this many authors: a single post is the duty dispatcher's job, not a signal.
    critical_hazard_min_authors: int = 2
    #: A burst: this many different authors with the same text or the same subject and
    #: street in one place within ``burst_window``.
    burst_min_authors: int = 4
    burst_window: timedelta = timedelta(hours=2)
    #: A signal collects the messages that follow until the place is quiet this long ...
    quiet_after: timedelta = timedelta(hours=6)
    #: ... or for this long at most (the next day's complaints make a new signal).
    longest: timedelta = timedelta(hours=24)
    #: Spikes need this much history of the region first: without it every busy topic of a
    #: big town looks new. Hazards and bursts count authors and fire from the first hour.
    warmup: timedelta = timedelta(days=2)
    #: The floor of a baseline, messages a day, so that a place never heard from is not
    #: "infinitely" surprised by its first few messages.
    min_baseline_per_day: float = 0.5
    #: The same for one hazard in one place (a fire is rarer than a complaint about roads).
    hazard_min_baseline_per_day: float = 0.2
    #: Negative binomial dispersion (size): smaller means wider tails, fewer spikes fire.
    dispersion: float = 5.0

    def merged(self, overrides: dict[str, Any]) -> Thresholds:
        """These thresholds with some fields replaced (timedeltas may be given in minutes)."""
        known = {f.name: f for f in fields(self)}
        values: dict[str, Any] = {}
        for name, value in overrides.items():
            if name not in known:
                raise ValueError(f"unknown threshold {name!r}; known: {', '.join(known)}")
            current = getattr(self, name)
            if isinstance(current, timedelta) and not isinstance(value, timedelta):
                value = timedelta(minutes=float(value))
            elif isinstance(current, int) and not isinstance(current, bool):
                value = int(value)
            elif isinstance(current, float):
                value = float(value)
            values[name] = value
        return replace(self, **values)


@dataclass(frozen=True)
class DetectorSettings:
    """Default thresholds with overrides per region code, per topic code and per both."""

    default: Thresholds = field(default_factory=Thresholds)
    by_region: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_topic: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_region_topic: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    _cache: dict[tuple[str | None, str | None], Thresholds] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for overrides in (*self.by_region.values(), *self.by_topic.values(),
                          *self.by_region_topic.values()):
            self.default.merged(overrides)  # an unknown name fails here, not mid-stream

    def for_place(self, region: str | None, topic: str | None) -> Thresholds:
        """The thresholds of one region and topic: default < topic < region < both."""
        key = (region, topic)
        found = self._cache.get(key)
        if found is None:
            found = self.default
            for overrides in (self.by_topic.get(topic or ""), self.by_region.get(region or ""),
                              self.by_region_topic.get((region or "", topic or ""))):
                if overrides:
                    found = found.merged(overrides)
            self._cache[key] = found
        return found

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DetectorSettings:
        """``{"default": {...}, "regions": {"85": {...}}, "topics": {"utilities": {...}},
        "region_topics": {"85/utilities": {...}}}``; durations in minutes."""
        default = Thresholds().merged(data.get("default") or {})
        pairs: dict[tuple[str, str], dict[str, Any]] = {}
        for key, value in (data.get("region_topics") or {}).items():
            region, _, topic = str(key).partition("/")
            pairs[(region, topic)] = dict(value)
        return cls(default=default, by_region=dict(data.get("regions") or {}),
                   by_topic=dict(data.get("topics") or {}), by_region_topic=pairs)
