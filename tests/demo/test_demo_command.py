"""The front door: `otklik demo` sets everything up, logins work, a second run reuses it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from otklik.config import get_settings
from otklik.db.session import reset_engine_cache
from otklik.demo.archive import archive_size

DEMO_USERS = ("admin", "operator", "curator", "executor", "analyst", "head", "deputy", "owner")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A demo database made by the real command (a small stream to keep it quick)."""
    mp = pytest.MonkeyPatch()
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'otklik.db'}"
    mp.setenv("OTKLIK_ENV", "demo")
    mp.setenv("OTKLIK_DATABASE_URL", url)
    # one hour for every load of this module: a load behind the pages is compared with it
    from otklik.demo import stream

    end = stream.default_end()
    mp.setattr(stream, "default_end", lambda: end)
    get_settings.cache_clear()
    reset_engine_cache()
    from otklik.cli import app

    result = CliRunner().invoke(app, ["demo", "--load-only", "--messages", "400"])
    assert result.exit_code == 0, result.output
    for name in DEMO_USERS:
        assert name in result.output
    yield url
    mp.undo()
    get_settings.cache_clear()
    reset_engine_cache()


def test_every_demo_user_logs_in(demo_db: str) -> None:
    from otklik.app import create_app

    with TestClient(create_app(get_settings())) as client:
        for name in DEMO_USERS:
            client.cookies.clear()
            page = client.get("/login")
            csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
            response = client.post("/login", data={"username": name, "password": "demo",
                                                   "csrf": csrf}, follow_redirects=True)
            assert response.status_code == 200 and 'data-testid="current-user"' in response.text


def test_second_run_reuses_and_stats_count_everything(demo_db: str) -> None:
    from otklik.cli import app

    runner = CliRunner()
    before = json.loads(runner.invoke(app, ["stats", "--json"]).output)
    again = runner.invoke(app, ["demo", "--load-only", "--messages", "400"])
    assert again.exit_code == 0 and "reused the existing demo" in again.output
    after = json.loads(runner.invoke(app, ["stats", "--json"]).output)
    assert before == after
    for key in ("regions", "territories", "organizations", "users", "messages", "cases",
                "cases_by_status", "overdue", "problems"):
        assert key in after
    from sqlalchemy import func, select

    from otklik.db.session import session_scope
    from otklik.models.message import Message

    with session_scope() as session:  # the copies of the demo's fakes (otklik.demo.fakes)
        fake_stream = session.scalar(select(func.count()).select_from(Message).where(
            Message.source_id.like("demo-fake-%")))
    # the 400 messages of the live stream, Karelia's archive of the year before them, the
    # copies of the demo's fakes and the share of the official pages' comments that entered
    # the stream
    from_pages = _page_comments_in_stream(demo_db)
    assert from_pages > 0
    assert after["messages"] == 400 + archive_size(400) + fake_stream + from_pages
    from otklik.demo.contests import EXPERTS

    # the demo's logins and the contest's expert panel (expert1 … expert6)
    assert after["users"] == len(DEMO_USERS) + len(EXPERTS)
    # thirty fakes across the five regions with hundreds of copies (docs/fakes.md)
    assert after["fakes"] == 30 and after["fake_copies"] >= 300
    assert after["pages"] > 250 and after["page_ratings"] > after["pages"]
    assert after["cases"] > 0
    assert after["regions"] >= 5 and after["organizations"] > 100


def test_a_loaded_demo_breaks_no_invariant(demo_db: str) -> None:
    """`otklik check --json` (the acceptance form) is clean on a loaded demo, even with no
    grace for work in flight: what the load stored late (the fakes' copies, the pages'
    comments) has its cases, and every approved answer is published, at the moment its job
    would have run after the approval (the demo's sources have no connector: no_channel)."""
    _assert_published_as_approved()


def _assert_published_as_approved() -> None:
    """`otklik check` clean without grace; every answer published after its approval."""
    from sqlalchemy import select

    from otklik.cli import app

    result = CliRunner().invoke(app, ["check", "--json", "--grace", "0"])
    report = json.loads(result.output)
    assert result.exit_code == 0 and report["ok"] is True, report
    assert report["messages"] == report["enriched"] > 0

    from otklik.db.session import session_scope
    from otklik.demo.simulation import PUBLISH_LAG
    from otklik.models.case import Answer, Publication

    with session_scope() as session:
        answers = session.execute(select(Answer.status, Answer.approved_at,
                                         Answer.published_at)).all()
        channels = set(session.scalars(select(Publication.status)))
    published = [(approved, at) for status, approved, at in answers if status == "published"]
    assert len(published) > 100 and channels == {"no_channel"}
    assert all(approved < at <= approved + PUBLISH_LAG for approved, at in published)
    assert not [a for a in answers if a.status == "approved"]


def _page_comments_in_stream(url: str) -> int:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from otklik.db.session import make_engine
    from otklik.models.message import Message
    from otklik.models.publics import PublicPage

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return int(session.scalar(select(func.count()).select_from(Message).where(
                Message.owner_id.in_(select(PublicPage.external_id)))) or 0)
    finally:
        engine.dispose()


def test_export_writes_an_importable_stream(tmp_path: Path) -> None:
    from otklik.cli import app

    out = tmp_path / "stream.jsonl"
    result = CliRunner().invoke(app, ["demo", "--export", str(out), "--messages", "50"])
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 50 and all(json.loads(line)["text"] is not None for line in lines)


def test_karelia_has_its_year_of_messages_and_decisions(demo_db: str) -> None:
    from sqlalchemy import func, select

    from otklik.db.session import session_scope
    from otklik.demo import karelia
    from otklik.models.case import CaseMessage
    from otklik.models.decision import Decision
    from otklik.models.message import Message

    with session_scope() as session:
        first_live = session.scalar(select(func.min(Message.created_at))
                                    .where(Message.region_code != "86"))
        archived = session.scalar(select(func.count()).select_from(Message).where(
            Message.created_at < first_live))
        in_cases = session.scalar(select(func.count()).select_from(CaseMessage).join(
            Message, Message.id == CaseMessage.message_id).where(
            Message.created_at < first_live - timedelta(days=1)))
        decisions = session.scalar(select(func.count()).select_from(Decision).where(
            Decision.region_code == "86"))
    assert archived and archived >= archive_size(400) - 5
    assert in_cases == 0  # the archive gets no case cards
    assert decisions == karelia.DECISIONS_PER_YEAR


def test_the_demo_holds_the_direct_line_the_proposal_and_the_contest(demo_db: str) -> None:
    """Issue 18's demo, loaded by the real command: a finished Tambov direct line with the
    Michurinsk overpass on top, its promise linked to the 278 M-ruble decision with a stage
    done; the software engineer's proposal (story 6) on its path with a notice a step; the
    bloggers' contest scored, 15 winners within every track's budget."""
    from sqlalchemy import select

    from otklik.audit.actor import Actor
    from otklik.contests.results import contest_results
    from otklik.db.session import session_scope
    from otklik.demo import contests as demo_contest
    from otklik.demo import participation as demo_line
    from otklik.models.case import Answer
    from otklik.models.contests import Contest
    from otklik.models.decision import Decision
    from otklik.models.message import Message
    from otklik.models.participation import Campaign, Promise, Proposal
    from otklik.participation import campaigns, promises, proposals

    actor = Actor.system("tests")
    with session_scope() as session:
        line = session.scalar(select(Campaign).where(Campaign.title == demo_line.TITLE))
        assert line is not None and line.region_code == "68" and line.finished_at is not None
        confirmed = [q for q in campaigns.questions(session, actor, line.id, originals_only=True)
                     if q.confirmed]
        top = max(confirmed, key=lambda q: q.supporters)
        assert top.text.startswith(demo_line.OVERPASS[:40]) and top.status == "promised"
        promise = session.scalar(select(Promise).where(Promise.question_id == top.id))
        assert promise is not None and promise.case_id is not None
        decision = session.get(Decision, promise.decision_id)
        assert decision is not None and decision.budget_rub == 278_000_000
        assert [bool(s["done_on"]) for s in promise.stages] == [True, False]
        report = promises.report(session, actor, line.id)
        assert report.late >= 1 and report.promises_overdue >= 1 and report.to_control >= 1
        proposal = session.scalar(select(Proposal).join(
            Message, Message.id == Proposal.message_id).where(
            Message.text.contains("программу для общения")))
        assert proposal is not None and proposal.status == "in_work"
        path = [e.to_status or e.kind for e in proposals.events(session, actor, proposal.id)]
        assert path == ["received", "under_review", "meeting", "accepted", "in_work"]
        notices = session.scalars(select(Answer).where(
            Answer.case_id == proposal.case_id, Answer.kind == "notice")).all()
        # approved by the moderator, then published where the resident wrote
        assert len(notices) == len(path) and {n.status for n in notices} == {"published"}
        assert all(n.approved_at is not None for n in notices)
        contest = session.scalar(select(Contest).where(Contest.title == demo_contest.TITLE))
        assert contest is not None
        results = contest_results(session, actor, contest.id)
    rows = [r for t in results.tracks for r in t.rows]
    assert len(results.tracks) == 4 and results.shortfalls == []
    assert rows and all(r.reviews == r.expected_reviews > 0 for r in rows)
    winners = [r.grant_rub for r in rows if r.grant_rub]
    assert len(winners) == 15 and all(150_000 <= g <= 350_000 for g in winners)
    assert all(t.spent_rub <= t.budget_rub for t in results.tracks)
    assert sum(len(r.recused) for r in rows) == 2 and any(r.outliers for r in rows)


def test_the_deputy_sees_the_analytics_of_their_district_only(demo_db: str) -> None:
    from otklik.app import create_app

    with TestClient(create_app(get_settings())) as client:
        client.post("/api/v1/auth/login", json={"username": "deputy", "password": "demo"})
        year = {"region_code": "86", "date_from": (date.today() - timedelta(days=364)).isoformat()}
        own = client.get("/api/v1/analytics/dashboard", params=year)
        assert own.status_code == 200
        areas = own.json()["areas"]
        assert areas and {a["name"] for a in areas} <= {"Кондопожский район"}
        other = client.get("/api/v1/analytics/dashboard", params={"region_code": "68"})
        assert other.status_code == 404


#: What a load must end with whether it ran before serving or behind the first page.
SAME_AFTER_LOAD = ("messages", "cases", "problems", "users", "fakes", "fake_copies", "pages",
                   "page_ratings", "organizations", "territories", "regions")


def test_the_demo_serves_while_it_loads_and_ends_as_a_load_before_serving(
        demo_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`otklik demo` (not --load-only) serves once the users and the reference data are in;
    the stream, its cases, the work and the rest load in a thread behind the pages: the login
    page and the dashboard answer meanwhile with the banner, the progress endpoint climbs to
    100, and the database ends as the one loaded before serving."""
    import time

    from otklik import cli
    from otklik.app import create_app
    from otklik.demo.progress import tracker

    runner = CliRunner()
    loaded_first = json.loads(runner.invoke(cli.app, ["stats", "--json"]).output)
    monkeypatch.setenv("OTKLIK_DATABASE_URL", f"sqlite:///{tmp_path / 'behind.db'}")
    get_settings.cache_clear()
    reset_engine_cache()
    seen: dict[str, list] = {"percents": [], "pages_while_loading": [], "errors": []}

    def serve_and_probe(host: object, port: object) -> None:
        """Instead of uvicorn: the app answering while the loader thread runs."""
        with TestClient(create_app(get_settings())) as client:
            client.post("/api/v1/auth/login", json={"username": "admin", "password": "demo"})
            deadline = time.monotonic() + 900
            while time.monotonic() < deadline:
                progress = client.get("/api/v1/demo/progress").json()
                seen["percents"].append(progress["percent"])
                if progress["error"]:
                    seen["errors"].append(progress["error"])
                    return
                if not progress["loading"]:
                    return
                pages = {path: client.get(path) for path in ("/analytics", "/cases", "/")}
                login = TestClient(create_app(get_settings())).get("/login")
                if tracker.snapshot()["loading"]:  # still loading after the pages answered
                    seen["pages_while_loading"].append(
                        {path: (r.status_code, 'data-testid="demo-progress"' in r.text)
                         for path, r in [*pages.items(), ("/login", login)]})
                time.sleep(0.5)

    monkeypatch.setattr(cli, "_run_server", serve_and_probe)
    result = runner.invoke(cli.app, ["demo", "--messages", "400"])
    assert result.exit_code == 0, result.output
    assert not seen["errors"]
    percents = seen["percents"]
    assert percents[-1] == 100 and percents == sorted(percents) and percents[0] < 100
    # the first pages were served while the load went on, each with the banner
    while_loading = seen["pages_while_loading"]
    assert while_loading
    for pages in while_loading:
        assert all(status == 200 and banner for status, banner in pages.values()), pages
    with TestClient(create_app(get_settings())) as client:
        done = client.get("/demo/progress")
        assert done.status_code == 286 and done.text == ""  # htmx stops polling
        assert 'data-testid="demo-progress"' not in client.get("/login").text
    behind = json.loads(runner.invoke(cli.app, ["stats", "--json"]).output)
    assert {k: behind[k] for k in SAME_AFTER_LOAD} == {k: loaded_first[k] for k in SAME_AFTER_LOAD}
    # the in-process worker ran the publishing jobs the load queued: they found the answers
    # published at their simulated moments, and nothing is left for the acceptance check
    _assert_published_as_approved()
    monkeypatch.undo()
    get_settings.cache_clear()
    reset_engine_cache()


def test_the_progress_routes_are_the_demos_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """In production (no demo data there) both progress routes answer 404."""
    from otklik.app import create_app
    from otklik.config import Environment
    from otklik.web import demo_load

    production = get_settings().model_copy(update={"env": Environment.production})
    monkeypatch.setattr(demo_load, "get_settings", lambda: production)
    with TestClient(create_app(get_settings())) as client:
        assert client.get("/demo/progress").status_code == 404
        assert client.get("/api/v1/demo/progress").status_code == 404


def test_a_load_stopped_half_way_starts_over(demo_db: str, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A load that stopped after the stream was stored (the server closed while it loaded)
    is not taken up again: the next `otklik demo` says so, starts from an empty database and
    ends as a whole load."""
    from otklik import cli
    from otklik.demo import emergencies

    runner = CliRunner()
    whole = json.loads(runner.invoke(cli.app, ["stats", "--json"]).output)
    monkeypatch.setenv("OTKLIK_DATABASE_URL", f"sqlite:///{tmp_path / 'half.db'}")
    get_settings.cache_clear()
    reset_engine_cache()

    def stop(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the server closed")  # the load stops here, the stream stored

    with monkeypatch.context() as patched:
        patched.setattr(emergencies, "open_demo_incidents", stop)
        stopped = runner.invoke(cli.app, ["demo", "--load-only", "--messages", "400"])
    assert stopped.exit_code != 0
    half = json.loads(runner.invoke(cli.app, ["stats", "--json"]).output)
    assert half["messages"] > 0 and half["fakes"] == 0  # the stream is in, its end is not

    again = runner.invoke(cli.app, ["demo", "--load-only", "--messages", "400"])
    assert again.exit_code == 0, again.output
    assert "starting over" in again.output
    after = json.loads(runner.invoke(cli.app, ["stats", "--json"]).output)
    assert {k: after[k] for k in SAME_AFTER_LOAD} == {k: whole[k] for k in SAME_AFTER_LOAD}
    monkeypatch.undo()
    get_settings.cache_clear()
    reset_engine_cache()
