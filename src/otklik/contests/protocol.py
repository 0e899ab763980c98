"""The panel's protocol (протокол заседания экспертного совета) as DOCX (python-docx) and
XLSX (openpyxl), laid out as the briefs in reports/ are: the rules, then per track the
ranking with scores, spread, outliers, ties and grants, then the shortfalls if any."""

from __future__ import annotations

import io
import re
from typing import Literal

from otklik.contests.aggregation import rub
from otklik.contests.schemas import Results, TrackResult

Format = Literal["docx", "xlsx"]
FORMATS: tuple[Format, ...] = ("docx", "xlsx")
MEDIA_TYPES: dict[str, str] = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
HEADER = ("Место", "№ заявки", "Заявитель", "Проект", "Балл", "Среднее", "Усечённое среднее",
          "Разброс", "Оценок", "Выбросы", "Отводы", "Запрошено, ₽", "Грант, ₽", "Примечание")


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def rows_of(track: TrackResult) -> list[list[str | int | float]]:
    """The ranking of a track as table rows (the same in both formats)."""
    out: list[list[str | int | float]] = []
    for r in track.rows:
        note = "; ".join(x for x in (r.tie_note, r.grant_note) if x)
        out.append([r.place or "—", r.application_id, r.applicant, r.title, _num(r.score),
                    _num(r.mean), _num(r.trimmed_mean), _num(r.spread),
                    f"{r.reviews} из {r.expected_reviews}", ", ".join(r.outliers) or "—",
                    ", ".join(r.recused) or "—", r.requested_rub,
                    r.grant_rub if r.grant_rub is not None else "—", note])
    return out


def _rules(results: Results) -> list[str]:
    rule = ("усечённое среднее (без наибольшего и наименьшего итога при трёх и более оценках)"
            if results.aggregation == "trimmed" else "среднее итогов экспертов")
    return [f"Итог эксперта — взвешенное среднее его оценок по критериям, приведённое к "
            f"10-балльной шкале; балл заявки — {rule}. Оценки экспертов, заявивших конфликт "
            f"интересов, не учитываются.", results.outlier_rule[:1].upper()
            + results.outlier_rule[1:] + ".",
            "Гранты: победители трека в порядке мест получают запрошенную сумму в границах "
            "гранта, пока хватает бюджета трека."]


def _track_line(track: TrackResult) -> str:
    return (f"Бюджет {rub(track.budget_rub)}, грант {rub(track.grant_min_rub)}–"
            f"{rub(track.grant_max_rub)}, победителей {track.winners}; распределено "
            f"{rub(track.spent_rub)}. Порядок при равенстве: {track.tie_rule}.")


def render(results: Results, fmt: Format) -> bytes:
    """The protocol in one format as bytes."""
    return render_docx(results) if fmt == "docx" else render_xlsx(results)


def render_docx(results: Results) -> bytes:
    """A Word protocol."""
    from docx import Document
    from docx.shared import Cm, Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "DejaVu Sans"  # type: ignore[attr-defined]
    style.font.size = Pt(9)  # type: ignore[attr-defined]
    for section in doc.sections:
        section.left_margin = section.right_margin = Cm(1.5)
    doc.add_heading(f"Протокол экспертного совета: {results.title}", level=1)
    for line in _rules(results):
        doc.add_paragraph(line)
    for track in results.tracks:
        doc.add_heading(f"Трек «{track.title}»", level=2)
        doc.add_paragraph(_track_line(track))
        if track.shortfall:
            doc.add_paragraph(track.shortfall).runs[0].bold = True
        grid = doc.add_table(rows=1, cols=len(HEADER))
        grid.style = "Light Grid Accent 1"
        for cell, text in zip(grid.rows[0].cells, HEADER, strict=True):
            cell.text = text
        for row in rows_of(track):
            for cell, value in zip(grid.add_row().cells, row, strict=True):
                cell.text = str(value)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def render_xlsx(results: Results) -> bytes:
    """A workbook: a sheet of rules and shortfalls, then one sheet per track."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "Правила"
    first.append([f"Протокол экспертного совета: {results.title}"])
    first["A1"].font = Font(bold=True)
    for line in _rules(results):
        first.append([line])
    for message in results.shortfalls:
        first.append([message])
    for index, track in enumerate(results.tracks, start=1):
        sheet = book.create_sheet(re.sub(r"[:\\/?*\[\]]", "-", f"{index}. {track.title}")[:31])
        sheet.append([f"Трек «{track.title}»"])
        sheet.append([_track_line(track)])
        if track.shortfall:
            sheet.append([track.shortfall])
        sheet.append(list(HEADER))
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        for row in rows_of(track):
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
