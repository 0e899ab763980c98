"""The brief laid out as DOCX (python-docx), PDF (fpdf2, DejaVu embedded) and XLSX (openpyxl)."""

from __future__ import annotations

import io
from typing import Literal

from otklik.reports.brief import Brief, Table
from otklik.reports.charts import BOLD_FONT, REGULAR_FONT
from otklik.reports.tables import all_tables

Format = Literal["docx", "pdf", "xlsx"]
FORMATS: tuple[Format, ...] = ("docx", "pdf", "xlsx")


def _subtitle(brief: Brief) -> str:
    text = (f"Подготовлено в Отклике {brief.generated_at:%d.%m.%Y %H:%M} UTC. "
            "Каждая цифра воспроизводится запросом к аналитике Отклика.")
    note = brief.dashboard.period.note  # an unfinished period says what it is compared with
    return f"{text} {note}" if note else text


def render(brief: Brief, fmt: Format) -> bytes:
    """The brief in one format as bytes."""
    if fmt == "docx":
        return render_docx(brief)
    if fmt == "pdf":
        return render_pdf(brief)
    return render_xlsx(brief)


# ---- DOCX -----------------------------------------------------------------------------------

def render_docx(brief: Brief) -> bytes:
    """A Word document: heading, findings, charts, tables, the rating formula."""
    from docx import Document
    from docx.shared import Cm, Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "DejaVu Sans"  # type: ignore[attr-defined]
    style.font.size = Pt(10)  # type: ignore[attr-defined]
    for section in doc.sections:
        section.left_margin = section.right_margin = Cm(2)
    doc.add_heading(brief.title, level=1)
    doc.add_paragraph(_subtitle(brief))
    doc.add_heading("Выводы", level=2)
    for finding in brief.dashboard.findings:
        doc.add_paragraph(finding.text, style="List Bullet")
    doc.add_heading("Динамика и темы", level=2)
    for key in ("volume", "topics"):
        if key in brief.images:
            doc.add_picture(io.BytesIO(brief.images[key]), width=Cm(16.5))
    for table in all_tables(brief):
        doc.add_heading(table.title, level=2)
        if not table.rows:
            doc.add_paragraph("Нет данных за период.")
            continue
        grid = doc.add_table(rows=1, cols=len(table.header))
        grid.style = "Light Grid Accent 1"
        for cell, text in zip(grid.rows[0].cells, table.header, strict=True):
            cell.text = text
        for row in table.rows:
            cells = grid.add_row().cells
            for cell, value in zip(cells, row, strict=True):
                cell.text = str(value)
        if table.key == "executors":
            doc.add_paragraph(brief.executor_ratings.formula).runs[0].italic = True
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


# ---- PDF ------------------------------------------------------------------------------------

def render_pdf(brief: Brief) -> bytes:
    """A PDF with DejaVu Sans embedded (Cyrillic everywhere), charts as images."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("DejaVu", "", str(REGULAR_FONT))
    pdf.add_font("DejaVu", "B", str(BOLD_FONT))
    pdf.set_title(brief.title)
    pdf.set_creator("Otklik")
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_font("DejaVu", "B", 15)
    pdf.multi_cell(width, 7, brief.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 8)
    pdf.multi_cell(width, 4, _subtitle(brief), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    _pdf_heading(pdf, "Выводы")
    pdf.set_font("DejaVu", "", 10)
    for finding in brief.dashboard.findings:
        pdf.multi_cell(width, 5, f"•  {finding.text}", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    for key in ("volume", "topics"):
        if key in brief.images:
            pdf.image(io.BytesIO(brief.images[key]), w=width)
            pdf.ln(2)
    heading_style = FontFace(emphasis="BOLD", fill_color=(225, 233, 245))
    for table in all_tables(brief):
        _pdf_heading(pdf, table.title)
        pdf.set_font("DejaVu", "", 8)
        if not table.rows:
            pdf.multi_cell(width, 5, "Нет данных за период.", new_x="LMARGIN", new_y="NEXT")
            continue
        with pdf.table(col_widths=tuple(table.widths), headings_style=heading_style,
                       line_height=4.5, text_align="LEFT") as grid:
            all_rows: list[list[str | int | float]] = [list(table.header), *table.rows]
            for row in all_rows:
                cells = grid.row()
                for value in row:
                    cells.cell(str(value))
        if table.key == "executors":
            pdf.ln(1)
            pdf.set_font("DejaVu", "", 7)
            pdf.multi_cell(width, 3.5, brief.executor_ratings.formula, new_x="LMARGIN",
                           new_y="NEXT")
    return bytes(pdf.output())


def _pdf_heading(pdf: object, text: str) -> None:
    pdf.ln(3)  # type: ignore[attr-defined]
    pdf.set_font("DejaVu", "B", 12)  # type: ignore[attr-defined]
    pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")  # type: ignore[attr-defined]
    pdf.ln(1)  # type: ignore[attr-defined]


# ---- XLSX -----------------------------------------------------------------------------------

def render_xlsx(brief: Brief) -> bytes:
    """The underlying tables, one sheet each, plus findings and daily volume."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Выводы"
    sheet.append([brief.title])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([_subtitle(brief)])
    sheet.append([])
    for finding in brief.dashboard.findings:
        sheet.append([finding.text])
    sheet.column_dimensions["A"].width = 140
    _xlsx_sheet(book, "По дням", Table(
        "volume", "По дням", ["День", *[s.name for s in brief.dashboard.volume]],
        [[p.key, *[s.points[i].value for s in brief.dashboard.volume]]
         for i, p in enumerate(brief.dashboard.volume[0].points)] if brief.dashboard.volume
        else [], []))
    for table in all_tables(brief):
        _xlsx_sheet(book, _sheet_name(table.title), table)
    formula = book.create_sheet("Формула рейтинга")
    formula.append([brief.executor_ratings.formula])
    formula.column_dimensions["A"].width = 160
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _sheet_name(title: str) -> str:
    """Excel refuses some characters and more than 31 in a sheet name."""
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch
                      for ch in title.split(":")[0].split(" (")[0])
    return cleaned.strip()[:31]


def _xlsx_sheet(book: object, name: str, table: Table) -> None:
    from openpyxl.styles import Font

    sheet = book.create_sheet(name)  # type: ignore[attr-defined]
    sheet.append(table.header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append(list(row))
    for i, _ in enumerate(table.header):
        letter = chr(ord("A") + i)
        longest = max([len(str(r[i])) for r in table.rows] + [len(table.header[i])])
        sheet.column_dimensions[letter].width = min(max(10, longest + 2), 70)
