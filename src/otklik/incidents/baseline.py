"""The counting model the rate spikes are measured against.

A series (one topic or one hazard in one territory) is a stream of message times. Its
expected count in the recent window is

    expected = level × hours(window) × profile(hour of the week) × regional surge

* ``level`` is the series' own rate, messages an hour with the daily and weekly rhythm taken
  out, as an exponentially weighted average in continuous time (a half-life of a week), fed
  only by messages that have left the window: a burst never raises its own baseline. A week
  is long enough for a quiet village's rate and short enough to follow the season (the
  heating season's complaints become the new normal within days). A year of data would be
  needed to learn a month-of-year factor; this model does without one.
* ``profile`` is the hour-of-week shape (168 buckets, Moscow time) learned from all of the
  region's messages: 3 a.m. on a Sunday expects a tenth of 11 a.m. on a Monday. It starts
  flat, which only makes the first nights less sensitive.
* the regional surge is how much the same topic rises right now across the rest of the region
  (the other territories' window count over their expected count, at least 1): the first snow
  or the start of the heating season lifts roads or heating everywhere at once; an emergency
  is local.

The observed count is tested against a negative binomial with that mean (a Poisson whose
rate itself varies from day to day: residents' messages are over-dispersed, and a Poisson
test fires on every busy afternoon). The tail probability comes from the regularized
incomplete beta function: ``P(X ≥ x) = I_{μ/(k+μ)}(x, k)``.
"""

from __future__ import annotations

import math
from collections import deque
from datetime import UTC, datetime, timedelta

from scipy.special import betainc

HOUR = 3600.0
WEEK_HOURS = 168
#: Moscow time: most regions' rhythm is close enough to it; the profile is learned anyway.
_PROFILE_OFFSET = timedelta(hours=3)
_LEVEL_HALF_LIFE_H = 7 * 24.0
_TAU = _LEVEL_HALF_LIFE_H / math.log(2)


def timestamp(at: datetime) -> float:
    """Seconds since the epoch; a naive time is taken as UTC."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.timestamp()


def hour_of_week(ts: float) -> int:
    """0 = Monday 00:00-01:00 (Moscow time)."""
    local = datetime.fromtimestamp(ts, UTC) + _PROFILE_OFFSET
    return local.weekday() * 24 + local.hour


class WeekProfile:
    """The share of a region's messages by hour of the week, as a factor around 1."""

    __slots__ = ("counts", "total", "_hour_cache")

    def __init__(self, prior_per_hour: float = 3.0) -> None:
        self.counts = [prior_per_hour] * WEEK_HOURS
        self.total = prior_per_hour * WEEK_HOURS
        self._hour_cache: tuple[float, int] = (-1.0, 0)

    def _hour(self, ts: float) -> int:
        start, hour = self._hour_cache
        if start <= ts < start + HOUR:
            return hour
        hour = hour_of_week(ts)
        self._hour_cache = (ts - ts % HOUR, hour)
        return hour

    def copy(self) -> WeekProfile:
        """An independent copy."""
        other = WeekProfile.__new__(WeekProfile)
        other.counts, other.total, other._hour_cache = list(self.counts), self.total, \
            self._hour_cache
        return other

    def add(self, ts: float) -> None:
        """Count one message at ``ts``."""
        self.counts[self._hour(ts)] += 1.0
        self.total += 1.0

    def factor(self, ts: float) -> float:
        """How busy this hour of the week is compared to the average hour (0.1 … 4)."""
        value = self.counts[self._hour(ts)] * WEEK_HOURS / self.total
        return min(max(value, 0.1), 4.0)


class Series:
    """One territory × topic (or hazard): the recent window and the long level."""

    __slots__ = ("level", "level_at", "started", "window")

    def __init__(self, started: float | None = None) -> None:
        self.level = 0.0  # deseasonalized messages an hour, from messages out of the window
        self.level_at = 0.0
        #: When counting began: a level that started at 0 is divided by the share of the
        #: half-life it has seen, or a young series would underestimate its rate for weeks.
        self.started = started
        #: (time, deseasonalized weight, author, message id) of the messages in the window.
        self.window: deque[tuple[float, float, str, str]] = deque()

    def copy(self) -> Series:
        """An independent copy (the window's entries are immutable tuples)."""
        other = Series.__new__(Series)
        other.level, other.level_at, other.started = self.level, self.level_at, self.started
        other.window = deque(self.window)
        return other

    def add(self, ts: float, weight: float, author: str, message_id: str, horizon: float
            ) -> None:
        """A message at ``ts`` (``weight`` = 1 / the profile factor); the window is trimmed to
        messages after ``ts - horizon`` and what leaves it feeds the level."""
        window = self.window
        window.append((ts, weight, author, message_id))
        since = ts - horizon  # :meth:`trim`, inlined: the detector's most frequent call
        while window and window[0][0] < since:
            old_ts, old_weight, _, _ = window.popleft()
            self._feed(old_ts, old_weight)

    def trim(self, since: float) -> None:
        """Move the messages older than ``since`` from the window into the level."""
        window = self.window
        while window and window[0][0] < since:
            old_ts, old_weight, _, _ = window.popleft()
            self._feed(old_ts, old_weight)

    def _feed(self, ts: float, weight: float) -> None:
        if ts > self.level_at:
            self.level *= math.exp(-(ts - self.level_at) / HOUR / _TAU)
            self.level_at = ts
        # A late message (older than the level's clock) is added undecayed: close enough.
        self.level += weight / _TAU

    def level_at_time(self, ts: float) -> float:
        """The level decayed to ``ts``, messages an hour (bias-corrected while young)."""
        level = self.level if ts <= self.level_at else (
            self.level * math.exp(-(ts - self.level_at) / HOUR / _TAU))
        if self.started is not None:
            seen = max(ts - self.started, HOUR) / HOUR  # counted for this many hours
            level /= 1.0 - math.exp(-seen / _TAU)
        return level

    def authors(self) -> set[str]:
        """The different authors in the window."""
        return {author for _, _, author, _ in self.window}

    def expected(self, ts: float, window_h: float, profile_factor: float, floor_per_day: float
                 ) -> float:
        """The expected count in the window ending at ``ts`` (before any regional surge)."""
        level = max(self.level_at_time(ts), floor_per_day / 24.0)
        return level * window_h * profile_factor


def tail_probability(observed: int, expected: float, dispersion: float) -> float:
    """P(X ≥ observed) for a negative binomial with this mean and size ``dispersion``."""
    if observed <= 0:
        return 1.0
    if expected <= 0:
        return 0.0
    return float(betainc(observed, dispersion, expected / (dispersion + expected)))

