"""Applications from a CSV or XLSX table (the contest's list from another system, or the
answers of a form elsewhere), with a report row by row.

Columns (any case; Russian or English): track (its title or number in the contest, 1…),
applicant, contact, title, summary, requested (rubles), and optionally id (the row's key in
the source). Without an id the row's content is its key: the same file imported twice adds
nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.channels.files import read_records
from otklik.contests import service
from otklik.contests.repository import ContestRepository
from otklik.contests.schemas import ApplicationCreate, ImportReport, ImportRowError
from otklik.errors import InvalidInput

COLUMNS: dict[str, tuple[str, ...]] = {
    "track": ("track", "трек", "номинация", "направление"),
    "applicant": ("applicant", "заявитель", "фио", "автор", "name"),
    "contact": ("contact", "контакт", "контакты", "email", "e-mail", "телефон"),
    "title": ("title", "проект", "название", "название проекта"),
    "summary": ("summary", "описание", "аннотация", "description"),
    "requested": ("requested", "requested_rub", "сумма", "запрошено", "запрашиваемая сумма"),
    "id": ("id", "номер", "№", "ид"),
}


def _pick(row: Mapping[str, Any], field: str) -> Any:
    lowered = {str(k).strip().lower(): v for k, v in row.items()}
    for name in COLUMNS[field]:
        if name in lowered and lowered[name] not in (None, ""):
            return lowered[name]
    return None


def _amount(value: Any) -> int:
    text = str(value).replace("\u00a0", "").replace(" ", "").replace("₽", "").replace(",", ".")
    try:
        return int(float(text))
    except (ValueError, OverflowError):  # OverflowError: "inf", "1e999"
        raise ValueError(f"сумма «{str(value)[:30]}» не число") from None


def _key(row: Mapping[str, Any]) -> str:
    given = _pick(row, "id")
    if given is not None:
        return f"id-{str(given).strip()[:60]}"
    canonical = json.dumps({str(k): str(v) for k, v in row.items() if v not in (None, "")},
                           ensure_ascii=False, sort_keys=True)
    return "row-" + hashlib.sha256(canonical.encode("utf-8", "replace")).hexdigest()[:32]


def import_applications(session: Session, actor: Actor, contest_id: int, path: Path,
                        format: str | None = None) -> ImportReport:
    """Add the table's applications to a contest; every row is counted or named with why."""
    contest = service.get_contest(session, actor, contest_id)
    service.require_manager(actor, contest.region_code)
    tracks = ContestRepository(session).tracks(contest.id)
    by_name = {t.title.strip().lower(): t.id for t in tracks}
    by_number = {str(i): t.id for i, t in enumerate(tracks, start=1)}
    report = ImportReport()
    try:
        rows = list(read_records(path, format=format))
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    for number, row in rows:
        try:
            track_value = str(_pick(row, "track") or "").strip()
            track_id = by_name.get(track_value.lower()) or by_number.get(track_value)
            if track_id is None:
                raise ValueError(f"трек «{track_value[:60]}» не найден в конкурсе")
            requested = _pick(row, "requested")
            if requested is None:
                raise ValueError("нет запрашиваемой суммы")
            data = ApplicationCreate(
                track_id=track_id, applicant=str(_pick(row, "applicant") or "").strip(),
                contact=str(_pick(row, "contact") or "").strip()[:255],
                title=str(_pick(row, "title") or "").strip()[:500],
                summary=str(_pick(row, "summary") or "").strip(),
                requested_rub=_amount(requested))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                 for e in exc.errors())
            report.errors.append(ImportRowError(row=number, error=problems))
            continue
        except ValueError as exc:
            report.errors.append(ImportRowError(row=number, error=str(exc)))
            continue
        application, created = service.add_application(session, actor, contest.id, data,
                                                       source="import", source_ref=_key(row))
        if created:
            report.created += 1
            report.application_ids.append(application.id)
        else:
            report.duplicates += 1
    audit.record(session, actor, "contest.import", "contest", contest.id,
                 region_code=contest.region_code,
                 details={"created": report.created, "duplicates": report.duplicates,
                          "errors": len(report.errors), "file": path.name})
    return report
