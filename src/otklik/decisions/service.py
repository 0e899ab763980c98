"""The decisions registry: record, edit, list, count per region, and measure the effect.

Effect: relevant messages on the decision's problems, or on its topics in its territories,
per day in the ``window`` days before the decision date and in the ``window`` days from it
(shortened when fewer days have passed), and the change of that rate. The messages are
those the caller sees: a deputy measures a decision in their district.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy.orm import Session

from otklik.analytics.repository import AnalyticsRepository
from otklik.analytics.schemas import day_start_utc, reporting_day
from otklik.analytics.service import limits_for
from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.db.base import utcnow
from otklik.decisions.repository import DecisionRepository
from otklik.decisions.schemas import (
    DecisionCount,
    DecisionCreate,
    DecisionRead,
    DecisionUpdate,
    Effect,
)
from otklik.errors import Forbidden, InvalidInput, NotFound
from otklik.language.taxonomy_service import active_taxonomy
from otklik.models.account import Role
from otklik.models.case import Problem
from otklik.models.decision import Decision, DecisionLink
from otklik.models.territory import Territory

#: Days compared on each side of the decision date by default.
DEFAULT_WINDOW = 30
#: Read-only roles: they see the registry but do not record decisions.
READ_ONLY_ROLES = frozenset({Role.head, Role.deputy})


def _can_write(actor: Actor, region_code: str) -> None:
    actor.require("analytics")
    if actor.role in READ_ONLY_ROLES:
        raise Forbidden("decisions are recorded by the center's analysts; your role reads them")
    if not actor.scope.sees_region(region_code):
        raise Forbidden(f"region {region_code} is outside your scope")


def _check_links(session: Session, region_code: str, problem_ids: Sequence[int],
                 topics: Sequence[str], territory_ids: Sequence[int]) -> None:
    taxonomy = active_taxonomy(session)
    unknown = [t for t in topics if t not in taxonomy]
    if unknown:
        raise InvalidInput(f"unknown topics: {', '.join(unknown)}")
    for pid in problem_ids:
        problem = session.get(Problem, pid)
        if problem is None or problem.region_code != region_code:
            raise InvalidInput(f"problem {pid} does not exist in region {region_code}")
    for tid in territory_ids:
        territory = session.get(Territory, tid)
        if territory is None or territory.region_code != region_code:
            raise InvalidInput(f"territory {tid} does not exist in region {region_code}")


def read(session: Session, decision: Decision) -> DecisionRead:
    """A decision with its links."""
    links = DecisionRepository(session).links([decision.id])[decision.id]
    return _read(decision, links)


def _read(decision: Decision, links: Sequence[DecisionLink]) -> DecisionRead:
    return DecisionRead(
        id=decision.id, region_code=decision.region_code, title=decision.title,
        decided_on=decision.decided_on, decided_by=decision.decided_by,
        budget_rub=decision.budget_rub, text=decision.text, status=decision.status,
        source_url=decision.source_url, created_at=decision.created_at,
        problem_ids=[lk.problem_id for lk in links if lk.problem_id is not None],
        topics=[lk.topic for lk in links if lk.topic],
        territory_ids=[lk.territory_id for lk in links if lk.territory_id is not None])


def create_decision(session: Session, actor: Actor, data: DecisionCreate) -> Decision:
    """Record a decision with its links."""
    _can_write(actor, data.region_code)
    _check_links(session, data.region_code, data.problem_ids, data.topics, data.territory_ids)
    repo = DecisionRepository(session)
    decision = repo.add(Decision(
        region_code=data.region_code, title=data.title, decided_on=data.decided_on,
        decided_by=data.decided_by, budget_rub=data.budget_rub, text=data.text,
        status=data.status, source_url=data.source_url, created_by_id=actor.user_id))
    repo.set_links(decision.id, data.problem_ids, data.topics, data.territory_ids)
    audit.record(session, actor, "decision.create", "decision", decision.id,
                 region_code=data.region_code, details={"title": data.title})
    return decision


def _district(session: Session, actor: Actor) -> frozenset[int] | None:
    """A deputy's district as municipalities (None for everyone else)."""
    return limits_for(session, actor).municipality_ids


def get_decision(session: Session, actor: Actor, decision_id: int) -> Decision:
    """A decision the actor may see."""
    actor.require("analytics")
    repo = DecisionRepository(session)
    decision = repo.get(decision_id)
    district = _district(session, actor)
    if decision is None or not actor.scope.sees_region(decision.region_code) or (
            district is not None and not repo.in_district_by_id(decision.id, district)):
        raise NotFound(f"decision {decision_id} does not exist or is outside your scope")
    return decision


def update_decision(session: Session, actor: Actor, decision_id: int, data: DecisionUpdate
                    ) -> Decision:
    """Change a decision; links are replaced when any of them is given."""
    decision = get_decision(session, actor, decision_id)
    _can_write(actor, decision.region_code)
    changes = data.model_dump(exclude_unset=True)
    link_keys = ("problem_ids", "topics", "territory_ids")
    if any(k in changes for k in link_keys):
        current = read(session, decision)
        links: dict[str, list[Any]] = {
            k: changes[k] if changes.get(k) is not None else getattr(current, k)
            for k in link_keys}
        _check_links(session, decision.region_code, links["problem_ids"], links["topics"],
                     links["territory_ids"])
        DecisionRepository(session).set_links(decision.id, links["problem_ids"],
                                              links["topics"], links["territory_ids"])
    for key, value in changes.items():
        if key not in link_keys and value is not None:
            setattr(decision, key, value)
    decision.updated_at = utcnow()
    session.flush()
    audit.record(session, actor, "decision.update", "decision", decision.id,
                 region_code=decision.region_code, details={"fields": sorted(changes)})
    return decision


def delete_decision(session: Session, actor: Actor, decision_id: int) -> None:
    """Remove a decision recorded by mistake."""
    decision = get_decision(session, actor, decision_id)
    _can_write(actor, decision.region_code)
    audit.record(session, actor, "decision.delete", "decision", decision.id,
                 region_code=decision.region_code, details={"title": decision.title})
    DecisionRepository(session).delete(decision)


def list_decisions(session: Session, actor: Actor, *, region_code: str | None = None,
                   start: date | None = None, end: date | None = None,
                   problem_id: int | None = None, limit: int = 50, offset: int = 0
                   ) -> tuple[list[DecisionRead], int]:
    """Decisions in the actor's scope, newest first."""
    actor.require("analytics")
    repo = DecisionRepository(session)
    rows, total = repo.page(actor.scope, region_code=region_code, start=start, end=end,
                            problem_id=problem_id, municipality_ids=_district(session, actor),
                            limit=limit, offset=offset)
    links = repo.links([d.id for d in rows])
    return [_read(d, links[d.id]) for d in rows], total


def count_by_region(session: Session, actor: Actor, start: date | None = None,
                    end: date | None = None) -> list[DecisionCount]:
    """Decisions and their budgets per region in a period."""
    actor.require("analytics")
    names = {t.region_code: t.name for t in AnalyticsRepository(session).regions(actor.scope)}
    return [DecisionCount(region_code=r, name=names.get(r, r), decisions=n, budget_rub=b)
            for r, n, b in DecisionRepository(session).counts_by_region(
                actor.scope, start, end, _district(session, actor))]


def _subjects(session: Session, decision: Decision
              ) -> tuple[list[int], list[str], list[int]]:
    current = read(session, decision)
    municipalities = sorted(AnalyticsRepository(session).municipalities_covering(
        current.territory_ids)) if current.territory_ids else []
    return current.problem_ids, current.topics, municipalities


def _windows(decision: Decision, window: int, today: date
             ) -> tuple[int, datetime, datetime, datetime]:
    days = min(window, (today - decision.decided_on).days)
    start = day_start_utc(decision.decided_on)
    return days, start - timedelta(days=max(days, 1)), start, start + timedelta(days=days)


def effect(session: Session, actor: Actor, decision_id: int, window: int = DEFAULT_WINDOW,
           today: date | None = None) -> Effect:
    """Messages on the decision's subjects per day before and after its date."""
    if not 1 <= window <= 366:
        raise InvalidInput("the window is 1 to 366 days")
    decision = get_decision(session, actor, decision_id)
    today = today or reporting_day(utcnow())
    days, before, start, after = _windows(decision, window, today)
    if days < 1:
        raise InvalidInput("the decision is from today or the future: its effect is not "
                           "measurable yet")
    problems, topics, municipalities = _subjects(session, decision)
    repo = DecisionRepository(session)
    _, n_before = repo.linked_messages(actor.scope, decision.region_code, problems, topics,
                                       municipalities, before, start)
    _, n_after = repo.linked_messages(actor.scope, decision.region_code, problems, topics,
                                      municipalities, start, after)
    rate_before, rate_after = n_before / days, n_after / days
    change = round(100 * (rate_after - rate_before) / rate_before, 1) if rate_before else None
    verdict = ("нет сообщений до решения" if change is None else
               "сообщений стало меньше" if change <= -20 else
               "сообщений стало больше" if change >= 20 else "без заметных изменений")
    base = f"/api/v1/decisions/{decision.id}/messages"
    return Effect(
        decision_id=decision.id, window_days=days, before_from=reporting_day(before),
        after_to=reporting_day(after) - timedelta(days=1), messages_before=n_before,
        messages_after=n_after, rate_before=round(rate_before, 3),
        rate_after=round(rate_after, 3), change_pct=change, verdict=verdict,
        drill_before={"endpoint": base, "side": "before", "window": days},
        drill_after={"endpoint": base, "side": "after", "window": days})


def effect_messages(session: Session, actor: Actor, decision_id: int,
                    side: Literal["before", "after"], window: int = DEFAULT_WINDOW,
                    limit: int = 50, offset: int = 0, today: date | None = None
                    ) -> tuple[list[tuple[int, datetime, str]], int]:
    """The messages counted on one side of the effect."""
    decision = get_decision(session, actor, decision_id)
    days, before, start, after = _windows(decision, window, today or reporting_day(utcnow()))
    problems, topics, municipalities = _subjects(session, decision)
    lo, hi = (before, start) if side == "before" else (start, after)
    return DecisionRepository(session).linked_messages(
        actor.scope, decision.region_code, problems, topics, municipalities, lo, hi,
        limit=limit, offset=offset)
