"""The check service for residents ("миф или правда"): is this text a known fake?

A text (or a link to a stored post) is matched against the registry. A match answers with the
approved refutation (or, before one is approved, that the claim is being checked); no match
answers "not in the registry, sent for checking" and the text becomes a suspect. The answer
never says who else asked: the service keeps no asker, only how many times a text was asked.

Each client is held to :data:`LIMIT` checks per :data:`WINDOW` seconds
(:mod:`otklik.ratelimit`, shared with the public form): in the process's memory, or in Redis
when the queue runs on Redis (``OTKLIK_BROKER_URL=redis://…``), so that every web worker
shares one count.
"""

from __future__ import annotations

import threading

from sqlalchemy.orm import Session

from otklik.errors import InvalidInput, OtklikError
from otklik.fakes import live
from otklik.fakes.matcher import content, lemmas
from otklik.fakes.repository import FakeRepository
from otklik.fakes.schemas import MAX_CHECK, CheckAnswer
from otklik.ratelimit import Limiter, RateLimiter, RedisRateLimiter

#: Checks a client may make per window.
LIMIT = 20
#: The window, seconds.
WINDOW = 60


class TooManyChecks(OtklikError):
    """A client asked more often than the limit allows."""

    status_code = 429


_limiter: Limiter | None = None
_limiter_lock = threading.Lock()


def limiter() -> Limiter:
    """The process's limiter (Redis when the queue runs on Redis, else in memory)."""
    global _limiter
    with _limiter_lock:
        if _limiter is None:
            from otklik.config import get_settings

            url = get_settings().broker_url
            _limiter = (RedisRateLimiter(url, LIMIT, WINDOW, prefix="otklik:check")
                        if url.startswith("redis://") else RateLimiter(LIMIT, WINDOW))
        return _limiter


def set_limiter(value: Limiter | None) -> None:
    """Use another limiter (tests); None: choose again on next use."""
    global _limiter
    with _limiter_lock:
        _limiter = value


def throttle(client: str) -> None:
    """Refuse a client over the limit (429, with what to do)."""
    if not limiter().allow(client):
        raise TooManyChecks(f"too many checks: at most {LIMIT} a minute; try again in a "
                            "minute")


def text_of(session: Session, text: str | None, url: str | None) -> tuple[str, str | None]:
    """The text to check and the region it came from: the text as given, or the stored post
    the link points to. A clear error for an empty, binary or unreadable input."""
    if text is not None and text.strip():
        if len(text) > MAX_CHECK:
            raise InvalidInput(f"the text is too long: at most {MAX_CHECK} characters")
        if "\x00" in text or not any(w.isalpha() for w in content(lemmas(text))):
            raise InvalidInput("the text has no words to check: send the post's text")
        return text.strip(), None
    if url is not None and url.strip():
        link = url.strip()
        if not link.startswith(("http://", "https://")):
            raise InvalidInput("the link cannot be read: send a link that starts with "
                               "https://, or the post's text")
        message = FakeRepository(session).message_by_url(link)
        if message is None or not (message.text or "").strip():
            raise InvalidInput("the link cannot be read: the post is not among the messages "
                               "we have; send its text instead")
        return message.text, message.region_code
    raise InvalidInput("send the text of the post or a link to it")


def check(session: Session, text: str | None = None, url: str | None = None,
          region_code: str | None = None) -> CheckAnswer:
    """Answer a resident: the refutation of a known fake, or "sent for checking"."""
    body, region = text_of(session, text, url)
    region = region_code or region
    matcher = live.matcher_for(session, region)
    result = matcher.match(body) if matcher else None
    fake_id = result.fake_id or result.refutes if result else None
    fake = FakeRepository(session).get(int(fake_id)) if fake_id else None
    if fake is None or result is None:
        live.record_check_suspect(session, body, region)
        return CheckAnswer(
            verdict="not_in_registry",
            message="Этого утверждения нет в реестре фейков. Мы передали его на проверку "
                    "аналитикам центра управления регионом.",
            score=round(result.score, 4) if result else 0.0)
    if fake.refutation_state == "approved":
        return CheckAnswer(
            verdict="refuted", message="Это известный фейк. Официальное опровержение:",
            fake_id=fake.id, claim=fake.claim, status=fake.status,
            refutation=fake.refutation_text, source_url=fake.refutation_url,
            refutation_date=fake.refutation_date, score=round(result.score, 4))
    return CheckAnswer(
        verdict="in_registry",
        message="Это утверждение уже проверяют аналитики центра управления регионом; "
                "опровержения пока нет.",
        fake_id=fake.id, claim=fake.claim, status=fake.status, score=round(result.score, 4))


def answer_text(answer: CheckAnswer) -> str:
    """The answer as one message (the bot's reply)."""
    if answer.verdict == "refuted":
        parts = [answer.message, answer.refutation or ""]
        if answer.source_url:
            parts.append(f"Источник: {answer.source_url}")
        return "\n\n".join(p for p in parts if p)
    return answer.message
