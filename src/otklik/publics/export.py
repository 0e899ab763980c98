"""A region's weekly rating as XLSX (openpyxl) or DOCX (python-docx), as the reports do:
the ranked pages with scores, movement and advice, then the ratings by municipality and by
type. A page without data says "нет данных", never 0."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.orm import Session

from otklik.audit.actor import Actor
from otklik.errors import NotFound
from otklik.publics import service
from otklik.publics.repository import PageFilter, PublicsRepository
from otklik.publics.vocabulary import PAGE_CLASSES, PAGE_TYPES, label

Format = Literal["xlsx", "docx"]
NO_DATA = "нет данных"
HEADER = ("Место в регионе", "Место в муниципалитете", "Страница", "Тип", "Класс",
          "Муниципалитет", "Баллы", "Изменение места", "Ссылка", "Рекомендации")
SUMMARY_HEADER = ("", "Страниц", "С данными", "Средний балл")


@dataclass
class RatingReport:
    """What the export holds."""

    region: str
    week: str
    version: int
    rows: list[tuple[object, ...]] = field(default_factory=list)
    by_municipality: list[tuple[object, ...]] = field(default_factory=list)
    by_type: list[tuple[object, ...]] = field(default_factory=list)

    @property
    def title(self) -> str:
        """The document's title."""
        return f"Рейтинг официальных страниц: регион {self.region}, неделя {self.week}"


def _movement(value: int | None) -> str:
    if value is None:
        return ""
    return f"+{value}" if value > 0 else str(value)


def build_report(session: Session, actor: Actor, region_code: str, week: str) -> RatingReport:
    """A region's rating of a week, ranked."""
    f = PageFilter(region_code=region_code)
    rated, _, version = service.rating_list(session, actor, week, f, sort="rank", limit=None)
    if version is None:
        raise NotFound(f"no rating for week {week}: run otklik publics compute --week {week}")
    towns = {p.page.municipality_id for p in rated}
    names = PublicsRepository(session).territory_names(t for t in towns if t)
    report = RatingReport(region_code, week, version)
    for item in rated:
        r, page = item.rating, item.page
        report.rows.append((
            r.rank_region if r.rank_region is not None else NO_DATA,
            r.rank_municipality if r.rank_municipality is not None else "",
            page.name, label(PAGE_TYPES, page.page_type), label(PAGE_CLASSES, page.page_class),
            names.get(page.municipality_id or 0, ""),
            r.score if r.score is not None else NO_DATA, _movement(r.movement), page.url,
            "\n".join(item.advice)))
    for by, target in (("municipality", report.by_municipality), ("type", report.by_type)):
        for key, pages, with_data, mean in service.summary(session, actor, week, f, by):
            name = label(PAGE_TYPES, key) if by == "type" else key
            target.append((name, pages, with_data,
                           round(mean, 1) if mean is not None else NO_DATA))
    return report


def render(report: RatingReport, fmt: Format) -> bytes:
    """The report in one format as bytes."""
    return render_docx(report) if fmt == "docx" else render_xlsx(report)


def render_xlsx(report: RatingReport) -> bytes:
    """A workbook: the rating, then by municipality, then by type."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Рейтинг"
    sheet.append([report.title])
    sheet.append([f"Методика, версия {report.version}"])
    sheet.append(list(HEADER))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for row in report.rows:
        sheet.append(list(row))
        sheet.cell(sheet.max_row, len(HEADER)).alignment = Alignment(wrap_text=True)
    for column, width in zip("ABCDEFGHIJ", (10, 10, 45, 22, 12, 28, 8, 10, 30, 80),
                             strict=True):
        sheet.column_dimensions[column].width = width
    for title, rows in (("По муниципалитетам", report.by_municipality),
                        ("По типам", report.by_type)):
        extra = book.create_sheet(title)
        extra.append([title if not rows else "", *SUMMARY_HEADER[1:]])
        for row in rows:
            extra.append(list(row))
        extra.column_dimensions["A"].width = 40
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def render_docx(report: RatingReport) -> bytes:
    """A Word document: the title, the ranked table, the summaries."""
    from docx import Document
    from docx.shared import Cm, Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "DejaVu Sans"  # type: ignore[attr-defined]
    style.font.size = Pt(9)  # type: ignore[attr-defined]
    for section in doc.sections:
        section.left_margin = section.right_margin = Cm(1.5)
    doc.add_heading(report.title, level=1)
    doc.add_paragraph(f"Методика, версия {report.version}. Страница без данных за неделю "
                      f"отмечена «{NO_DATA}», а не нулём.")
    columns = (0, 2, 3, 5, 6, 7, 9)
    _table(doc, [HEADER[i] for i in columns],
           [[row[i] for i in columns] for row in report.rows])
    for title, rows in (("По муниципалитетам", report.by_municipality),
                        ("По типам", report.by_type)):
        doc.add_heading(title, level=2)
        _table(doc, ["", *SUMMARY_HEADER[1:]], [list(r) for r in rows])
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _table(doc: object, header: list[str], rows: list[list[object]]) -> None:
    grid = doc.add_table(rows=1, cols=len(header))  # type: ignore[attr-defined]
    grid.style = "Light Grid Accent 1"
    for cell, text in zip(grid.rows[0].cells, header, strict=True):
        cell.text = str(text)
    for row in rows:
        cells = grid.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = "" if value is None else str(value)
