"""The region brief: DOCX, PDF and XLSX open and carry the findings, charts and tables."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session
from tests.analytics.conftest import World, world  # noqa: F401  (fixture)

from otklik.audit.actor import Actor
from otklik.decisions.schemas import DecisionCreate
from otklik.decisions.service import create_decision
from otklik.errors import NotFound
from otklik.reports.brief import Brief, build_brief, period_label
from otklik.reports.writers import render_docx, render_pdf, render_xlsx

SYSTEM = Actor.system("tests")
AFTER_NOVEMBER = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


@pytest.fixture
def brief(session: Session, world: World) -> Brief:  # noqa: F811
    """Tambov's brief for November 2026 with one decision."""
    create_decision(session, SYSTEM, DecisionCreate(
        region_code="68", title="Капитальный ремонт путепровода на ул. Лаврова",
        decided_on=date(2026, 11, 10), decided_by="Губернатор Тамбовской области",
        budget_rub=278_000_000, topics=["roads"]))
    # made after November has ended: a finished period, compared with all of October
    return build_brief(session, SYSTEM, "Тамбовская", "2026-11", now=AFTER_NOVEMBER)


def test_brief_gathers_findings_ratings_and_decisions(brief: Brief) -> None:
    assert brief.title == "Обращения жителей: Тамбовская область, ноябрь 2026"
    assert brief.dashboard.period.complete and brief.dashboard.period.note == ""
    assert brief.dashboard.previous["date_from"] == "2026-10-01"
    assert brief.dashboard.previous["date_to"] == "2026-10-31"
    assert len(brief.dashboard.volume[0].points) == 30
    assert brief.dashboard.findings, "the fixture is big enough for findings"
    assert brief.executor_ratings.formula.startswith("Балл = 100")
    assert [d.title for d in brief.decisions] == [
        "Капитальный ремонт путепровода на ул. Лаврова"]
    assert all(o.days_late >= 0 for o in brief.overdue)
    assert set(brief.images) == {"volume", "topics"}
    assert all(png.startswith(b"\x89PNG") for png in brief.images.values())


def test_docx_has_findings_pictures_and_tables(brief: Brief) -> None:
    from docx import Document

    doc = Document(io.BytesIO(render_docx(brief)))
    text = "\n".join(p.text for p in doc.paragraphs)
    for finding in brief.dashboard.findings:
        assert finding.text in text
    assert len(doc.inline_shapes) == 2
    cells = {c.text for t in doc.tables for row in t.rows for c in row.cells}
    assert "Капитальный ремонт путепровода на ул. Лаврова" in cells
    assert "278 млн ₽" in cells


def test_pdf_embeds_the_font_and_reads_back_in_russian(brief: Brief) -> None:
    from pypdf import PdfReader

    content = render_pdf(brief)
    reader = PdfReader(io.BytesIO(content))
    text = " ".join(page.extract_text() for page in reader.pages)
    normalized = " ".join(text.split())
    assert "Обращения жителей: Тамбовская область, ноябрь 2026" in normalized
    first = brief.dashboard.findings[0].text
    assert " ".join(first.split()[:6]) in normalized
    fonts = {str(f.get_object()["/BaseFont"]) for page in reader.pages
             for f in page["/Resources"]["/Font"].values()}
    assert any("DejaVu" in f for f in fonts)
    assert b"/FontFile2" in content  # the TrueType program itself is inside
    images = sum(len(page.images) for page in reader.pages)
    assert images == 2


def test_xlsx_holds_findings_and_tables(brief: Brief) -> None:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(render_xlsx(brief)))
    assert book.sheetnames[0] == "Выводы"
    findings = [row[0] for row in book["Выводы"].iter_rows(min_row=4, values_only=True)]
    assert findings == [f.text for f in brief.dashboard.findings]
    daily = list(book["По дням"].iter_rows(min_row=2, values_only=True))
    assert sum(r[1] for r in daily) == brief.dashboard.totals.messages
    assert "Рейтинг исполнителей" in book.sheetnames


def test_unknown_or_foreign_region_is_refused(session: Session) -> None:
    from otklik.accounts.scope import Scope

    with pytest.raises(NotFound):
        build_brief(session, SYSTEM, "Атлантида", "2026-11")
    tambov = Actor("analyst", Scope(region_codes=frozenset({"68"}),
                                    permissions=frozenset({"read", "analytics"})))
    with pytest.raises(NotFound):
        build_brief(session, tambov, "07", "2026-11")


def test_period_labels() -> None:
    from otklik.analytics.schemas import AnalyticsFilter

    assert period_label(AnalyticsFilter.from_params(period="2026-11")) == "ноябрь 2026"
    assert period_label(AnalyticsFilter.from_params(period="2026-W47")) == \
        "16.11.2026 — 22.11.2026"
