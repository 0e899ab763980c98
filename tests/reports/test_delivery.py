"""Scheduled briefs e-mailed to their recipients: through a real SMTP server (aiosmtpd on
127.0.0.1), at most once per (file, recipient), retried on temporary errors, permanent errors
recorded and shown; without SMTP settings the run records "not sent"."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.analytics.conftest import NOW

from otklik.audit.actor import Actor
from otklik.config import get_settings
from otklik.models.analytics import ReportFile
from otklik.models.report_delivery import ReportDelivery
from otklik.queue import broker, drain, pending_mark
from otklik.reports import delivery, tasks
from otklik.reports.schedule import create_schedule, run_due

SYSTEM = Actor.system("tests")
DECEMBER = datetime(2026, 12, 2, 9, 0, tzinfo=NOW.tzinfo)


class Inbox:
    """An SMTP server's handler: keeps what it accepts, refuses on demand."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], bytes]] = []
        self.temporary = 0  # DATA answers 451 this many times
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.temporary:
            self.temporary -= 1
            return "451 4.3.0 try again later"
        self.received.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch, session: Session) -> Iterator[Inbox]:
    """An SMTP server on 127.0.0.1, the settings pointing at it, jobs sharing the test's
    session."""
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("OTKLIK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("OTKLIK_SMTP_PORT", str(port))
    monkeypatch.setenv("OTKLIK_SMTP_STARTTLS", "false")
    monkeypatch.setenv("OTKLIK_SMTP_FROM", "cur@example.ru")
    get_settings.cache_clear()

    one_at_a_time = threading.Lock()  # the worker's threads share the test's session

    @contextmanager
    def scope() -> Iterator[Session]:
        with one_at_a_time:
            yield session
            session.flush()

    monkeypatch.setattr(tasks, "session_scope", scope)
    broker.flush_all()
    yield inbox
    broker.flush_all()
    controller.stop()
    get_settings.cache_clear()


def _brief(session: Session, recipients: str) -> tuple[ReportFile, list[ReportDelivery]]:
    schedule = create_schedule(session, SYSTEM, region_code="68", okrug=None,
                               period_kind="monthly", formats=["xlsx"], recipients=recipients)
    result = run_due(session, now=DECEMBER, schedule_ids=[schedule.id])
    assert len(result.generated) == 1
    stored = session.scalars(select(ReportFile).where(
        ReportFile.schedule_id == schedule.id)).one()
    rows = list(session.scalars(select(ReportDelivery).where(
        ReportDelivery.report_file_id == stored.id).order_by(ReportDelivery.id)))
    assert result.deliveries == len(rows)
    return stored, rows


def test_recipients_are_parsed() -> None:
    valid, invalid = delivery.parse_recipients(
        "head@region.ru; Deputy@duma.ru, head@region.ru  nobody  ,head@REGION.ru")
    assert valid == ["head@region.ru", "Deputy@duma.ru"]
    assert invalid == ["nobody"]


def test_without_smtp_the_run_records_not_sent(session: Session,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTKLIK_SMTP_HOST", "")
    get_settings.cache_clear()
    try:
        _, rows = _brief(session, "head@region.ru, not-an-address")
        assert [(r.recipient, r.status, r.error) for r in rows] == [
            ("head@region.ru", "skipped", delivery.NOT_CONFIGURED),
            ("not-an-address", "failed", "not sent: not an e-mail address")]
    finally:
        get_settings.cache_clear()


def test_brief_is_mailed_once_per_recipient(session: Session, smtp: Inbox) -> None:
    stored, rows = _brief(session, "head@region.ru, deputy@duma.ru")
    assert [r.status for r in rows] == ["pending", "pending"]
    # One job per delivery waits for the commit. (The test's transaction must not commit,
    # SQLite would keep the data: the jobs are sent here as the commit would send them.)
    waiting = [actor.actor_name for actor, _ in session.info.get("otklik_pending_jobs", [])]
    assert pending_mark(session) == len(waiting)
    assert sorted(waiting) == ["deliver_report", "deliver_report", "seal_audit"]  # + the seal
    for row in rows:
        tasks.deliver_report.send(row.id)
    drain()
    assert sorted(to for to, _ in smtp.received) == [["deputy@duma.ru"], ["head@region.ru"]]
    mail = email.message_from_bytes(smtp.received[0][1], policy=email.policy.default)
    assert mail["From"] == "cur@example.ru" and mail["Subject"] == stored.title
    attachments = [p for p in mail.walk() if p.get_filename()]
    assert attachments[0].get_filename() == "brief-68-2026-11.xlsx"
    assert attachments[0].get_payload(decode=True) == stored.content
    for row in rows:
        session.refresh(row)
        assert row.status == "sent" and row.attempts == 1 and row.sent_at is not None
    # Run twice (a redelivered job, a second run-due): nothing is sent again.
    for row in rows:
        tasks.deliver_report.fn(row.id)
    assert run_due(session, now=DECEMBER).generated == []
    assert len(smtp.received) == 2


def test_temporary_errors_are_retried_permanent_ones_recorded(session: Session,
                                                              smtp: Inbox) -> None:
    _, (head, unknown) = _brief(session, "head@region.ru, unknown@region.ru")
    smtp.temporary = 1
    smtp.refuse = {"unknown@region.ru"}
    with pytest.raises(delivery.TemporaryError):  # Dramatiq retries it with back-off
        tasks.deliver_report.fn(head.id)
    session.refresh(head)
    assert (head.status, head.attempts) == ("pending", 1) and "451" in (head.error or "")
    tasks.deliver_report.fn(head.id)  # the retry
    session.refresh(head)
    assert (head.status, head.attempts, head.error) == ("sent", 2, None)
    tasks.deliver_report.fn(unknown.id)  # no exception: no retry
    session.refresh(unknown)
    assert unknown.status == "failed" and "550" in (unknown.error or "")
    assert [to for to, _ in smtp.received] == [["head@region.ru"]]


def test_attempts_run_out_and_interrupted_sends_are_not_repeated(session: Session,
                                                                 smtp: Inbox) -> None:
    _, (row, other) = _brief(session, "head@region.ru, deputy@duma.ru")
    smtp.temporary = delivery.MAX_ATTEMPTS
    for _ in range(delivery.MAX_ATTEMPTS - 1):
        with pytest.raises(delivery.TemporaryError):
            tasks.deliver_report.fn(row.id)
    tasks.deliver_report.fn(row.id)  # the last attempt gives up instead of raising
    session.refresh(row)
    assert row.status == "failed" and row.error and row.error.startswith("gave up after 6")
    other.status = "sending"  # a worker died between claiming and recording
    session.flush()
    tasks.deliver_report.fn(other.id)
    session.refresh(other)
    assert other.status == "failed" and "not resent" in (other.error or "")
    assert smtp.received == []


def test_reports_page_shows_deliveries(session: Session, client: Any,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import login

    monkeypatch.setenv("OTKLIK_SMTP_HOST", "")
    get_settings.cache_clear()
    try:
        _, rows = _brief(session, "head@region.ru, bad")
        session.flush()
        from tests.builders import PASSWORD, make_user

        from otklik.models.account import Role

        user = make_user(session, Role.analyst, ["68"])
        login(client, user.username, PASSWORD)
        page = client.get("/analytics/reports").text
    finally:
        get_settings.cache_clear()
    assert "head@region.ru — не отправлено: SMTP не настроен" in page
    assert "bad — ошибка: not sent: not an e-mail address" in page
    assert 'data-testid="smtp-off"' in page
