"""Ratings of executors and municipalities: one published formula, its parts shown."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from otklik.analytics.schemas import Performance, Rating, Ratings

#: Weights of the parts (they sum to 1).
WEIGHTS = {"compliance": 0.4, "speed": 0.2, "no_brush_off": 0.2, "no_reopen": 0.2}
#: Hours of a first response that halve the speed part.
SPEED_HALF_HOURS = 24.0
#: Fewer cases than this in the period and the subject is not rated (too few to judge).
MINIMUM_CASES = 5

FORMULA = (
    "Балл = 100 × (0,4 × С + 0,2 × Б + 0,2 × (1 − О) + 0,2 × (1 − П)), где "
    "С — доля обращений, отвеченных в срок, среди отвеченных и просроченных; "
    f"Б = {SPEED_HALF_HOURS:g} / ({SPEED_HALF_HOURS:g} + медиана времени первого ответа, ч); "
    "О — доля обращений, ответ на которые признан отпиской; "
    "П — доля обращений, повторно открытых жителями. "
    f"В рейтинг входят исполнители с {MINIMUM_CASES} и более обращениями за период."
)


def parts_of(row: Performance) -> dict[str, float] | None:
    """The four parts of the score in [0, 1], or None when the row cannot be rated."""
    if row.cases < MINIMUM_CASES or row.compliance is None:
        return None
    first = row.median_first_response_h
    return {
        "compliance": row.compliance,
        "speed": 0.0 if first is None else SPEED_HALF_HOURS / (SPEED_HALF_HOURS + max(first, 0)),
        "no_brush_off": 1.0 - (row.brush_off_rate or 0.0),
        "no_reopen": 1.0 - (row.reopen_rate or 0.0),
    }


def score(parts: dict[str, float]) -> float:
    """The score (0-100) from its parts."""
    return round(100.0 * sum(WEIGHTS[k] * v for k, v in parts.items()), 1)


def rate(rows: Sequence[Performance], subject: Literal["executor", "municipality"]) -> Ratings:
    """Rank the rows by score (best first); ties go to the one with more cases."""
    scored: list[tuple[float, Performance, dict[str, float]]] = []
    for row in rows:
        parts = parts_of(row)
        if parts is not None:
            scored.append((score(parts), row, parts))
    scored.sort(key=lambda item: (-item[0], -item[1].cases, item[1].name))
    items = [
        Rating(rank=i, key=row.key, name=row.name, score=value,
               parts={k: round(v, 3) for k, v in parts.items()}, cases=row.cases)
        for i, (value, row, parts) in enumerate(scored, 1)
    ]
    return Ratings(subject=subject, formula=FORMULA, minimum_cases=MINIMUM_CASES, items=items)
