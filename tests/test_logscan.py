"""The log scanner of the whole run (tests/logscan.py) catches what it must and nothing
else; it is checked on its own handler and logger, so these records never reach the
session's scanner."""

from __future__ import annotations

import logging
from pathlib import Path

from tests.logscan import LogScanner


def _logger(scanner: LogScanner) -> logging.Logger:
    logger = logging.getLogger("tests.logscan.self-test")
    logger.handlers[:] = [scanner]
    logger.propagate = False  # the session's scanner must not see these
    logger.setLevel(logging.DEBUG)
    return logger


def test_the_scanner_names_secrets_and_personal_data(tmp_path: Path) -> None:
    scanner = LogScanner(report=tmp_path / "leaks.txt")
    log = _logger(scanner)
    log.info("login %s with %s", "ivanov", "correct horse battery")
    log.debug("minted otk_0a1b2c3d_%s", "Zx" * 16)
    log.warning("sending to %s", "https://api.telegram.org/bot7000000001:" + "A" * 35)
    log.info("hash %s", "$argon2id$v=19$m=65536")
    log.info("резидент написал: звоните +7 (915) 222-33-44")
    try:
        raise ValueError("контакт 8 912 345 67 89")
    except ValueError:
        log.exception("failed")
    log.info("case %d routed to %s in %.1f s", 4711, "Минтранс", 0.25)
    log.info("HTTP Request: GET http://127.0.0.1:8080/method/wall.get \"HTTP/1.1 200 OK\"")
    log.info("region 68 has 12345678 residents; job id 7000000001")
    assert [leak.what for leak in scanner.leaks] == [
        "corr…", "API token", "bot token", "password hash", "mobile number", "mobile number"]
    assert scanner.records == 9
    assert len((tmp_path / "leaks.txt").read_text(encoding="utf-8").splitlines()) == 6
