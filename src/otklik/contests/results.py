"""The contest's results: aggregates, ranking and grants per track (the rules are in
aggregation.py), for the managers' page, the API and the protocol."""

from __future__ import annotations

from sqlalchemy.orm import Session

from otklik.audit.actor import Actor
from otklik.contests import aggregation as agg
from otklik.contests.repository import ContestRepository
from otklik.contests.schemas import ExpertScore, ResultRow, Results, TrackResult
from otklik.contests.service import criteria_of, get_contest, require_manager


def outlier_rule(points: float) -> str:
    """The outlier rule in words."""
    return (f"оценка эксперта отмечается как выброс, если его итог отличается от медианы "
            f"итогов по заявке более чем на {points:g} балла (по 10-балльной шкале; "
            f"при трёх и более оценках)")


def contest_results(session: Session, actor: Actor, contest_id: int) -> Results:
    """Rank every track, flag outliers, fit the grants into each track's budget."""
    contest = get_contest(session, actor, contest_id)
    require_manager(actor, contest.region_code)
    repo = ContestRepository(session)
    criteria = criteria_of(session, contest.id)
    key = max(criteria, key=lambda c: c.weight)  # the first of the heaviest
    experts = repo.experts(contest.id)
    tracks_out: list[TrackResult] = []
    shortfalls: list[str] = []
    for track in repo.tracks(contest.id):
        apps = repo.applications(actor.scope, contest.id, track.id)
        ids = [a.id for a in apps]
        reviews = repo.reviews(ids)
        conflicts = repo.conflicts(ids)
        panel = {u.id: u for e, u in experts if e.track_id == track.id}
        names = {u.id: u.full_name or u.username for _, u in experts}
        names.update({u.id: u.full_name or u.username for rs in reviews.values()
                      for _, u in rs})
        aggregates: dict[int, agg.Aggregate] = {}
        for app in apps:
            recused = [c.user_id for c in conflicts if c.application_id == app.id]
            totals = [agg.ExpertTotal(r.user_id, r.total,
                                      {int(k): float(v) for k, v in r.scores.items()})
                      for r, _ in reviews[app.id]]
            aggregates[app.id] = agg.aggregate(
                totals, recused=recused, trimmed=contest.aggregation == "trimmed",
                outlier_points=contest.outlier_points)
        ranked = agg.rank([agg.Entry(a.id, f"заявкой №{a.id}", aggregates[a.id].score,
                                     aggregates[a.id].criterion_means.get(key.id, 0.0),
                                     a.submitted_at) for a in apps], key.title)
        by_id = {a.id: a for a in apps}
        budget = agg.TrackBudget(track.title, track.budget_rub, track.grant_min_rub,
                                 track.grant_max_rub, track.winners)
        allocation = agg.fit_budget(budget, [(r.application_id,
                                              by_id[r.application_id].requested_rub)
                                             for r in ranked if r.place is not None])
        if allocation.message:
            shortfalls.append(allocation.message)
        rows = []
        for r in ranked:
            app, a = by_id[r.application_id], aggregates[r.application_id]
            grant = allocation.grants.get(app.id)
            note = ("сумма уменьшена до остатка бюджета" if app.id in allocation.reduced
                    else "не профинансирована: бюджет трека исчерпан"
                    if app.id in allocation.unfunded else
                    "сумма приведена к границам гранта" if grant is not None
                    and grant != app.requested_rub else "")
            recused_ids = set(a.recused)
            rows.append(ResultRow(
                application_id=app.id, title=app.title, applicant=app.applicant,
                requested_rub=app.requested_rub, place=r.place, score=_r(a.score),
                mean=_r(a.mean), trimmed_mean=_r(a.trimmed_mean), median=_r(a.median),
                spread=_r(a.spread), reviews=len(a.reviews),
                expected_reviews=len(set(panel) - recused_ids),
                experts=[ExpertScore(expert_id=e.expert_id, expert=names.get(e.expert_id, "?"),
                                     total=round(e.total, 2), outlier=e.outlier)
                         for e in a.reviews],
                outliers=[names.get(i, "?") for i in a.outliers],
                recused=[names.get(i, "?") for i in a.recused],
                tie_note=r.tie_note, grant_rub=grant, grant_note=note))
        tracks_out.append(TrackResult(
            track_id=track.id, title=track.title, budget_rub=track.budget_rub,
            grant_min_rub=track.grant_min_rub, grant_max_rub=track.grant_max_rub,
            winners=track.winners, spent_rub=allocation.spent_rub,
            needed_rub=allocation.needed_rub, shortfall_rub=allocation.shortfall_rub,
            shortfall=allocation.message, tie_rule=agg.tie_rule(key.title), rows=rows))
    return Results(contest_id=contest.id, title=contest.title, aggregation=contest.aggregation,
                   outlier_rule=outlier_rule(contest.outlier_points), tracks=tracks_out,
                   shortfalls=shortfalls)


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
