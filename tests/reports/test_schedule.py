"""Scheduled briefs: the due period, one generation per period (idempotent), scope."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.analytics.conftest import NOW, World, world  # noqa: F401  (fixture)
from tests.builders import make_user

from otklik.accounts.service import actor_for
from otklik.audit.actor import Actor
from otklik.errors import Forbidden, InvalidInput
from otklik.models.account import Role
from otklik.models.analytics import ReportFile
from otklik.reports.schedule import create_schedule, due_period, list_files, run_due

SYSTEM = Actor.system("tests")


def test_due_period() -> None:
    assert due_period("monthly", date(2026, 12, 1)) == "2026-11"
    assert due_period("monthly", date(2026, 1, 15)) == "2025-12"
    assert due_period("weekly", date(2026, 11, 30)) == "2026-W48"  # a Monday: last week
    assert due_period("weekly", date(2026, 11, 29)) == "2026-W47"  # a Sunday: week before
    with pytest.raises(InvalidInput):
        due_period("daily", date(2026, 11, 1))


def test_run_due_is_idempotent(session: Session, world: World) -> None:  # noqa: F811
    schedule = create_schedule(session, SYSTEM, region_code="68", okrug=None,
                               period_kind="monthly", formats=["xlsx", "pdf"])
    december = datetime(2026, 12, 2, 9, 0, tzinfo=NOW.tzinfo)
    first = run_due(session, now=december)
    assert sorted(first.generated) == [(schedule.id, "68", "2026-11", "pdf"),
                                       (schedule.id, "68", "2026-11", "xlsx")]
    again = run_due(session, now=december)
    assert again.generated == [] and again.skipped == 2
    count = session.scalar(select(func.count()).select_from(ReportFile).where(
        ReportFile.schedule_id == schedule.id))
    assert count == 2 and schedule.last_period == "2026-11"
    pdf = session.scalars(select(ReportFile).where(ReportFile.fmt == "pdf")).one()
    assert pdf.content.startswith(b"%PDF") and "Тамбовская" in pdf.title


def test_schedule_rights_and_scope(session: Session, world: World) -> None:  # noqa: F811
    head = actor_for(session, make_user(session, Role.head, ["68"]))
    with pytest.raises(Forbidden):
        create_schedule(session, head, region_code="68", okrug=None, period_kind="weekly",
                        formats=["pdf"])
    analyst = actor_for(session, make_user(session, Role.analyst, ["07"]))
    with pytest.raises(Exception, match="outside your scope"):
        create_schedule(session, analyst, region_code="68", okrug=None,
                        period_kind="weekly", formats=["pdf"])
    schedule = create_schedule(session, SYSTEM, region_code="68", okrug=None,
                               period_kind="monthly", formats=["xlsx"])
    run_due(session, now=datetime(2026, 12, 2, 9, 0, tzinfo=NOW.tzinfo),
            schedule_ids=[schedule.id])
    assert list_files(session, analyst) == []
    assert len(list_files(session, head)) == 1
