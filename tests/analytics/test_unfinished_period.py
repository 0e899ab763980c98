"""A period that has not ended is compared with the same elapsed time of the previous one,
says so, and draws no day still to come: on the dashboard (service, API, page), in the
findings and in the brief in every format. A finished period behaves as before.

The world: region 68, ten messages a day in November (five at 09:00 and five at 20:00
Moscow time), eight a day on 1-5 December and four on the morning of 6 December; "now" is
6 December 14:00 Moscow time. The same 6 days of November (up to 14:00 on 6 November) hold
55 messages; all of November 300.
"""

from __future__ import annotations

import html
import io
import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session
from tests.builders import PASSWORD, make_user
from tests.conftest import login

from otklik.analytics.rollup import (
    refresh_case_rollup,
    refresh_message_rollup,
    refresh_problem_rollup,
)
from otklik.analytics.schemas import AnalyticsFilter, Dashboard
from otklik.analytics.service import dashboard
from otklik.audit.actor import Actor
from otklik.db.base import simulated_now
from otklik.models.account import Role
from otklik.models.case import Case, CaseMessage, CaseStatus, Problem
from otklik.models.message import Message, MessageEnrichment

NOW = datetime(2026, 12, 6, 11, 0, tzinfo=UTC)  # 14:00 Moscow time
MSK = timedelta(hours=3)
SYSTEM = Actor.system("tests")
DECEMBER = AnalyticsFilter.from_params(period="2026-12", region_code="68")
NOVEMBER = AnalyticsFilter.from_params(period="2026-11", region_code="68")
SAME_DAYS_OF_NOVEMBER = 55  # 1-5 November in full (50) and the morning of 6 November (5)
DECEMBER_SO_FAR = 44  # 1-5 December (40) and the morning of 6 December (4)
VOLUME = ("За 6 дней декабря (период не закончен) — 44 сообщения, на 20% меньше, чем за те "
          "же 6 дней ноября (55).")


def _msk(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - MSK


def _add(session: Session, moment: datetime, n: int, topic: str, key: str,
         problem: int | None = None) -> None:
    for i in range(n):
        message = Message(source="vk", source_id=f"unfinished-{key}-{i}", region_code="68",
                          text="Яма на дороге", text_length=13, content_hash=f"u{key}{i}",
                          created_at=moment, received_at=moment, enrich_status="done",
                          attachments=[], raw={})
        session.add(message)
        session.flush()
        session.add(MessageEnrichment(message_id=message.id, relevant=True, topic=topic,
                                      sentiment="negative", region_code="68", result={}))
        if i == 0:  # one case per batch: cases are compared like messages
            case = Case(region_code="68", status=CaseStatus.in_work, title="Яма",
                        topic=topic, source="vk", received_at=moment,
                        resolution_due=moment + timedelta(days=3), routing={}, pauses=[],
                        problem_id=problem)
            session.add(case)
            session.flush()
            session.add(CaseMessage(message_id=message.id, case_id=case.id, is_primary=True))


@pytest.fixture
def stream(session: Session) -> None:
    """November in full, December up to the morning of the 6th (nothing after "now"); the
    morning cases (roads) belong to one problem."""
    problem = Problem(region_code="68", title="Ямы на дорогах", topic="roads",
                      first_seen=_msk(date(2026, 11, 1), 9), last_seen=NOW, size=0)
    session.add(problem)
    session.flush()
    day = date(2026, 11, 1)
    while day < date(2026, 12, 1):
        _add(session, _msk(day, 9), 5, "roads", f"{day}-9", problem.id)
        _add(session, _msk(day, 20), 5, "waste", f"{day}-20")
        day += timedelta(days=1)
    while day < date(2026, 12, 6):
        _add(session, _msk(day, 9), 4, "roads", f"{day}-9", problem.id)
        _add(session, _msk(day, 20), 4, "waste", f"{day}-20")
        day += timedelta(days=1)
    _add(session, _msk(day, 9), 4, "roads", f"{day}-9", problem.id)
    session.flush()


def _volume_finding(board: Dashboard) -> str:
    return next(f.text for f in board.findings if f.code == "volume")


@pytest.mark.parametrize("use_rollup", [False, True], ids=["base", "rollup"])
def test_unfinished_month_is_compared_with_the_same_elapsed_days(
        session: Session, stream: None, use_rollup: bool) -> None:
    if use_rollup:  # the rollups answer whole days; the cut day comes from the base tables
        refresh_message_rollup(session, full=True)
        refresh_case_rollup(session, now=NOW, full=True)
        refresh_problem_rollup(session, now=NOW, full=True)
    board = dashboard(session, SYSTEM, DECEMBER, now=NOW, rollup=use_rollup)
    assert (board.as_of is not None) == use_rollup
    t = board.totals
    assert (t.messages, t.messages_previous) == (DECEMBER_SO_FAR, SAME_DAYS_OF_NOVEMBER)
    assert t.messages_change_pct == -20.0
    # one case per batch: 11 batches in the same days of November, 11 in December so far
    assert (t.cases, t.cases_previous) == (11, 11)
    assert _volume_finding(board) == VOLUME
    period = board.period
    assert not period.complete and (period.elapsed_days, period.days) == (6, 31)
    assert (period.previous_from, period.previous_to) == (date(2026, 11, 1),
                                                          date(2026, 11, 6))
    assert period.previous_until == NOW - timedelta(days=30)
    assert "Период не закончен" in period.note and "до 14:00 МСК" in period.note
    assert board.previous["until"] == (NOW - timedelta(days=30)).isoformat()
    # no day still to come: the series end today, and add up to the total
    for series in board.volume + board.sentiment:
        assert [p.key for p in series.points] == [
            (date(2026, 12, 1) + timedelta(days=i)).isoformat() for i in range(6)]
    assert sum(p.value for p in board.volume[0].points) == DECEMBER_SO_FAR
    # shares are compared with the same days too: 30 of 55 in November were roads
    roads = next(r for r in board.topics if r.topic == "roads")
    assert roads.messages_previous == 30 and roads.share_previous == round(30 / 55, 4)
    # the problem's trend too: its case message on 6 mornings now and on the same 6 before
    assert [(p.messages, p.messages_previous, p.trend) for p in board.problems] == [
        (6, 6, "flat")]
    problem = next(f.text for f in board.findings if f.code == "top_problem")
    assert problem.endswith(": 6 (было 6 за те же 6 дней ноября)."), problem
    top = next(f.text for f in board.findings if f.code == "top_topic")
    assert "к тем же 6 дням ноября" in top, top


def test_finished_month_is_compared_with_all_of_the_previous(session: Session, stream: None
                                                             ) -> None:
    board = dashboard(session, SYSTEM, NOVEMBER, now=NOW)
    assert board.period.complete and board.period.note == ""
    assert board.previous == {"date_from": "2026-10-01", "date_to": "2026-10-31",
                              "region_code": "68"}
    assert board.totals.messages == 300
    assert len(board.volume[0].points) == 30
    # October is empty: no change to state, and nothing about an unfinished period
    assert board.totals.messages_change_pct is None
    assert all("не закончен" not in f.text for f in board.findings)


def test_a_period_not_yet_begun_draws_nothing_and_compares_nothing(session: Session,
                                                                  stream: None) -> None:
    january = AnalyticsFilter.from_params(period="2027-01", region_code="68")
    board = dashboard(session, SYSTEM, january, now=NOW)
    assert board.period.elapsed_days == 0 and not board.period.complete
    assert board.volume[0].points == []
    assert board.totals.messages_previous == 0 and board.totals.messages_change_pct is None


def test_week_and_rolling_days_say_what_they_are_compared_with(session: Session,
                                                               stream: None) -> None:
    week = AnalyticsFilter.from_params(period="2026-W49", region_code="68")  # 30.11-06.12
    board = dashboard(session, SYSTEM, week, now=NOW)
    # 30 November (10) and 1-5 December (40) and the morning of the 6th (4) against
    # 23-28 November (60) and the morning of the 29th (5)
    assert (board.totals.messages, board.totals.messages_previous) == (54, 65)
    assert _volume_finding(board).startswith("За 7 дней недели (период не закончен) — 54")
    assert "чем за те же 7 дней прошлой недели (65)" in _volume_finding(board)
    last_days = AnalyticsFilter.from_params(date_from=date(2026, 12, 5),
                                            date_to=date(2026, 12, 6), region_code="68")
    board = dashboard(session, SYSTEM, last_days, now=NOW)
    # 5 December and the morning of the 6th against 3 December and the morning of the 4th
    assert (board.totals.messages, board.totals.messages_previous) == (12, 12)
    assert [p.key for p in board.volume[0].points] == ["2026-12-05", "2026-12-06"]


def test_brief_of_an_unfinished_month_in_every_format(session: Session, stream: None) -> None:
    from docx import Document
    from openpyxl import load_workbook
    from pypdf import PdfReader

    from otklik.reports.brief import build_brief
    from otklik.reports.writers import render_docx, render_pdf, render_xlsx

    brief = build_brief(session, SYSTEM, "68", "2026-12", now=NOW)
    assert brief.title.endswith("декабрь 2026 (период не закончен: 6 дней декабря)")
    assert VOLUME in [f.text for f in brief.dashboard.findings]
    assert brief.compared_with == "тем же 6 дням ноября"

    doc = Document(io.BytesIO(render_docx(brief)))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert VOLUME in text and "Период не закончен" in text
    # deadlines and brush-offs of an unfinished period are labelled partial
    assert "Рейтинг исполнителей (период не закончен)" in text
    assert "Муниципалитеты: сроки и качество ответов (период не закончен)" in text
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert "Изменение к тем же 6 дням ноября" in cells and "-20%" in cells

    reader = PdfReader(io.BytesIO(render_pdf(brief)))
    pdf = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert "период не закончен" in pdf and "те же 6 дней ноября (55)" in pdf

    book = load_workbook(io.BytesIO(render_xlsx(brief)))
    findings = [row[0] for row in book["Выводы"].iter_rows(values_only=True)]
    assert VOLUME in findings
    daily = list(book["По дням"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in daily] == [f"2026-12-0{i}" for i in range(1, 7)]  # no day to come
    assert sum(r[1] for r in daily) == DECEMBER_SO_FAR
    assert "Рейтинг исполнителей" in book.sheetnames


def test_scheduled_brief_is_for_the_finished_month(session: Session, stream: None) -> None:
    from otklik.reports.brief import build_brief
    from otklik.reports.schedule import due_period

    period = due_period("monthly", (NOW + MSK).date())
    brief = build_brief(session, SYSTEM, "68", period, now=NOW, with_charts=False)
    assert period == "2026-11" and brief.dashboard.period.complete
    assert "не закончен" not in brief.title
    assert brief.compared_with == "предыдущему периоду"


def _json_block(page: str) -> dict[str, object]:
    block = re.search(r'<script type="application/json" id="an-data">(.*?)</script>', page,
                      re.S)
    assert block
    return dict(json.loads(html.unescape(block.group(1))))


def test_api_and_pages_of_an_unfinished_month(client: object, session: Session,
                                              stream: None) -> None:
    analyst = make_user(session, Role.analyst, ["68"])
    login(client, analyst.username, PASSWORD)
    get = client.get  # type: ignore[attr-defined]
    with simulated_now(NOW):
        board = get("/api/v1/analytics/dashboard?period=2026-12").json()
        findings = get("/api/v1/analytics/findings?period=2026-12").json()["items"]
        page = get("/analytics?period=2026-12&region_code=68").text
        compare = get("/analytics/compare?period=2026-12").text
        finished = get("/analytics?period=2026-11&region_code=68").text
        client.cookies.set("lang", "en")  # type: ignore[attr-defined]
        english = get("/analytics?period=2026-12&region_code=68").text
    assert board["period"]["complete"] is False and board["period"]["elapsed_days"] == 6
    assert (board["totals"]["messages"], board["totals"]["messages_previous"]) == (
        DECEMBER_SO_FAR, SAME_DAYS_OF_NOVEMBER)
    assert [p["key"] for p in board["volume"][0]["points"]][-1] == "2026-12-06"
    assert VOLUME in [f["text"] for f in findings]

    assert 'data-testid="an-partial"' in page and "Период не закончен" in page
    assert "01.11.2026 — 06.11.2026 до 14:00 МСК" in page
    assert "То же время прошлого периода" in page
    data = _json_block(page)
    assert data["days"] == ["01.12", "02.12", "03.12", "04.12", "05.12", "06.12"]
    assert data["topics"]["partial"] is True  # the chart's legend says "same time"
    assert 'data-testid="an-partial"' in compare  # the regions' rates are partial too
    assert 'data-testid="an-partial"' not in finished and "Прошлый период" in finished
    assert "The period is not over yet" in english
    assert "compared with the same elapsed time of the previous period" in english
