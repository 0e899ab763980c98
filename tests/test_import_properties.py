"""Property-based tests (hypothesis) of the imports and forms that need the database: the
direct line's hotline list, the official pages' registry (CSV/XLSX), contest applications,
the fakes registry file, the public web form and Open311's POST form. For any content each
gives a report (rows added, rows named with a reason), a clear error (InvalidInput, a 4xx
with a message) — never an unhandled exception or a 5xx. The examples share the test's
rolled-back transaction; they are few and bounded."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from otklik.audit.actor import Actor
from otklik.errors import OtklikError
from otklik.fakes.cli import RecordError
from otklik.fakes.cli import read_records as read_registry

SYSTEM = Actor.system("tests")
SETTINGS = settings(max_examples=15, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])
CELL = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20)
NUMBERISH = st.sampled_from(["", "0", "-5", "150000", "1e400", "3,5", "350 000 ₽",
                             "99999999999999999999999", "NaN", "2026-03-01", "abc"])


def _table(columns: list[str], rows: list[list[str]], delimiter: str) -> bytes:
    lines = [delimiter.join(columns), *(delimiter.join(r) for r in rows)]
    return "\n".join(lines).encode("utf-8")


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


def _clear(call: Any) -> Any:
    try:
        return call()
    except OtklikError as exc:
        assert exc.message
        return None


@SETTINGS
@given(columns=st.lists(st.sampled_from(["text", "текст", "дата", "date", "тема", "topic",
                                         "район", "district", "срочность", "urgency", "id",
                                         "author_id", "x"]), min_size=1, max_size=6),
       rows=st.lists(st.lists(CELL | NUMBERISH, max_size=7), max_size=5),
       delimiter=st.sampled_from([",", ";"]))
def test_any_hotline_list_gives_a_report(session: Session, scratch: Path, columns: list[str],
                                         rows: list[list[str]], delimiter: str) -> None:
    from otklik.participation import campaigns
    from otklik.participation.schemas import CampaignCreate

    now = datetime.now(UTC)
    campaign = campaigns.create_campaign(session, SYSTEM, CampaignCreate(
        region_code="68", title="Прямая линия", opens_at=now - timedelta(days=5),
        closes_at=now + timedelta(days=2), air_at=now + timedelta(days=3),
        announcement_urls=[]))
    path = scratch / "hotline.csv"
    path.write_bytes(_table(columns, rows, delimiter))
    report = _clear(lambda: campaigns.import_hotline(session, SYSTEM, campaign.id, path))
    if report is not None:
        assert report.added + len(report.errors) == report.rows


@SETTINGS
@given(columns=st.lists(st.sampled_from(["ссылка", "link", "название", "name", "тип", "type",
                                         "класс", "регион", "region", "район", "статус",
                                         "организация", "x"]), min_size=1, max_size=7),
       rows=st.lists(st.lists(CELL | st.sampled_from(
           ["https://vk.com/club1", "vk.com/public-5", "https://ok.ru/group/1", "school",
            "active", "68", "javascript:alert(1)", "https://vk.com/../../etc/passwd"]),
           max_size=8), max_size=5))
def test_any_pages_registry_gives_a_report(session: Session, scratch: Path,
                                           columns: list[str], rows: list[list[str]]) -> None:
    from otklik.publics.importer import import_pages

    path = scratch / "pages.csv"
    path.write_bytes(_table(columns, rows, ";"))
    report = _clear(lambda: import_pages(session, SYSTEM, path, "68"))
    if report is not None:
        assert report.added + report.duplicates + report.errors == len(report.rows)


@SETTINGS
@given(columns=st.lists(st.sampled_from(["track", "трек", "applicant", "заявитель",
                                         "contact", "title", "summary", "requested",
                                         "сумма", "id", "x"]), min_size=1, max_size=7),
       rows=st.lists(st.lists(CELL | NUMBERISH | st.sampled_from(["1", "2", "Видео"]),
                              max_size=8), max_size=5))
def test_any_contest_table_gives_a_report(session: Session, scratch: Path,
                                          columns: list[str], rows: list[list[str]]) -> None:
    from tests.contests.builders import a_panel

    from otklik.contests.importer import import_applications

    panel = a_panel(session, experts=1)
    path = scratch / "applications.csv"
    path.write_bytes(_table(columns, rows, ","))
    report = _clear(lambda: import_applications(session, panel.manager, panel.contest.id,
                                                path))
    if report is not None:
        assert all(e.row >= 1 and e.error for e in report.errors)  # each refusal says why


@SETTINGS
@given(content=st.binary(max_size=300) | st.lists(CELL, max_size=6).map(
    lambda cells: ("id,claim\n" + "\n".join(",".join(cells[i:i + 2])
                                            for i in range(0, len(cells), 2))).encode()),
       suffix=st.sampled_from([".csv", ".jsonl", ".txt"]))
def test_any_fakes_registry_file_gives_records_or_reasons(scratch: Path, content: bytes,
                                                          suffix: str) -> None:
    path = scratch / f"registry{suffix}"
    path.write_bytes(content)
    try:
        for number, record in read_registry(path, ("id", "claim")):
            assert number >= 1 and isinstance(record, dict | str)
    except RecordError as exc:
        assert str(exc)


def _form_fields(page: str) -> dict[str, str]:
    return {k: m.group(1) for k in ("csrf", "nonce")
            if (m := re.search(rf'name="{k}" value="([^"]+)"', page))}


@SETTINGS
@given(fields=st.fixed_dictionaries({}, optional={
    "text": CELL | st.just("<script>alert(1)</script>" * 3),
    "name": CELL, "contact": CELL, "region": st.sampled_from(["68", "08", "", "999", "x"]),
    "address": CELL, "consent": st.sampled_from(["yes", "", "no"]),
    "lat": NUMBERISH, "lon": NUMBERISH, "csrf": CELL, "nonce": CELL}),
       keep_tokens=st.booleans())
def test_any_web_form_post_is_answered_without_a_5xx(session: Session, client: Any,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     fields: dict[str, str],
                                                     keep_tokens: bool) -> None:
    from otklik.intake import web_form

    monkeypatch.setattr(web_form, "limiter", web_form.RateLimiter(limit=10_000))
    tokens = _form_fields(client.get("/form").text) if keep_tokens else {}
    response = client.post("/form", data={**fields, **tokens})
    assert response.status_code < 500, response.text[:300]
    assert "<script>alert(1)</script>" not in response.text


@SETTINGS
@given(fields=st.fixed_dictionaries({}, optional={
    "service_code": st.sampled_from(["roads", "roads.potholes", "", "nope", "../etc"]) | CELL,
    "description": CELL, "lat": NUMBERISH | st.just("52.89"), "long": NUMBERISH,
    "address_string": CELL, "address_id": CELL, "email": CELL, "phone": CELL,
    "first_name": CELL, "last_name": CELL, "device_id": CELL, "account_id": CELL,
    "media_url": CELL | st.just("file:///etc/passwd"), "consent": CELL,
    "attribute[x]": CELL}),
       fmt=st.sampled_from(["json", "xml"]))
def test_any_open311_post_is_the_specs_answer(session: Session, client: Any,
                                              fields: dict[str, str], fmt: str) -> None:
    from otklik.accounts import apikeys

    _, key = apikeys.create_key(session, SYSTEM, scopes=["open311"], name="Портал",
                                region="68")
    session.flush()
    response = client.post(f"/open311/v2/requests.{fmt}", data={"api_key": key, **fields})
    assert response.status_code < 500, response.text[:300]
    if response.status_code >= 400 and fmt == "json":
        [error] = response.json()
        assert error["description"]
