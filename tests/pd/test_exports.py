"""Briefs leave the system (e-mail, print): no resident's name or phone reaches a DOCX, PDF
or XLSX, even through an overdue case's title."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.analytics.conftest import World, world  # noqa: F401  (fixture)

from otklik.audit.actor import Actor
from otklik.models.case import Case
from otklik.reports.brief import build_brief
from otklik.reports.writers import render_docx, render_xlsx

PHONE = "+7 900 555-12-34"
NAME = "Сидоров Пётр Иванович"


def _text_of(blob: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        return "".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist()
                       if n.endswith(".xml"))


def test_briefs_carry_no_personal_data(session: Session, world: World) -> None:  # noqa: F811
    now = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    overdue = session.scalars(select(Case).where(
        Case.region_code == "68", Case.answered_at.is_(None),
        Case.resolution_due < now)).all()
    assert overdue
    for case in overdue:
        case.title = f"Яма во дворе, {NAME}, тел. {PHONE}"
    session.flush()
    brief = build_brief(session, Actor.system("tests"), "Тамбовская", "2026-11", now=now,
                        with_charts=False)
    assert brief.overdue and all("[телефон]" in o.title for o in brief.overdue)
    docx = _text_of(render_docx(brief))
    assert "Яма во дворе" in docx  # the overdue table is there …
    for text in (docx, _text_of(render_xlsx(brief))):
        assert PHONE not in text and "Сидоров" not in text  # … without the person
