"""The retention job anonymises exactly the messages past retention and keeps every number
the dashboards show (the analytics world of tests/analytics, given authors and personal
data first)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.analytics.conftest import NOW, World, world  # noqa: F401  (the fixture)

from otklik.accounts.scope import PERMISSIONS, Scope
from otklik.analytics.schemas import AnalyticsFilter
from otklik.analytics.service import dashboard, drill_down
from otklik.audit.actor import Actor
from otklik.models.account import Role
from otklik.models.audit import AuditEntry
from otklik.models.case import Case, CaseMessage, CaseStatus
from otklik.models.message import Message, MessageRevision
from otklik.models.pd import PdAnonymization
from otklik.pd.service import retention_cutoff, run_retention
from otklik.upkeep.scheduler import default_work

DAYS = 28  # the cutoff falls on 1 November: October is past retention, November is not
PHONE = "+7 900 123-45-67"
ANALYST = Actor("analyst", Scope(all_regions=True, permissions=PERMISSIONS[Role.analyst]),
                role=Role.analyst)
FILTERS = [AnalyticsFilter.from_params(period=p, region_code=r)
           for p in ("2026-10", "2026-11") for r in ("68", "07", None)]


def _personalise(session: Session) -> None:
    """Authors, contacts and a phone in every text; closed cases get their closing time."""
    for message in session.scalars(select(Message)):
        message.author_id = f"id{message.id}"
        message.author_key = f"key{message.id}"
        message.author_name = "Иван Петров"
        message.url = f"https://vk.com/wall-1_{message.id}"
        message.text = f"{message.text}. Иванов Пётр Сергеевич, звоните {PHONE}"
        message.raw = {"name": "Иван Петров", "contact": PHONE}
        message.lat, message.lon = 52.89123, 40.49456
        session.add(MessageRevision(message_id=message.id, text=f"старый текст {PHONE}",
                                    content_hash="x", raw={"contact": PHONE}))
    for case in session.scalars(select(Case)):
        if case.status in (CaseStatus.closed, CaseStatus.rejected):
            case.closed_at = case.received_at + timedelta(days=2)
    session.flush()


def _boards(session: Session) -> list[dict[str, object]]:
    out = []
    for flt in FILTERS:
        board = dashboard(session, ANALYST, flt, now=NOW, rollup=False)
        out.append(board.model_dump(mode="json"))
        out.append(drill_down(session, ANALYST, "messages", flt, limit=500)
                   .model_dump(mode="json", exclude={"items": {"__all__": {"title"}}}))
    return out


def _expected(session: Session) -> set[int]:
    """Past retention by the rule, computed here from the rows: no case and received
    before the cutoff, or every case closed before it."""
    cutoff = retention_cutoff(NOW, DAYS)
    cases: dict[int, list[Case]] = {}
    for link, case in session.execute(select(CaseMessage, Case).join(
            Case, Case.id == CaseMessage.case_id)):
        cases.setdefault(link.message_id, []).append(case)
    due = set()
    for message in session.scalars(select(Message)):
        held = cases.get(message.id)
        if held is None:
            if message.received_at < cutoff:
                due.add(message.id)
        elif all(c.closed_at is not None and c.closed_at < cutoff for c in held):
            due.add(message.id)
    return due


def test_retention_keeps_every_dashboard_number_and_anonymises_only_old_data(
        session: Session, world: World) -> None:  # noqa: F811
    _personalise(session)
    before = _boards(session)
    expected = _expected(session)
    assert 0 < len(expected) < len(world.messages)  # both sides of the cutoff are present

    dry = run_retention(session, Actor.system("tests"), now=NOW, days=DAYS, dry_run=True)
    assert dry.due == len(expected) and dry.anonymized == 0
    assert session.scalar(select(PdAnonymization).limit(1)) is None

    run = run_retention(session, Actor.system("tests"), now=NOW, days=DAYS)
    assert run.anonymized == len(expected)
    session.expire_all()

    assert _boards(session) == before
    done = set(session.scalars(select(PdAnonymization.message_id)))
    assert done == expected
    for message in session.scalars(select(Message)):
        if message.id in expected:
            assert message.author_id is None and message.author_name is None
            assert message.author_key is None and message.url is None
            assert PHONE not in message.text and "[телефон]" in message.text
            assert "Иванов" not in message.text and "[ФИО]" in message.text
            assert message.raw == {"anonymized": "retention"}
            assert message.lat == 52.89 and message.lon == 40.49
        else:
            assert message.author_name == "Иван Петров" and PHONE in message.text
            assert message.raw["contact"] == PHONE
    revisions = {r.message_id for r in session.scalars(select(MessageRevision))}
    assert revisions == set(session.scalars(select(Message.id))) - expected

    again = run_retention(session, Actor.system("tests"), now=NOW, days=DAYS)
    assert again.due == 0 and again.anonymized == 0
    audits = session.scalars(select(AuditEntry).where(AuditEntry.action == "pd.retention")
                             .order_by(AuditEntry.id)).all()
    assert [a.details["anonymized"] for a in audits] == [0, len(expected), 0]
    assert [a.details["dry_run"] for a in audits] == [True, False, False]


def test_open_cases_hold_their_messages(session: Session, world: World) -> None:  # noqa: F811
    _personalise(session)
    open_case = session.scalars(select(Case).where(Case.closed_at.is_(None))
                                .order_by(Case.received_at)).first()
    assert open_case is not None
    oldest = session.scalars(select(CaseMessage.message_id)
                             .where(CaseMessage.case_id == open_case.id)).all()
    run_retention(session, Actor.system("tests"), now=NOW + timedelta(days=400), days=DAYS)
    done = set(session.scalars(select(PdAnonymization.message_id)))
    assert done and not done & set(oldest)  # a year later still: the case is open
    kept = session.scalars(select(Message).where(Message.id.in_(oldest))).all()
    assert kept and all(PHONE in m.text and m.author_name for m in kept)


def test_the_retention_job_needs_the_admin_permission_and_runs_daily(session: Session) -> None:
    with pytest.raises(Exception, match="admin"):
        run_retention(session, ANALYST, now=NOW)
    daily = {p.name: p.every for p in default_work()}
    assert daily["pd_retention"] == 86400
