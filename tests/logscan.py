"""No secret and no resident's personal data in the logs of a whole test run.

A handler on the root logger sees every record of the session (the root at INFO, the level a
production process logs at; a test that turns a logger up to DEBUG is seen at DEBUG too)
and checks it at once against :data:`NEEDLES`, the passwords, tokens, keys and residents'
data the fixtures use, and :data:`PATTERNS`, the shapes of secrets minted during the run
(API tokens, webhook secrets, bot tokens, password hashes) and of a Russian mobile number.
A record that matches is written to ``leaked-logs.txt`` in a fresh temporary folder; at
the end of the session the run fails (exit status 1) and the summary names each leak with
the test that logged it. Checking as records arrive costs one formatted message and one regular
expression per record; nothing is kept in memory but the leaks.

tests/conftest.py wires the hooks in; tests/test_logscan.py checks the scanner itself.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

#: Fixed values of the fixtures: passwords, connector and bot tokens, app secrets, the test
#: secret key, and residents' names, phones and e-mails.
NEEDLES: tuple[str, ...] = (
    "correct horse battery",                    # tests/builders.py PASSWORD
    "browser-journey-2026",                     # tests/browser
    "Пароль-для-журнала-2026",                  # tests/pd/test_no_secrets_in_logs.py
    "otklik-development-secret-change-me",      # the default secret key the tests run with
    "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",       # the Telegram bot token of the fixtures
    "vk1.a.reading-token-0123456789", "vk1.a.very-secret-token-0123456789",
    "tkn1.ok-access-token-xyz", "ok-app-secret-C0FFEE",
    "Евдокия Пантелеймоновна", "Сидоров Пётр Иванович", "Петров Иван Сергеевич",
    "ivan.petrov@example.org",
)
#: Shapes of secrets minted during the run, and of a resident's mobile number.
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("API token", re.compile(r"\botk_[0-9a-f]{8}_[A-Za-z0-9_-]{20,}")),
    ("webhook secret", re.compile(r"\bwhsec_[A-Za-z0-9_-]{20,}")),
    ("bot token", re.compile(r"(?<!\d)\d{6,10}:[A-Za-z0-9_-]{30,}")),
    ("password hash", re.compile(r"\$argon2(id|i|d)\$")),
    ("mobile number", re.compile(r"(?<![\w-])(\+7|8)[\s(-]*9\d{2}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*"
                                 r"\d{2}(?!\d)")),
)
_ANY = re.compile("|".join(
    [re.escape(n) for n in NEEDLES] + [p.pattern for _, p in PATTERNS]))


@dataclass
class Leak:
    """One record that carried a secret or personal data."""

    test: str
    logger: str
    what: str
    line: str


class LogScanner(logging.Handler):
    """A logging handler that remembers the records carrying a needle or a pattern."""

    def __init__(self, report: Path | None = None) -> None:
        super().__init__(logging.NOTSET)
        self.report = report
        self.leaks: list[Leak] = []
        self.records = 0
        self.test = "(outside a test)"
        self._guard = threading.Lock()

    @staticmethod
    def text_of(record: logging.LogRecord) -> str:
        """What a record would put in a log: the message, its arguments, the traceback."""
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logger's problem, not a leak
            message = str(record.msg)
        parts = [message]
        if record.exc_info and record.exc_info[1] is not None:
            parts.append(repr(record.exc_info[1]))
        if record.exc_text:
            parts.append(record.exc_text)
        return "\n".join(parts)

    @staticmethod
    def what(text: str) -> str | None:
        """Which needle or pattern the text carries, or None."""
        if not _ANY.search(text):
            return None
        for needle in NEEDLES:
            if needle in text:
                return needle[:4] + "…"
        return next((name for name, p in PATTERNS if p.search(text)), "a secret")

    def emit(self, record: logging.LogRecord) -> None:
        """Check one record (never raises: logging must not break a test)."""
        try:
            text = self.text_of(record)
            found = self.what(text)
            with self._guard:
                self.records += 1
                if found is None:
                    return
                leak = Leak(self.test, record.name, found, text.splitlines()[0][:300])
                self.leaks.append(leak)
                if self.report is not None:
                    with self.report.open("a", encoding="utf-8") as out:
                        out.write(f"{leak.test}\t{leak.logger}\t{leak.what}\t{leak.line}\n")
        except Exception:  # noqa: BLE001  (a handler that raises would fail unrelated tests)
            self.handleError(record)


_scanner: LogScanner | None = None
_previous_level: int | None = None


#: The run's report, shared with the pytest-xdist workers (they inherit the environment of
#: the process that starts them): each worker appends its leaks to it and leaves its count
#: of records beside it; the process that started the run reads them all at the end.
REPORT_ENV = "OTKLIK_LOGSCAN_REPORT"


def pytest_configure(config: pytest.Config) -> None:
    """Put the scanner on the root logger for the whole session."""
    global _scanner, _previous_level
    shared = os.environ.get(REPORT_ENV)
    if shared and hasattr(config, "workerinput"):
        report = Path(shared)
    else:
        report = Path(tempfile.mkdtemp(prefix="otklik-logscan-")) / "leaked-logs.txt"
        os.environ[REPORT_ENV] = str(report)
    _scanner = LogScanner(report=report)
    root = logging.getLogger()
    root.addHandler(_scanner)
    _previous_level = root.level
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)


def pytest_runtest_logstart(nodeid: str) -> None:
    """Name the test the next records belong to."""
    if _scanner is not None:
        _scanner.test = nodeid


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Fail the run when a record carried a secret or personal data."""
    if _scanner is None:
        return
    logging.getLogger().removeHandler(_scanner)
    if _previous_level is not None:
        logging.getLogger().setLevel(_previous_level)
    if hasattr(session.config, "workerinput"):  # a worker: the starting process reports
        if _scanner.report is not None:
            (_scanner.report.parent / f"records-{os.getpid()}").write_text(
                str(_scanner.records))
        return
    if _all_leaks():
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _all_leaks() -> list[str]:
    """Every process's leaks, as lines of the report (this process's included)."""
    # Every leak is written to the report as it is found (the session's scanner has one).
    if _scanner is None or _scanner.report is None or not _scanner.report.exists():
        return []
    lines = _scanner.report.read_text(encoding="utf-8").splitlines()
    return [": ".join(line.split("\t")[:3]) for line in lines if line]


def _all_records() -> int:
    assert _scanner is not None
    folder = _scanner.report.parent if _scanner.report is not None else None
    workers = sum(int(p.read_text() or 0) for p in folder.glob("records-*")) if folder else 0
    return _scanner.records + workers


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Name the leaks (the secret itself is never printed, only its first characters)."""
    if _scanner is None or hasattr(terminalreporter.config, "workerinput"):
        return
    leaks = _all_leaks()
    if not leaks:
        terminalreporter.write_line(
            f"logs: {_all_records()} record(s) checked, no secret or personal data")
        return
    terminalreporter.section("secrets or personal data in the logs", red=True)
    for line in leaks[:50]:
        terminalreporter.write_line(line)
    terminalreporter.write_line(f"{len(leaks)} leak(s); the records: {_scanner.report}")
