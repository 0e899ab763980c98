"""E-mailing scheduled briefs: one delivery per (brief file, recipient), sent at most once.

When :func:`~otklik.reports.schedule.run_due` stores a brief, :func:`queue_deliveries` adds a
``report_delivery`` row per recipient of its schedule and, after the commit, one queue job
per row (``reports/tasks.py``). The job claims the row (``pending`` → ``sending``, committed),
talks to the SMTP server, then records ``sent`` or the error:

* a temporary error (4xx reply, connection refused or dropped, timeout) puts the row back to
  ``pending`` and the job raises, so Dramatiq retries it with back-off, up to
  :data:`MAX_ATTEMPTS`; then ``failed``;
* a permanent error (5xx: unknown mailbox, refused login) is ``failed`` at once;
* a row found in ``sending`` means an attempt died half-way: the brief may have gone out,
  so it is marked ``failed`` and not resent (at most once; the page shows it).

With ``OTKLIK_SMTP_HOST`` empty nothing is sent: the rows say "not sent: SMTP not configured".
Uses the standard library (smtplib, email).
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import ssl
from collections import defaultdict
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate

from sqlalchemy import select
from sqlalchemy.orm import Session

from otklik.config import Settings, get_settings
from otklik.db.base import utcnow
from otklik.models.analytics import ReportFile
from otklik.models.report_delivery import ReportDelivery

#: Attempts per (file, recipient) on temporary errors before the delivery is given up.
MAX_ATTEMPTS = 6
#: Seconds to wait for the SMTP server.
TIMEOUT = 30
NOT_CONFIGURED = "not sent: SMTP not configured"
_ADDRESS = re.compile(r"^[^@\s<>,;\"']+@[^@\s<>,;\"']+\.[^@\s<>,;\"']+$")


class TemporaryError(Exception):
    """The SMTP server or the network failed in a way worth retrying."""


class PermanentError(Exception):
    """The message cannot be delivered as it is (bad address, refused login, policy)."""


def parse_recipients(text: str) -> tuple[list[str], list[str]]:
    """Addresses separated by commas, semicolons or spaces: (valid, invalid), no repeats."""
    valid: list[str] = []
    invalid: list[str] = []
    for item in re.split(r"[,;\s]+", text or ""):
        address = item.strip()
        if not address:
            continue
        target = valid if _ADDRESS.match(address) else invalid
        if address.lower() not in {a.lower() for a in (*valid, *invalid)}:
            target.append(address[:320])
    return valid, invalid


def queue_deliveries(session: Session, report_file: ReportFile, recipients: str,
                     settings: Settings | None = None) -> list[ReportDelivery]:
    """Add the deliveries of a new brief and send them after the commit."""
    from otklik.queue import enqueue_after_commit
    from otklik.reports.tasks import deliver_report

    settings = settings or get_settings()
    valid, invalid = parse_recipients(recipients)
    rows = [ReportDelivery(report_file_id=report_file.id, recipient=address,
                           status="pending" if settings.smtp_enabled else "skipped",
                           error=None if settings.smtp_enabled else NOT_CONFIGURED,
                           attempts=0)
            for address in valid]
    rows += [ReportDelivery(report_file_id=report_file.id, recipient=address, status="failed",
                            error="not sent: not an e-mail address", attempts=0)
             for address in invalid]
    session.add_all(rows)
    session.flush()
    for row in rows:
        if row.status == "pending":
            enqueue_after_commit(session, deliver_report, row.id)
    return rows


def deliveries_of(session: Session, file_ids: Sequence[int]) -> dict[int, list[ReportDelivery]]:
    """The deliveries of these files, by file id."""
    out: dict[int, list[ReportDelivery]] = defaultdict(list)
    if file_ids:
        for row in session.scalars(select(ReportDelivery).where(
                ReportDelivery.report_file_id.in_(list(file_ids))).order_by(ReportDelivery.id)):
            out[row.report_file_id].append(row)
    return dict(out)


def _sender(settings: Settings) -> str:
    return settings.smtp_from or settings.smtp_user or "otklik@localhost"


def build_email(report_file: ReportFile, delivery: ReportDelivery,
                settings: Settings) -> EmailMessage:
    """The e-mail of a brief to one recipient, the file attached."""
    from otklik.reports.schedule import MEDIA_TYPES

    sender = _sender(settings)
    message = EmailMessage()
    message["Subject"] = report_file.title
    message["From"] = sender
    message["To"] = delivery.recipient
    message["Date"] = formatdate(localtime=False)
    # One id per delivery: should a resend ever happen, mail systems see the same message.
    domain = sender.rpartition("@")[2] or "localhost"
    message["Message-ID"] = f"<otklik-brief-{delivery.id}@{domain}>"
    message.set_content(
        f"Здравствуйте!\n\nВо вложении — {report_file.title} "
        f"({report_file.fmt.upper()}, период {report_file.period}).\n"
        "Справка сформирована системой «Отклик» по расписанию; отвечать на это письмо "
        "не нужно.\n\n"
        f"Attached: {report_file.title} ({report_file.fmt.upper()}, {report_file.period}), "
        "generated by Otklik on a schedule.\n")
    maintype, _, subtype = MEDIA_TYPES.get(report_file.fmt,
                                           "application/octet-stream").partition("/")
    message.add_attachment(report_file.content, maintype=maintype, subtype=subtype,
                           filename=f"brief-{report_file.region_code}-{report_file.period}"
                                    f".{report_file.fmt}")
    return message


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) \
        else str(exc.smtp_error)
    return f"{exc.smtp_code} {text}".strip()


def send_email(settings: Settings, message: EmailMessage) -> None:
    """Send through the configured server; raise Temporary/PermanentError on failure."""
    try:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT)
        try:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
            smtp.send_message(message)
        finally:
            # Once the server took the message, a failing QUIT must not make it a failure.
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.quit()
            smtp.close()
    except smtplib.SMTPRecipientsRefused as exc:
        replies = [f"{address}: {code} {reply.decode(errors='replace')}"
                   for address, (code, reply) in exc.recipients.items()]
        temporary = all(400 <= code < 500 for code, _ in exc.recipients.values())
        raise (TemporaryError if temporary else PermanentError)("; ".join(replies)) from exc
    except smtplib.SMTPResponseException as exc:
        raise (TemporaryError if 400 <= exc.smtp_code < 500 else PermanentError)(
            _reply(exc)) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise PermanentError(f"the server does not support it: {exc} "
                             "(STARTTLS? set OTKLIK_SMTP_STARTTLS=false for a relay "
                             "without TLS)") from exc
    except smtplib.SMTPServerDisconnected as exc:
        raise TemporaryError(f"disconnected: {exc}") from exc
    except smtplib.SMTPException as exc:
        raise PermanentError(str(exc)) from exc
    except OSError as exc:  # refused, unreachable, timeout, TLS handshake
        raise TemporaryError(f"{type(exc).__name__}: {exc}") from exc


def claim(session: Session, delivery_id: int, settings: Settings) -> EmailMessage | None:
    """Start an attempt: the e-mail to send, or None when there is nothing to do."""
    query = select(ReportDelivery).where(ReportDelivery.id == delivery_id).with_for_update()
    row = session.scalars(query).one_or_none()
    if row is None or row.status in ("sent", "failed", "skipped"):
        return None
    now = utcnow()
    if row.status == "sending":
        row.status = "failed"
        row.error = ("an attempt was interrupted while sending; not resent, so that nobody "
                     "gets it twice (check with the recipient)")[:1000]
        row.updated_at = now
        return None
    if not settings.smtp_enabled:
        row.status, row.error, row.updated_at = "skipped", NOT_CONFIGURED, now
        return None
    report_file = session.get(ReportFile, row.report_file_id)
    if report_file is None:  # pragma: no cover - the row is deleted with its file
        return None
    row.status, row.attempts, row.updated_at = "sending", row.attempts + 1, now
    session.flush()
    return build_email(report_file, row, settings)


def record_sent(session: Session, delivery_id: int) -> None:
    """The server accepted the e-mail."""
    row = session.get(ReportDelivery, delivery_id)
    if row is not None:
        now = utcnow()
        row.status, row.error, row.sent_at, row.updated_at = "sent", None, now, now


def record_failure(session: Session, delivery_id: int, error: str, *, temporary: bool) -> bool:
    """Store an attempt's error; True when the job should be retried."""
    row = session.get(ReportDelivery, delivery_id)
    if row is None:
        return False
    retry = temporary and row.attempts < MAX_ATTEMPTS
    row.status = "pending" if retry else "failed"
    if temporary and not retry:
        error = f"gave up after {row.attempts} attempts: {error}"
    row.error = error[:1000]
    row.updated_at = utcnow()
    return retry
