"""Calendar corrections: only real days of a sane range; one can be undone (API and page)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.builders import PASSWORD, make_user
from tests.conftest import login

from otklik.cases import deadlines
from otklik.models.account import Role
from otklik.models.audit import AuditEntry
from otklik.models.case import CalendarExceptionRow, Case


def _admin(client: Any, session: Session, *, all_regions: bool = True) -> str:
    user = make_user(session, Role.admin, ["68"], all_regions=all_regions)
    client.cookies.clear()
    return login(client, user.username, PASSWORD)


@pytest.mark.parametrize("day", ["0000-00-00", "2026-02-30", "2026-13-01", "1999-12-31",
                                 "2101-01-01", "0001-01-01"])
def test_a_day_that_is_not_on_the_calendar_is_refused(session: Session, client: Any,
                                                     day: str) -> None:
    """Finding 8: 0000-00-00 used to be accepted for all regions."""
    csrf = _admin(client, session)
    response = client.post("/api/v1/calendar-exceptions", headers={"x-csrf-token": csrf},
                           json={"day": day, "kind": "holiday"})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "body.day"
    assert session.scalars(select(CalendarExceptionRow).where(
        CalendarExceptionRow.day == day)).first() is None


def test_a_bad_day_stored_earlier_does_not_break_the_cases(
        session: Session, client: Any, make_case: Callable[..., Case]) -> None:
    """Finding 8: afterwards every case card, edit, merge, split failed with 'year 0'."""
    case = make_case()
    deadlines.assign(session, case, start=case.received_at)  # a case on the clock
    assert case.resolution_due is not None
    session.add(CalendarExceptionRow(region_code=None, day="0000-00-00", kind="holiday"))
    session.flush()
    _admin(client, session)
    card = client.get(f"/api/v1/cases/{case.id}")
    assert card.status_code == 200, card.text
    assert card.json()["remaining_seconds"] is not None
    assert client.get(f"/api/v1/cases/{case.id}/assignees").status_code == 200
    page = client.get(f"/cases/{case.id}", headers={"accept": "text/html"})
    assert page.status_code == 200


def test_an_admin_deletes_a_correction_over_the_api(session: Session, client: Any) -> None:
    csrf = _admin(client, session)
    headers = {"x-csrf-token": csrf}
    added = client.post("/api/v1/calendar-exceptions", headers=headers,
                        json={"day": "2026-12-31", "kind": "holiday", "region_code": "68"})
    assert added.status_code == 201, added.text
    again = client.post("/api/v1/calendar-exceptions", headers=headers,
                        json={"day": "2026-12-31", "kind": "workday", "region_code": "68"})
    assert again.status_code == 409, again.text
    row_id = added.json()["id"]
    assert client.delete(f"/api/v1/calendar-exceptions/{row_id}").status_code == 403  # CSRF
    deleted = client.delete(f"/api/v1/calendar-exceptions/{row_id}", headers=headers)
    assert deleted.status_code == 204, deleted.text
    assert session.get(CalendarExceptionRow, row_id) is None
    assert client.delete(f"/api/v1/calendar-exceptions/{row_id}",
                         headers=headers).status_code == 404
    entry = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "calendar_exception.remove")).one()
    assert entry.object_id == str(row_id) and entry.details["day"] == "2026-12-31"


def test_a_regional_admin_cannot_delete_a_correction_for_all_regions(
        session: Session, client: Any) -> None:
    row = CalendarExceptionRow(region_code=None, day="2026-12-30", kind="holiday")
    session.add(row)
    session.flush()
    csrf = _admin(client, session, all_regions=False)
    response = client.delete(f"/api/v1/calendar-exceptions/{row.id}",
                             headers={"x-csrf-token": csrf})
    assert response.status_code == 403
    assert session.get(CalendarExceptionRow, row.id) is not None


def test_the_admin_page_deletes_a_correction_with_its_button(session: Session,
                                                            client: Any) -> None:
    row = CalendarExceptionRow(region_code=None, day="0000-00-00", kind="holiday", note="typo")
    session.add(row)
    session.flush()
    _admin(client, session)
    page = client.get("/admin/calendar", headers={"accept": "text/html"}).text
    assert f'action="/admin/calendar/{row.id}/delete"' in page
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    refused = client.post(f"/admin/calendar/{row.id}/delete", data={"csrf": "forged"})
    assert refused.status_code == 403 and session.get(CalendarExceptionRow, row.id) is not None
    done = client.post(f"/admin/calendar/{row.id}/delete", data={"csrf": csrf},
                       follow_redirects=False)
    assert done.status_code == 303
    assert session.get(CalendarExceptionRow, row.id) is None
    bad = client.post("/admin/calendar", data={"csrf": csrf, "day": "0000-00-00",
                                               "kind": "holiday"})
    assert bad.status_code == 400 and "not a day of the calendar" in bad.text
