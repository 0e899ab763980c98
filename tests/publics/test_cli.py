"""``otklik publics import | compute | rating`` and ``otklik stats --json`` end to end on an
own database."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.conftest import jobs_database, own_database
from typer.testing import CliRunner

from otklik.channels.schemas import IncomingMessage, Source
from otklik.cli import app
from otklik.db.base import utcnow
from otklik.intake.service import store_messages
from otklik.models.publics import PublicPage
from otklik.publics.weeks import Week

from .builders import msk, post

runner = CliRunner()
own_url = own_database("publicscli")


@pytest.fixture
def db(own_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    with jobs_database(own_url, monkeypatch) as engine:
        yield engine


def test_import_compute_export_and_stats(db: Engine, tmp_path: Path) -> None:
    source = tmp_path / "pages.csv"
    source.write_text("link,name,type\n"
                      "https://vk.com/club9100001,Школа №1,school\n"
                      "https://vk.com/club9100002,Школа №2,school\n"
                      "https://vk.com/club9100003,Ферма,farm\n", encoding="utf-8")
    result = runner.invoke(app, ["publics", "import", str(source), "--region", "68"])
    assert result.exit_code == 0, result.output
    assert "добавлено 2" in result.output and "неизвестный тип страницы «farm»" in result.output

    with Session(db) as session:
        pages = session.scalars(select(PublicPage).order_by(PublicPage.name)).all()
        for k in range(3):
            post(session, pages[0], msk(2026, 11, 23 + k), views=100, likes=4)
        store_messages(session, [IncomingMessage(
            source=Source.vk, source_id="wall-9100009_1_2", owner_id="-9100009", post_id="1",
            comment_id="2", author_id="77", text="Когда ремонт?", region="68",
            created_at=msk(2026, 11, 24), channel="Школа №3 г. Тамбова")], enqueue=False)
        session.commit()

    result = runner.invoke(app, ["publics", "candidates", "Школа №3", "--region", "68"])
    assert result.exit_code == 0, result.output
    assert "https://vk.com/club9100009" in result.output

    result = runner.invoke(app, ["publics", "compute", "--week", "2026-W48", "--region", "68"])
    assert result.exit_code == 0, result.output
    assert "с оценкой 1" in result.output and "Школа №2" in result.output

    out = tmp_path / "rating.xlsx"
    result = runner.invoke(app, ["publics", "rating", "--region", "Тамбовская область",
                                 "--week", "2026-W48", "--format", "xlsx", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(load_workbook(io.BytesIO(out.read_bytes()))["Рейтинг"]
                .iter_rows(min_row=4, values_only=True))
    assert [(r[0], r[2]) for r in rows] == [(1, "Школа №1"), ("нет данных", "Школа №2")]

    out_docx = tmp_path / "rating.docx"
    result = runner.invoke(app, ["publics", "rating", "--region", "68", "--week", "2026-W48",
                                 "--format", "docx", "--out", str(out_docx)])
    assert result.exit_code == 0, result.output
    table = Document(io.BytesIO(out_docx.read_bytes())).tables[0]
    assert [(r.cells[0].text, r.cells[1].text) for r in table.rows[1:]] == [
        ("1", "Школа №1"), ("нет данных", "Школа №2")]

    result = runner.invoke(app, ["publics", "rating", "--region", "68", "--week", "2026-W48",
                                 "--format", "pdf", "--out", str(out)])
    assert result.exit_code != 0 and "xlsx or docx" in result.output

    result = runner.invoke(app, ["publics", "rating", "--region", "68", "--week", "2026-W99",
                                 "--format", "docx", "--out", str(out)])
    assert result.exit_code != 0 and "2026-W99" in result.output

    result = runner.invoke(app, ["stats", "--json"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)
    assert counts["pages"] == 2 and counts["page_ratings"] == 2

    # Without --week: the last complete week (Moscow time), as a Monday cron line runs it.
    result = runner.invoke(app, ["publics", "compute", "--region", "68"])
    assert result.exit_code == 0, result.output
    assert f"неделя {Week.of(utcnow()).previous().label}," in result.output

    # More pages without data than the output names: the rest are counted, not dropped.
    many = tmp_path / "many.csv"
    many.write_text("link,name,type\n" + "".join(
        f"https://vk.com/club92000{k:02d},Детский сад №{k},kindergarten\n" for k in range(22)),
        encoding="utf-8")
    assert runner.invoke(app, ["publics", "import", str(many), "--region", "36"]).exit_code == 0
    result = runner.invoke(app, ["publics", "compute", "--week", "2026-W48", "--region", "36"])
    assert result.exit_code == 0, result.output
    assert "нет данных 22" in result.output and "… и ещё 2" in result.output
