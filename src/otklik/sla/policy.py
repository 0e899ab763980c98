"""Deadline policies: which deadlines a case gets by topic, subtopic and urgency.

A policy gives the first response and resolution times in working time (``WorkDuration``:
``"2h"``, ``"1d"``, ``"10d"``), whether an interim answer ("взято в работу, срок ...") goes out
on routing, the resident's clarification window (calendar time) and when to warn the executor
that the deadline nears. ``resolve_policy`` picks the most specific matching policy;
``compute_deadlines`` turns it into moments with an ``SlaClock``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from otklik.sla.calendar import (
    Pause,
    SlaClock,
    SlaConfigError,
    WorkDuration,
    working_days,
    working_hours,
)

__all__ = [
    "DEFAULT_POLICIES",
    "URGENCY_LEVELS",
    "URGENT_LEVELS",
    "DeadlinePolicy",
    "Deadlines",
    "compute_deadlines",
    "policies_from_json",
    "policies_to_json",
    "resolve_policy",
]

#: The urgency scale of the language pipeline (otklik.nlp.taxonomy.URGENCY_LEVELS).
URGENCY_LEVELS: tuple[str, ...] = ("critical", "high", "normal", "low")
#: Levels that get the urgent defaults (first response in 2 working hours).
URGENT_LEVELS: tuple[str, ...] = ("critical", "high")

WarnBefore = float | WorkDuration


@dataclass(frozen=True)
class DeadlinePolicy:
    """Deadlines for cases matching topic / subtopic / urgency (``None`` matches anything).

    ``warn_before`` is either a fraction of the resolution time (0.2: warn when a fifth is
    left) or working time before the resolution deadline (``WorkDuration`` / timedelta).
    Durations may be given as ``WorkDuration``, a timedelta of working time or a string.
    """

    topic: str | None = None
    subtopic: str | None = None
    urgency: str | None = None
    first_response: WorkDuration = field(default_factory=lambda: working_days(1))
    resolution: WorkDuration = field(default_factory=lambda: working_days(10))
    interim_answer: bool = False
    clarification_window: timedelta = timedelta(days=3)
    warn_before: WarnBefore = 0.2
    name: str = ""

    def __post_init__(self) -> None:
        for attr in ("first_response", "resolution"):
            value = WorkDuration.parse(getattr(self, attr))
            if value.is_zero:
                raise SlaConfigError(
                    f"Политика «{self.label}»: срок {attr} должен быть больше нуля."
                )
            object.__setattr__(self, attr, value)
        if self.urgency is not None and self.urgency not in URGENCY_LEVELS:
            raise SlaConfigError(
                f"Политика «{self.label}»: срочность «{self.urgency}» неизвестна; допустимы "
                + ", ".join(URGENCY_LEVELS) + " или пусто (любая)."
            )
        if not isinstance(self.clarification_window, timedelta) or (
            self.clarification_window <= timedelta(0)
        ):
            raise SlaConfigError(
                f"Политика «{self.label}»: окно уточнения должно быть положительным (в днях)."
            )
        warn = self.warn_before
        if isinstance(warn, bool):
            raise SlaConfigError(f"Политика «{self.label}»: warn_before — доля или срок.")
        if isinstance(warn, int | float):
            if not 0 < float(warn) < 1:
                raise SlaConfigError(
                    f"Политика «{self.label}»: warn_before как доля должно быть между 0 и 1 "
                    "(0.2 — предупредить, когда осталась пятая часть срока)."
                )
            object.__setattr__(self, "warn_before", float(warn))
        else:
            object.__setattr__(self, "warn_before", WorkDuration.parse(warn))

    @property
    def label(self) -> str:
        """A readable name: the given one or topic/subtopic/urgency."""
        if self.name:
            return self.name
        parts = [p for p in (self.topic, self.subtopic, self.urgency) if p]
        return " / ".join(parts) or "по умолчанию"

    @property
    def specificity(self) -> tuple[int, int]:
        """Rank: subtopic+urgency > subtopic > topic+urgency > topic > urgency > default."""
        level = 2 if self.subtopic else 1 if self.topic else 0
        return level, 1 if self.urgency else 0

    def matches(self, topic: str | None, subtopic: str | None, urgency: str | None) -> bool:
        """True when every field the policy sets equals the case's value."""
        return (
            (self.topic is None or self.topic == topic)
            and (self.subtopic is None or self.subtopic == subtopic)
            and (self.urgency is None or self.urgency == urgency)
        )

    def clarification_due(self, requested_at: datetime) -> datetime:
        """When the resident's time to clarify runs out (calendar time, not working time)."""
        return requested_at + self.clarification_window

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (durations as ``"2h"``/``"10d"``, the window in days)."""
        warn = self.warn_before
        return {
            "name": self.name,
            "topic": self.topic,
            "subtopic": self.subtopic,
            "urgency": self.urgency,
            "first_response": str(self.first_response),
            "resolution": str(self.resolution),
            "interim_answer": self.interim_answer,
            "clarification_window_days": self.clarification_window / timedelta(days=1),
            "warn_before": warn if isinstance(warn, float) else str(warn),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> DeadlinePolicy:
        """Parse the ``to_json`` form; missing keys take the ordinary defaults."""
        if not isinstance(raw, Mapping):
            raise SlaConfigError("Политика сроков должна быть объектом JSON.")
        unknown = set(raw) - set(_JSON_KEYS)
        if unknown:
            raise SlaConfigError(
                "Политика сроков: неизвестные поля " + ", ".join(sorted(unknown))
                + "; допустимы " + ", ".join(_JSON_KEYS) + "."
            )
        kwargs: dict[str, Any] = {
            key: (str(raw[key]).strip() or None) if raw.get(key) is not None else None
            for key in ("topic", "subtopic", "urgency")
        }
        kwargs["name"] = str(raw.get("name") or "")
        for key in ("first_response", "resolution"):
            if raw.get(key) is not None:
                kwargs[key] = WorkDuration.parse(raw[key])
        if "interim_answer" in raw:
            if not isinstance(raw["interim_answer"], bool):
                raise SlaConfigError("Политика сроков: interim_answer должно быть true или false.")
            kwargs["interim_answer"] = raw["interim_answer"]
        if raw.get("clarification_window_days") is not None:
            try:
                days = float(raw["clarification_window_days"])
            except (TypeError, ValueError) as exc:
                raise SlaConfigError(
                    "Политика сроков: clarification_window_days — число календарных дней."
                ) from exc
            kwargs["clarification_window"] = timedelta(days=days)
        if raw.get("warn_before") is not None:
            warn = raw["warn_before"]
            kwargs["warn_before"] = warn if isinstance(warn, int | float) else str(warn)
        return cls(**kwargs)


_JSON_KEYS = (
    "name", "topic", "subtopic", "urgency", "first_response", "resolution", "interim_answer",
    "clarification_window_days", "warn_before",
)

#: The issue's defaults: urgent (critical/high) first response in 2 working hours and
#: resolution in 1 working day, with an interim answer; ordinary 1 and 10 working days.
DEFAULT_POLICIES: tuple[DeadlinePolicy, ...] = (
    *(
        DeadlinePolicy(
            urgency=level,
            first_response=working_hours(2),
            resolution=working_days(1),
            interim_answer=True,
            warn_before=working_hours(2),
            name=f"срочные ({level})",
        )
        for level in URGENT_LEVELS
    ),
    DeadlinePolicy(
        first_response=working_days(1),
        resolution=working_days(10),
        interim_answer=True,
        warn_before=working_days(2),
        name="обычные",
    ),
)


def resolve_policy(
    policies: Sequence[DeadlinePolicy],
    topic: str | None,
    subtopic: str | None,
    urgency: str | None,
) -> DeadlinePolicy:
    """The most specific policy matching the case; ties go to the earlier one in the list.

    When nothing in ``policies`` matches (no catch-all configured), the built-in
    ``DEFAULT_POLICIES`` decide, so every case always gets deadlines.
    """
    for pool in (policies, DEFAULT_POLICIES):
        best: DeadlinePolicy | None = None
        for policy in pool:
            if policy.matches(topic, subtopic, urgency) and (
                best is None or policy.specificity > best.specificity
            ):
                best = policy
        if best is not None:
            return best
    raise AssertionError("DEFAULT_POLICIES has a catch-all")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class Deadlines:
    """The moments a case is held to (aware UTC)."""

    first_response_due: datetime
    resolution_due: datetime
    warn_at: datetime


def compute_deadlines(
    policy: DeadlinePolicy,
    clock: SlaClock,
    received_at: datetime,
    pauses: Iterable[Pause] = (),
    now: datetime | None = None,
) -> Deadlines:
    """Deadlines for a case received at ``received_at``, the clock stopped during ``pauses``.

    An open pause (``to=None``) is counted as ending at ``now`` (required then): the result is
    the earliest the deadlines can be if the resident answers right now. ``warn_at`` is when
    the executor is warned before the resolution deadline.
    """
    closed: list[tuple[datetime, datetime]] = []
    for begin, end in pauses:
        if end is None:
            if now is None:
                raise ValueError("an open pause needs `now` to be counted")
            end = max(begin, now)
        closed.append((begin, end))
    first = clock.add(received_at, policy.first_response, closed)
    total = clock.duration(policy.resolution)
    resolution = clock.add(received_at, total, closed)
    warn = policy.warn_before
    if isinstance(warn, float):
        lead = total * warn
    else:
        lead = min(clock.duration(warn), total)
    warn_at = clock.add(received_at, total - lead, closed)
    return Deadlines(first_response_due=first, resolution_due=resolution, warn_at=warn_at)


def policies_to_json(policies: Iterable[DeadlinePolicy]) -> list[dict[str, Any]]:
    """Serialise a list of policies for storage (order matters for ties)."""
    return [policy.to_json() for policy in policies]


def policies_from_json(raw: Any) -> list[DeadlinePolicy]:
    """Parse a stored list; an error names the position of the bad policy."""
    if not isinstance(raw, list):
        raise SlaConfigError("Политики сроков: ожидается список объектов.")
    out = []
    for index, item in enumerate(raw, start=1):
        try:
            out.append(DeadlinePolicy.from_json(item))
        except SlaConfigError as exc:
            raise SlaConfigError(f"Политика № {index}: {exc.message}") from exc
    return out
