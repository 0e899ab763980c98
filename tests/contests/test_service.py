"""Contests with a database: aggregation with a recused expert and an outlier, the trimmed
option, ties, budget shortfalls, what an expert sees, and scoring errors."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from tests.builders import make_user
from tests.contests.builders import a_panel, an_application

from otklik.accounts.service import actor_for
from otklik.contests import service
from otklik.contests.results import contest_results
from otklik.contests.schemas import ReviewSubmit, ScoreIn
from otklik.errors import Conflict, Forbidden, NotFound
from otklik.models.account import Role
from otklik.ops import stats


def test_recused_expert_and_outlier_in_the_results(session: Session) -> None:
    panel = a_panel(session, experts=4)
    app = an_application(session, panel)
    # totals: (2·s1 + 1·s2/5·10) / 3 on the 10-point scale
    panel.score(session, 0, app.id, 8, 3)   # (16 + 6) / 3 = 7.3333
    panel.score(session, 1, app.id, 7, 4)   # (14 + 8) / 3 = 7.3333
    panel.score(session, 2, app.id, 2, 1)   # (4 + 2) / 3 = 2.0: the outlier
    panel.score(session, 3, app.id, 10, 5)  # 10.0, then recused
    service.declare_conflict(session, panel.expert(session, 3), app.id, "мой брат")
    row = contest_results(session, panel.manager, panel.contest.id).tracks[0].rows[0]
    # counted: 7.3333, 7.3333, 2.0 → mean 5.5556, median 7.3333, spread 5.33
    assert row.reviews == 3 and row.expected_reviews == 3
    assert row.score == pytest.approx(5.56) and row.mean == pytest.approx(5.56)
    assert row.median == pytest.approx(7.33) and row.spread == pytest.approx(5.33)
    names = {u.id: u.full_name or u.username for u in panel.experts}
    assert row.outliers == [names[panel.experts[2].id]]
    assert row.recused == [names[panel.experts[3].id]]
    assert [e.expert_id for e in row.experts] == [u.id for u in panel.experts[:3]]


def test_trimmed_mean_option(session: Session) -> None:
    panel = a_panel(session, experts=4, aggregation="trimmed")
    app = an_application(session, panel)
    for index, (s1, s2) in enumerate([(8, 3), (7, 4), (2, 1), (10, 5)]):
        panel.score(session, index, app.id, s1, s2)
    row = contest_results(session, panel.manager, panel.contest.id).tracks[0].rows[0]
    # totals 7.3333, 7.3333, 2.0, 10.0 → drop 2.0 and 10.0 → 7.3333; the mean is 6.6667
    assert row.score == pytest.approx(7.33) and row.trimmed_mean == pytest.approx(7.33)
    assert row.mean == pytest.approx(6.67)


def test_ties_explained_and_budget_shortfall_named(session: Session) -> None:
    panel = a_panel(session, experts=2, budget=500_000, winners=2)
    first = an_application(session, panel, requested=350_000, title="Первый", minutes=0)
    second = an_application(session, panel, requested=400_000, title="Второй", minutes=5)
    # equal totals (8·2 + 2/5·10 = 20 → 6.67 and 6·2 + 4/5·10 = 20 → 6.67); the second is
    # ahead on «Значимость» (8 against 6)
    for expert in (0, 1):
        panel.score(session, expert, first.id, 6, 4)
        panel.score(session, expert, second.id, 8, 2)
    results = contest_results(session, panel.manager, panel.contest.id)
    track = results.tracks[0]
    assert [r.application_id for r in track.rows] == [second.id, first.id]
    assert "«Значимость»" in track.rows[0].tie_note and f"№{first.id}" in track.rows[0].tie_note
    assert "Значимость" in track.tie_rule
    # 400k clipped to 350k + 350k = 700k against 500k: short by 200k in «Видео»
    assert track.needed_rub == 700_000 and track.shortfall_rub == 200_000
    assert results.shortfalls == [track.shortfall]
    assert "«Видео»" in track.shortfall and "200\u00a0000\u00a0₽" in track.shortfall
    # the first gets 350k; the 150k left is the minimum grant: the second gets it, reduced
    assert track.rows[0].grant_rub == 350_000 and track.rows[1].grant_rub == 150_000
    assert track.rows[1].grant_note == "сумма уменьшена до остатка бюджета"
    assert results.tracks[1].shortfall == ""


def test_expert_sees_only_assignments_and_others_scores_after_own(session: Session) -> None:
    panel = a_panel(session, experts=2)
    mine = an_application(session, panel)
    other_track = an_application(session, panel, track=1)
    expert = panel.expert(session, 0)
    assert [a.id for a in service.list_applications(session, expert, panel.contest.id)] == [
        mine.id]
    assert service.list_applications(session, expert, panel.contest.id)[0].contact is None
    with pytest.raises(NotFound):
        service.get_application(session, expert, other_track.id)
    outsider = actor_for(session, make_user(session, Role.expert, ["68"]))
    with pytest.raises(NotFound):
        service.get_contest(session, outsider, panel.contest.id)
    panel.score(session, 1, mine.id, 5, 5)
    with pytest.raises(Forbidden, match="submit your own scores"):
        service.reviews_of(session, expert, mine.id)
    panel.score(session, 0, mine.id, 6, 2)
    assert len(service.reviews_of(session, expert, mine.id)) == 2
    with pytest.raises(Forbidden):
        contest_results(session, expert, panel.contest.id)
    # a conflict declared: the application leaves the expert's list
    other = an_application(session, panel, title="Канал друга")
    service.declare_conflict(session, expert, other.id, "пишу для этого канала")
    with pytest.raises(NotFound):
        service.get_application(session, expert, other.id)


def test_out_of_scale_and_double_scoring(session: Session) -> None:
    panel = a_panel(session, experts=1)
    app = an_application(session, panel)
    expert = panel.expert(session, 0)
    c1, c2 = panel.criteria
    with pytest.raises(service.ScoreRejected, match="outside its scale 0–5") as refused:
        service.submit_review(session, expert, app.id, ReviewSubmit(
            scores=[ScoreIn(criterion_id=c1, value=9), ScoreIn(criterion_id=c2, value=7)]))
    assert refused.value.status_code == 422
    with pytest.raises(service.ScoreRejected, match="missing: Охват"):
        service.submit_review(session, expert, app.id, ReviewSubmit(
            scores=[ScoreIn(criterion_id=c1, value=9)]))
    panel.score(session, 0, app.id, 9, 5)
    with pytest.raises(Conflict, match="already scored"):
        panel.score(session, 0, app.id, 9, 5)


def test_stats_count_contests_and_applications(session: Session) -> None:
    import otklik.contests.stats  # noqa: F401  (registers the provider)

    before = stats.collect(session)
    panel = a_panel(session, experts=1)
    an_application(session, panel)
    an_application(session, panel, track=1)
    after = stats.collect(session)
    assert after["contests"] == before["contests"] + 1
    assert after["applications"] == before["applications"] + 2


def test_expert_scope_sees_no_cases_and_a_token_keeps_it(session: Session) -> None:
    from sqlalchemy import func, select

    from otklik.accounts.schemas import TokenCreate
    from otklik.accounts.service import authenticate_token, create_token
    from otklik.models.case import Case

    panel = a_panel(session, experts=1)
    mine = an_application(session, panel)
    other = an_application(session, panel, track=1)
    expert = panel.expert(session, 0)
    assert expert.scope.expert_id == panel.experts[0].id
    assert session.scalar(select(func.count()).select_from(Case)
                          .where(expert.scope.case_filter())) == 0
    _, secret = create_token(session, expert, TokenCreate(name="panel",
                                                          scopes=["contests.score"]))
    by_token = authenticate_token(session, secret)
    assert by_token.scope.expert_id == panel.experts[0].id
    assert [a.id for a in service.list_applications(session, by_token, panel.contest.id)] == [
        mine.id]
    with pytest.raises(NotFound):
        service.get_application(session, by_token, other.id)
