"""The panel's arithmetic without a database: numbers worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from otklik.contests.aggregation import (
    Criterion,
    Entry,
    ExpertTotal,
    TrackBudget,
    aggregate,
    expert_total,
    fit_budget,
    rank,
)

CRITERIA = [Criterion(1, "Значимость", 10, 2.0), Criterion(2, "Охват", 5, 1.0)]


def test_expert_total_is_weighted_and_brought_to_ten_points() -> None:
    # (2·8/10·10 + 1·4/5·10) / 3 = (16 + 8) / 3 = 8
    assert expert_total({1: 8, 2: 4}, CRITERIA) == pytest.approx(8.0)
    assert expert_total({1: 10, 2: 5}, CRITERIA) == pytest.approx(10.0)


def test_recused_expert_ignored_and_outlier_flagged() -> None:
    totals = [ExpertTotal(1, 7.0, {1: 7}), ExpertTotal(2, 8.0, {1: 8}),
              ExpertTotal(3, 2.0, {1: 2}), ExpertTotal(4, 10.0, {1: 10})]
    result = aggregate(totals, recused=[4], outlier_points=2.0)
    # expert 4 is recused: (7 + 8 + 2) / 3 = 5.667; median 7; |2 − 7| = 5 > 2 → outlier
    assert [r.expert_id for r in result.reviews] == [1, 2, 3]
    assert result.mean == pytest.approx(17 / 3)
    assert result.median == 7.0
    assert result.spread == 6.0
    assert result.outliers == [3]
    assert result.score == result.mean
    assert result.criterion_means[1] == pytest.approx(17 / 3)


def test_trimmed_mean_drops_highest_and_lowest() -> None:
    totals = [ExpertTotal(1, 7.0, {}), ExpertTotal(2, 8.0, {}), ExpertTotal(3, 2.0, {}),
              ExpertTotal(4, 7.5, {})]
    result = aggregate(totals, trimmed=True)
    assert result.trimmed_mean == pytest.approx((7.0 + 7.5) / 2)
    assert result.score == result.trimmed_mean
    two = aggregate([ExpertTotal(1, 4.0, {}), ExpertTotal(2, 9.0, {})], trimmed=True)
    assert two.score == pytest.approx(6.5) and two.outliers == []  # too few to trim or flag


def test_ties_are_explained_with_the_rule_that_decided() -> None:
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    t1 = datetime(2026, 3, 2, tzinfo=UTC)
    entries = [Entry(10, "№10", 7.5, 6.0, t0), Entry(11, "№11", 7.5, 8.0, t1),
               Entry(12, "№12", 9.0, 9.0, t1), Entry(13, "№13", None, 0.0, t0),
               Entry(14, "№14", 5.0, 5.0, t1), Entry(15, "№15", 5.0, 5.0, t0)]
    ranked = {r.application_id: r for r in rank(entries, "Значимость")}
    assert ranked[12].place == 1 and ranked[12].tie_note == ""
    assert (ranked[11].place, ranked[10].place) == (2, 3)  # the key criterion decided
    assert "№10" in ranked[11].tie_note and "по критерию «Значимость»" in ranked[11].tie_note
    assert (ranked[15].place, ranked[14].place) == (4, 5)  # equal criterion: earlier wins
    assert "по времени подачи" in ranked[14].tie_note
    assert ranked[13].place is None


def test_budget_fit_clips_to_bounds_and_names_the_shortfall() -> None:
    track = TrackBudget("Видео", 800_000, 150_000, 350_000, 3)
    ok = fit_budget(track, [(1, 100_000), (2, 400_000), (3, 200_000), (4, 300_000)])
    # 100k → 150k (min), 400k → 350k (max), 200k; the 4th is beyond the 3 winners
    assert ok.grants == {1: 150_000, 2: 350_000, 3: 200_000}
    assert ok.shortfall_rub == 0 and ok.message == "" and ok.spent_rub == 700_000
    short = fit_budget(TrackBudget("Видео", 700_000, 150_000, 350_000, 3),
                       [(1, 350_000), (2, 300_000), (3, 250_000)])
    assert short.needed_rub == 900_000 and short.shortfall_rub == 200_000
    assert "Видео" in short.message and "200\u00a0000\u00a0₽" in short.message
    # 350k + 300k funded; 50k left is below the minimum grant: the third is unfunded
    assert short.grants == {1: 350_000, 2: 300_000} and short.unfunded == [3]
    reduced = fit_budget(TrackBudget("Тексты", 820_000, 150_000, 350_000, 3),
                         [(1, 350_000), (2, 300_000), (3, 250_000)])
    assert reduced.grants[3] == 170_000 and reduced.reduced == [3]
