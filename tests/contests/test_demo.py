"""The demo's bloggers' contest: scored, with conflicts and an outlier expert, winners
within every track's budget."""

from __future__ import annotations

from sqlalchemy.orm import Session

from otklik.audit.actor import Actor
from otklik.contests.results import contest_results
from otklik.demo.contests import load_demo_contest


def test_demo_contest_is_scored_and_fits_the_budget(session: Session) -> None:
    actor = Actor.system("tests")
    contest_id = load_demo_contest(session, actor, "demo-password")
    assert load_demo_contest(session, actor, "demo-password") == contest_id  # once
    results = contest_results(session, actor, contest_id)
    assert len(results.tracks) == 4 and results.shortfalls == []
    rows = [r for t in results.tracks for r in t.rows]
    assert len(rows) == 48 and all(r.reviews == r.expected_reviews > 0 for r in rows)
    winners = [r for r in rows if r.grant_rub]
    assert len(winners) == 15
    assert all(150_000 <= r.grant_rub <= 350_000 for r in winners if r.grant_rub)
    for track in results.tracks:
        assert track.spent_rub <= track.budget_rub
    assert sum(len(r.recused) for r in rows) == 2
    video = results.tracks[0]
    assert any("строгий" in name for r in video.rows for name in r.outliers)
