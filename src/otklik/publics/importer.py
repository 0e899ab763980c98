"""Bulk import of pages from CSV or XLSX, with a report that names every row.

Columns (Russian or English headers, any order): ссылка/link, название/name, тип/type,
класс/class, статус/status, владелец/owner, муниципалитет/municipality, регион/region.
A row with an unknown type, a link that cannot be read, or an address already in the
registry (or earlier in the same file) is named in the report with the reason and
skipped; the other rows are added. A file never fails the import as a whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.channels.files import SheetRow, csv_rows, xlsx_rows
from otklik.errors import Forbidden, InvalidInput
from otklik.models.publics import PublicPage
from otklik.publics.links import LinkError, parse_link
from otklik.publics.repository import PublicsRepository
from otklik.publics.vocabulary import PAGE_CLASSES, PAGE_STATUSES, PAGE_TYPES, read_choice

#: Our field -> the headers a file may use for it (lower case).
COLUMNS: dict[str, tuple[str, ...]] = {
    "link": ("ссылка", "link", "url", "адрес", "страница"),
    "name": ("название", "name", "наименование страницы", "наименование"),
    "type": ("тип", "type", "тип учреждения"),
    "class": ("класс", "class"),
    "status": ("статус", "status"),
    "owner": ("владелец", "owner", "организация", "учреждение", "organization"),
    "municipality": ("муниципалитет", "municipality", "мо", "район"),
    "region": ("регион", "region", "код региона"),
}


@dataclass
class RowReport:
    """One row's fate: added, duplicate or error, with the reason."""

    row: int
    outcome: str
    detail: str
    name: str = ""


@dataclass
class ImportReport:
    """The whole file: counts and every row that was not added as is."""

    added: int = 0
    duplicates: int = 0
    errors: int = 0
    rows: list[RowReport] = field(default_factory=list)

    @property
    def problems(self) -> list[RowReport]:
        """Rows that were skipped or added with a warning."""
        return [r for r in self.rows if r.outcome != "added" or r.detail]


def _rows(path: Path) -> Iterator[SheetRow]:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return xlsx_rows(path)
    if suffix in (".csv", ".tsv", ".txt"):
        return csv_rows(path, delimiter="\t" if suffix == ".tsv" else None)
    raise InvalidInput(f"{path.name}: import CSV or XLSX")


def _columns(header: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for column in header:
        key = column.strip().lower()
        for name, aliases in COLUMNS.items():
            if key in aliases and name not in found:
                found[name] = column
    return found


def _cell(cells: dict[str, Any], columns: dict[str, str], name: str) -> str:
    value = cells.get(columns.get(name, ""), "")
    return str(value).strip() if value is not None else ""


def import_pages(session: Session, actor: Actor, path: str | Path,
                 region_code: str | None = None) -> ImportReport:
    """Add the pages of a file; every row that is not added is named with the reason."""
    actor.require("reference.write")
    if region_code and not actor.scope.sees_region(region_code):
        raise Forbidden(f"region {region_code} is outside your scope")
    path = Path(path)
    report = ImportReport()
    repo = PublicsRepository(session)
    columns: dict[str, str] = {}
    seen: dict[tuple[str, str], int] = {}
    towns: dict[str, dict[str, int]] = {}
    for row in _rows(path):
        if row.error is not None:
            report.errors += 1
            report.rows.append(RowReport(row.number, "error", row.error))
            continue
        if row.header is not None:
            columns = _columns(row.header)
            if "link" not in columns or "name" not in columns or "type" not in columns:
                raise InvalidInput("the file needs the columns ссылка, название and тип "
                                   "(link, name, type)")
            continue
        cells = row.cells or {}
        outcome = _one(actor, repo, cells, columns, region_code, seen, towns,
                       row.number)
        report.rows.append(outcome)
        if outcome.outcome == "added":
            report.added += 1
        elif outcome.outcome == "duplicate":
            report.duplicates += 1
        else:
            report.errors += 1
    audit.record(session, actor, "page.import", "public_page", None, region_code=region_code,
                 details={"file": path.name, "added": report.added,
                          "duplicates": report.duplicates, "errors": report.errors})
    return report


def _one(actor: Actor, repo: PublicsRepository, cells: dict[str, Any],
         columns: dict[str, str], region_code: str | None,
         seen: dict[tuple[str, str], int], towns: dict[str, dict[str, int]],
         number: int) -> RowReport:
    name = _cell(cells, columns, "name")
    if not name:
        return RowReport(number, "error", "нет названия страницы")
    region = _cell(cells, columns, "region") or region_code
    if not region:
        return RowReport(number, "error", "не указан регион", name)
    region = region.zfill(2) if region.isdigit() else region
    if not actor.scope.sees_region(region):
        return RowReport(number, "error", f"регион {region} вне вашей зоны", name)
    try:
        link = parse_link(_cell(cells, columns, "link"))
    except LinkError as exc:
        return RowReport(number, "error", f"ссылка не распознана: {exc}", name)
    raw_type = _cell(cells, columns, "type")
    page_type = read_choice(PAGE_TYPES, raw_type)
    if page_type is None:
        return RowReport(number, "error", f"неизвестный тип страницы «{raw_type}»", name)
    raw_class = _cell(cells, columns, "class")
    page_class = read_choice(PAGE_CLASSES, raw_class) if raw_class else "active"
    if page_class is None:
        return RowReport(number, "error", f"неизвестный класс страницы «{raw_class}»", name)
    raw_status = _cell(cells, columns, "status")
    status = read_choice(PAGE_STATUSES, raw_status) if raw_status else "active"
    if status is None:
        return RowReport(number, "error", f"неизвестный статус «{raw_status}»", name)
    address = (link.platform, link.external_id)
    if address in seen:
        return RowReport(number, "duplicate", f"дубль строки {seen[address]}: {link.url}", name)
    seen[address] = number
    existing = repo.by_address(*address)
    if existing is not None:
        return RowReport(number, "duplicate",
                         f"уже в реестре: {link.url} («{existing.name}»)", name)
    warnings = []
    town_name = _cell(cells, columns, "municipality")
    municipality_id = None
    if town_name:
        by_name = towns.setdefault(region, repo.municipality_ids(region))
        municipality_id = by_name.get(town_name.lower().replace("ё", "е"))
        if municipality_id is None:
            warnings.append(f"муниципалитет «{town_name}» не найден")
    owner = _cell(cells, columns, "owner") or None
    organization = repo.organization_named(region, owner) if owner else None
    repo.add(PublicPage(region_code=region, platform=link.platform,
                        external_id=link.external_id, url=link.url, name=name,
                        owner_name=owner, organization_id=organization.id if organization
                        else None, municipality_id=municipality_id, page_type=page_type,
                        page_class=page_class, status=status))
    return RowReport(number, "added", "; ".join(warnings), name)
