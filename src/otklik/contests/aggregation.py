"""The panel's arithmetic, pure (no database): an expert's total, the aggregate of an
application, the ranking with its ties explained, and the grants fitted into a track's budget.

The rules (docs/contests.md says the same to the center's staff):

- **An expert's total** is the weighted mean of their criterion scores, each brought to a
  10-point scale: ``Σ wᵢ·(sᵢ / maxᵢ)·10 / Σ wᵢ``.
- **The application's score** is the mean of the totals of the experts who are not recused
  (a declared conflict of interest removes that expert's review from the count, even one
  submitted before the conflict was declared). With the contest's ``trimmed`` option and at
  least three totals, the highest and the lowest total are dropped first.
- **Spread**: the highest total minus the lowest. **Outlier**: a total further than
  ``outlier_points`` (2 by default) from the median of the application's totals, when there
  are at least three; outliers are flagged, not dropped (the trimmed mean drops extremes).
- **Ranking** in a track by score (rounded to 0.01), higher first. **Ties** are broken by the
  mean score on the criterion with the largest weight (the first of them), then by the
  earlier submission; the output names the rule that decided.
- **Grants**: the track's ``winners`` best applications with at least one counted review are
  funded in rank order, each at its requested amount clipped to the track's bounds. When the
  budget cannot fund them all, the shortfall (needed − budget) is reported with the track;
  the winner that no longer fits gets the remaining budget if it is at least the minimum
  grant (marked reduced), otherwise nothing, and so do the winners after it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median

SCALE = 10.0
MIN_FOR_OUTLIERS = 3
MIN_FOR_TRIM = 3


@dataclass(frozen=True)
class Criterion:
    """A criterion as the arithmetic needs it."""

    id: int
    title: str
    scale_max: int
    weight: float


def expert_total(scores: Mapping[int, int | float], criteria: Sequence[Criterion]) -> float:
    """An expert's weighted total on a 10-point scale (every criterion must be scored)."""
    weights = sum(c.weight for c in criteria)
    if weights <= 0:
        raise ValueError("criteria weights sum to zero")
    value = sum(c.weight * (float(scores[c.id]) / c.scale_max) * SCALE for c in criteria)
    return value / weights


@dataclass(frozen=True)
class ExpertTotal:
    """One counted review."""

    expert_id: int
    total: float
    scores: Mapping[int, float]
    outlier: bool = False


@dataclass(frozen=True)
class Aggregate:
    """An application's figures from its counted reviews."""

    reviews: tuple[ExpertTotal, ...]
    recused: tuple[int, ...]
    mean: float | None
    trimmed_mean: float | None
    median: float | None
    spread: float | None
    score: float | None
    criterion_means: Mapping[int, float]

    @property
    def outliers(self) -> list[int]:
        """The experts whose totals are flagged."""
        return [r.expert_id for r in self.reviews if r.outlier]


def aggregate(totals: Sequence[ExpertTotal], *, recused: Sequence[int] = (),
              trimmed: bool = False, outlier_points: float = 2.0) -> Aggregate:
    """The aggregate of one application; ``totals`` of recused experts are ignored."""
    skip = set(recused)
    counted = [t for t in totals if t.expert_id not in skip]
    values = [t.total for t in counted]
    if not values:
        return Aggregate((), tuple(sorted(skip)), None, None, None, None, None, {})
    mid = median(values)
    flagged = tuple(
        ExpertTotal(t.expert_id, t.total, t.scores,
                    len(values) >= MIN_FOR_OUTLIERS and abs(t.total - mid) > outlier_points)
        for t in counted)
    mean = sum(values) / len(values)
    ordered = sorted(values)
    trim = ordered[1:-1] if len(ordered) >= MIN_FOR_TRIM else ordered
    trimmed_mean = sum(trim) / len(trim)
    criterion_ids = {cid for t in counted for cid in t.scores}
    criterion_means = {cid: sum(float(t.scores.get(cid, 0)) for t in counted) / len(counted)
                       for cid in criterion_ids}
    return Aggregate(
        reviews=flagged, recused=tuple(sorted(skip)), mean=mean, trimmed_mean=trimmed_mean,
        median=mid, spread=ordered[-1] - ordered[0],
        score=trimmed_mean if trimmed else mean, criterion_means=criterion_means)


@dataclass
class Ranked:
    """One application's place in its track."""

    application_id: int
    score: float | None
    place: int | None = None
    tie_note: str = ""


@dataclass(frozen=True)
class Entry:
    """What ranking needs about an application."""

    application_id: int
    label: str
    score: float | None
    key_criterion: float
    submitted_at: datetime


def tie_rule(criterion_title: str) -> str:
    """The tie-break rule in words (shown with the ranking)."""
    return (f"при равном итоговом балле выше заявка с большим средним баллом по критерию "
            f"с наибольшим весом («{criterion_title}»), затем поданная раньше")


def rank(entries: Sequence[Entry], key_title: str) -> list[Ranked]:
    """Applications ranked by score (unscored last, no place); ties explained."""
    scored = [e for e in entries if e.score is not None]
    unscored = [e for e in entries if e.score is None]

    def points(e: Entry) -> float:
        return round(e.score or 0.0, 2)

    ordered = sorted(scored, key=lambda e: (-points(e), -round(e.key_criterion, 2),
                                            e.submitted_at, e.application_id))
    out: list[Ranked] = []
    for index, entry in enumerate(ordered):
        group = [o for o in ordered if points(o) == points(entry)]
        note = ""
        if len(group) > 1:
            keys = [round(o.key_criterion, 2) for o in group]
            decided = (f"по критерию «{key_title}»" if len(set(keys)) == len(keys)
                       else "по времени подачи" if len(set(keys)) == 1
                       else f"по критерию «{key_title}», затем по времени подачи")
            others = ", ".join(o.label for o in group if o is not entry)
            note = f"равный балл {points(entry):.2f} с {others}; порядок решён {decided}"
        out.append(Ranked(entry.application_id, entry.score, index + 1, note))
    out.extend(Ranked(e.application_id, None) for e in unscored)
    return out


@dataclass(frozen=True)
class TrackBudget:
    """A track's money rules."""

    title: str
    budget_rub: int
    grant_min_rub: int
    grant_max_rub: int
    winners: int


@dataclass
class Allocation:
    """The outcome of the budget fit for one track."""

    grants: dict[int, int] = field(default_factory=dict)
    reduced: list[int] = field(default_factory=list)
    unfunded: list[int] = field(default_factory=list)
    needed_rub: int = 0
    shortfall_rub: int = 0
    message: str = ""

    @property
    def spent_rub(self) -> int:
        """What the grants add up to."""
        return sum(self.grants.values())


def rub(amount: int) -> str:
    """1 234 567 ₽ (thin groups, as Russian documents print it)."""
    return f"{amount:,}".replace(",", "\u00a0") + "\u00a0₽"


def fit_budget(track: TrackBudget, ranked: Sequence[tuple[int, int]]) -> Allocation:
    """Grants for the ranked winners (``ranked``: application id and requested amount, best
    first, already cut to the eligible ones) fitted into the track's budget."""
    winners = list(ranked[: track.winners])
    clipped = [(aid, min(max(asked, track.grant_min_rub), track.grant_max_rub))
               for aid, asked in winners]
    result = Allocation(needed_rub=sum(amount for _, amount in clipped))
    if result.needed_rub > track.budget_rub:
        result.shortfall_rub = result.needed_rub - track.budget_rub
        result.message = (
            f"Трек «{track.title}»: бюджета {rub(track.budget_rub)} не хватает на "
            f"{len(clipped)} победителей ({rub(result.needed_rub)} по запрошенным суммам в "
            f"пределах {rub(track.grant_min_rub)}–{rub(track.grant_max_rub)}): недостаёт "
            f"{rub(result.shortfall_rub)}")
    left = track.budget_rub
    for aid, amount in clipped:
        if amount <= left:
            result.grants[aid] = amount
            left -= amount
        elif left >= track.grant_min_rub:
            result.grants[aid] = left
            result.reduced.append(aid)
            left = 0
        else:
            result.unfunded.append(aid)
    return result
