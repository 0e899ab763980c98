"""The question sheet of a direct line for the broadcast: DOCX (python-docx) and XLSX
(openpyxl), as the briefs in :mod:`otklik.reports` are laid out.

The sheet holds the confirmed representative questions first (with the group each stands
for and the reason it was chosen), then every group with its counts, then every question.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from otklik.audit.actor import Actor
from otklik.models.participation import Campaign, CampaignQuestion
from otklik.participation import campaigns
from otklik.participation.grouping import REASON_RU
from otklik.participation.schemas import GroupRead

Format = Literal["docx", "xlsx"]
MOSCOW = ZoneInfo("Europe/Moscow")


@dataclass
class Sheet:
    """What the question sheet shows."""

    campaign: Campaign
    picks: list[tuple[CampaignQuestion, GroupRead | None]]
    groups: list[GroupRead]
    questions: list[CampaignQuestion]


def build(session: Session, actor: Actor, campaign_id: int) -> Sheet:
    """Collect the sheet (confirmed picks; all picks when none is confirmed yet)."""
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    found = campaigns.groups(session, actor, campaign.id)
    by_question = {qid: g for g in found for qid in g.question_ids}
    rows = campaigns.questions(session, actor, campaign.id)
    picked = [q for q in rows if q.picked and q.confirmed] or [q for q in rows if q.picked]
    picked.sort(key=lambda q: -(by_question[q.id].residents if q.id in by_question else 0))
    return Sheet(campaign, [(q, by_question.get(q.id)) for q in picked], found, rows)


def _text(value: str) -> str:
    """Resident text flattened, never a spreadsheet formula ("=HYPERLINK(…)" stays text)."""
    flat = " ".join(value.split())
    return f" {flat}" if flat[:1] in ("=", "+", "-", "@") else flat


def _reasons(question: CampaignQuestion) -> str:
    return ", ".join(REASON_RU.get(r, "выбран редактором") for r in question.pick_reasons)


def _group_label(group: GroupRead | None) -> str:
    if group is None:
        return ""
    return " · ".join(p for p in (group.topic_name or group.topic, group.municipality) if p)


def _air(campaign: Campaign) -> str:
    return f"{campaign.air_at.astimezone(MOSCOW):%d.%m.%Y %H:%M} (МСК)"


def render(sheet: Sheet, fmt: Format) -> bytes:
    """The sheet in one format as bytes."""
    return render_docx(sheet) if fmt == "docx" else render_xlsx(sheet)


def render_docx(sheet: Sheet) -> bytes:
    """A Word document: the questions for the air, then the groups."""
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    doc.styles["Normal"].font.name = "Arial"
    doc.styles["Normal"].font.size = Pt(11)
    doc.add_heading(sheet.campaign.title, level=1)
    doc.add_paragraph(f"Эфир: {_air(sheet.campaign)}. Вопросов: {len(sheet.questions)}, "
                      f"групп: {len(sheet.groups)}.")
    doc.add_heading("Вопросы для эфира", level=2)
    for question, group in sheet.picks:
        paragraph = doc.add_paragraph(style="List Number")
        paragraph.add_run(" ".join(question.text.split()))
        residents = group.residents if group else 1 + question.supporters
        doc.add_paragraph(f"{_group_label(group)}; жителей: {residents}; поддержавших: "
                          f"{question.supporters}. Почему: {_reasons(question)}.")
    doc.add_heading("Группы вопросов", level=2)
    table = doc.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    for cell, title in zip(table.rows[0].cells, ("Тема и территория", "Вопросов",
                                                 "Поддержавших", "Жителей"), strict=True):
        cell.text = title
    for group in sheet.groups:
        cells = table.add_row().cells
        cells[0].text = _group_label(group) or "—"
        cells[1].text, cells[2].text = str(group.questions), str(group.supporters)
        cells[3].text = str(group.residents)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def render_xlsx(sheet: Sheet) -> bytes:
    """A workbook: the questions for the air, the groups, every question."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    air = book.active
    assert air is not None
    air.title = "Вопросы для эфира"
    air.append([sheet.campaign.title, f"Эфир: {_air(sheet.campaign)}"])
    air["A1"].font = Font(bold=True)
    air.append(["№", "Вопрос", "Тема и территория", "Жителей", "Поддержавших", "Почему"])
    for number, (question, group) in enumerate(sheet.picks, 1):
        air.append([number, _text(question.text), _group_label(group),
                    group.residents if group else 1 + question.supporters,
                    question.supporters, _reasons(question)])
    groups = book.create_sheet("Группы")
    groups.append(["Тема", "Территория", "Проблема", "Вопросов", "Поддержавших", "Жителей"])
    for group in sheet.groups:
        groups.append([group.topic_name or group.topic or "", group.municipality or "",
                       group.problem_id or "", group.questions, group.supporters,
                       group.residents])
    every = book.create_sheet("Все вопросы")
    every.append(["Id", "Получен", "Канал", "Вопрос", "Повтор вопроса", "Поздний",
                  "Поддержавших", "Статус"])
    for question in sheet.questions:
        every.append([question.id, f"{question.received_at.astimezone(MOSCOW):%d.%m.%Y %H:%M}",
                      question.channel, _text(question.text),
                      question.duplicate_of_id or "", "да" if question.late else "",
                      question.supporters, question.status])
    for worksheet, widths in ((air, (5, 90, 40, 10, 14, 40)), (groups, (30, 40, 10, 10, 14, 10)),
                              (every, (8, 18, 10, 90, 14, 8, 14, 12))):
        for index, width in enumerate(widths):
            worksheet.column_dimensions[chr(ord("A") + index)].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
