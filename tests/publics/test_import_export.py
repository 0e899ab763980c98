"""Bulk import names every bad row and never crashes; the rating's XLSX and DOCX open and
hold the ranks; links are parsed or named."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from docx import Document
from openpyxl import Workbook, load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from otklik.audit.actor import Actor
from otklik.errors import InvalidInput
from otklik.models.publics import PublicPage
from otklik.publics import service
from otklik.publics.export import NO_DATA, build_report, render
from otklik.publics.importer import import_pages
from otklik.publics.links import LinkError, parse_link
from otklik.publics.weeks import Week

from .builders import a_page, msk, municipality, post

SYSTEM = Actor.system("tests")


@pytest.mark.parametrize(("link", "platform", "external_id"), [
    ("https://vk.com/club123456", "vk", "-123456"),
    ("vk.com/public77", "vk", "-77"),
    ("https://m.vk.com/School_5", "vk", "school_5"),
    ("https://ok.ru/group/5555555555", "ok", "5555555555"),
    ("@mintrud68", "telegram", "@mintrud68"),
    ("https://t.me/s/Mintrud68", "telegram", "@mintrud68"),
])
def test_links_are_read(link: str, platform: str, external_id: str) -> None:
    parsed = parse_link(link)
    assert (parsed.platform, parsed.external_id) == (platform, external_id)


@pytest.mark.parametrize("link", ["", "https://example.org/school", "https://vk.com/wall-1_2",
                                  "https://t.me/+AbCdEf", "https://ok.ru/group/abc",
                                  "https://vk.com/club0"])
def test_bad_links_say_why(link: str) -> None:
    with pytest.raises(LinkError):
        parse_link(link)


def test_a_csv_import_names_each_bad_row(session: Session, tmp_path: Path) -> None:
    existing = a_page(session)
    town = municipality(session)
    path = tmp_path / "pages.csv"
    path.write_text(
        "Ссылка;Название;Тип;Класс;Муниципалитет\n"
        f"https://vk.com/club7000001;Школа №1;школа;визитка;{town.name}\n"
        "https://vk.com/club7000002;Детский сад «Солнышко»;kindergarten;;\n"
        "https://vk.com/club7000003;Центр досуга;цирк;;\n"
        "https://example.org/page;Гимназия;школа;;\n"
        "https://vk.com/club7000001;Школа №1 (копия);школа;;\n"
        f"{existing.url};Уже есть;школа;;\n"
        "https://t.me/lyceum68;Лицей;школа;золотой;\n"
        "@college68;Колледж;College;;Нигдеград\n",
        encoding="utf-8")

    report = import_pages(session, SYSTEM, path, "68")

    assert (report.added, report.duplicates, report.errors) == (3, 2, 3)
    by_row = {r.row: r for r in report.rows}
    assert "неизвестный тип страницы «цирк»" in by_row[4].detail
    assert "ссылка не распознана" in by_row[5].detail
    assert by_row[6].outcome == "duplicate" and "строки 2" in by_row[6].detail
    assert by_row[7].outcome == "duplicate" and "уже в реестре" in by_row[7].detail
    assert "класс" in by_row[8].detail
    assert by_row[9].outcome == "added" and "Нигдеград" in by_row[9].detail
    first = session.scalars(select(PublicPage).where(PublicPage.external_id == "-7000001")).one()
    assert first.page_class == "card" and first.municipality_id == town.id


def test_an_xlsx_import_reads_the_same_columns(session: Session, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["link", "name", "type", "region"])
    sheet.append(["https://vk.com/club8000001", "Больница №2", "Hospital", "68"])
    sheet.append([None, "Без ссылки", "school", "68"])
    path = tmp_path / "pages.xlsx"
    book.save(path)

    report = import_pages(session, SYSTEM, path)

    assert report.added == 1 and report.errors == 1
    assert "ссылка пуста" in report.rows[1].detail


def test_a_file_without_the_columns_is_refused_in_words(session: Session, tmp_path: Path
                                                        ) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="ссылка"):
        import_pages(session, SYSTEM, path, "68")


def test_the_exports_open_and_hold_the_ranks(session: Session) -> None:
    town = municipality(session)
    best = a_page(session, municipality_id=town.id, name="Лучшая школа")
    second = a_page(session, municipality_id=town.id, name="Вторая школа")
    silent = a_page(session, municipality_id=town.id, name="Молчащая школа")
    for page, n in ((best, 3), (second, 1)):
        for k in range(n):
            post(session, page, msk(2026, 11, 23 + k), views=100, likes=5)
    week = Week.parse("2026-W48")
    service.compute_week(session, SYSTEM, week, "68")
    report = build_report(session, SYSTEM, "68", week.label)

    sheet = load_workbook(io.BytesIO(render(report, "xlsx")))["Рейтинг"]
    rows = {r[2]: r for r in sheet.iter_rows(min_row=4, values_only=True)}
    assert rows["Лучшая школа"][0] == 1 and rows["Вторая школа"][0] == 2
    assert rows["Молчащая школа"][0] == NO_DATA and rows["Молчащая школа"][6] == NO_DATA
    assert "Публикуйте не реже 3 постов" in rows["Вторая школа"][9]

    doc = Document(io.BytesIO(render(report, "docx")))
    ranked = [(row.cells[0].text, row.cells[1].text) for row in doc.tables[0].rows[1:]]
    assert ("1", "Лучшая школа") in ranked and ("2", "Вторая школа") in ranked
    assert (NO_DATA, "Молчащая школа") in ranked
    del silent
