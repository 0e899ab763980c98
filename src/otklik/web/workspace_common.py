"""Shared pieces of the workspace pages: who is calling, flashes, safe display of resident text.

Resident text is untrusted. Templates autoescape it; on top of that the ``resident`` filter
makes invisible bidirectional controls (U+202A–U+202E, U+2066–U+2069) visible as ``[U+202E]``
so a reversed-text trick cannot disguise a message, and templates wrap it in ``<bdi>``.
Links are rendered only for http(s) URLs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from fastapi import Request
from sqlalchemy.orm import Session

from otklik import queue
from otklik.accounts.repository import AccountRepository
from otklik.audit.actor import Actor
from otklik.errors import NotAuthenticated, OtklikError
from otklik.language.taxonomy_service import active_taxonomy
from otklik.web import workspace_queries as wq
from otklik.web.i18n import translate
from otklik.web.rendering import locale_of, templates

BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
FLASH_KEY = "ws_flash"


def require_actor(actor: Actor | None) -> Actor:
    """The logged-in caller, or a redirect to the login form."""
    if actor is None:
        raise NotAuthenticated("log in to continue")
    return actor


def user_context(actor: Actor, session: Session) -> dict[str, Any]:
    """What base.html needs about the current user."""
    return {"user": AccountRepository(session).get(actor.user_id or -1), "actor": actor}


def flash(request: Request, text: str, kind: str = "ok") -> None:
    """Keep a one-time message for the next page (after a redirect)."""
    request.session[FLASH_KEY] = [*request.session.get(FLASH_KEY, []), [kind, text[:500]]]


def take_flashes(request: Request) -> list[tuple[str, str]]:
    """The pending one-time messages, removed from the session."""
    return [(k, t) for k, t in request.session.pop(FLASH_KEY, [])]


class FormErrors(list[str]):
    """The messages of a form's failed call, with the HTTP status its error carries (a
    refusal stays a 403 and a missing object a 404 when the page shows the form again)."""

    status: int = 400


@contextmanager
def attempt(session: Session) -> Iterator[FormErrors]:
    """Run a service call in a savepoint: on an expected error undo only that call.

    The yielded list receives the error message, so a page can show it next to the form
    instead of a bare error page, with ``errors.status`` for the response. Jobs the undone
    call queued are dropped with it.
    """
    errors = FormErrors()
    savepoint = session.begin_nested()
    mark = queue.pending_mark(session)
    try:
        yield errors
    except OtklikError as exc:
        savepoint.rollback()
        queue.drop_pending_since(session, mark)
        errors.append(exc.message)
        errors.status = exc.status_code
        return
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        queue.drop_pending_since(session, mark)
        raise
    savepoint.commit()


def local_redirect(target: str | None, default: str) -> str:
    """Only local redirects: never to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


# -- filters -------------------------------------------------------------------------------------


def resident(value: object) -> str:
    """Resident text with invisible direction controls made visible (then autoescaped)."""
    if value is None:
        return ""
    return BIDI_CONTROLS.sub(lambda m: f"[U+{ord(m.group(0)):04X}]", str(value))


def safe_url(value: object) -> str | None:
    """The URL when it is http(s) with a host; anything else (javascript:, data:) is None."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if BIDI_CONTROLS.search(url) or any(ord(c) < 32 for c in url):
        return None
    return url


def local_time(value: datetime | None, tz: str | None = None) -> str:
    """A moment as dd.mm.yyyy hh:mm in a zone (Moscow by default)."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        zone = ZoneInfo(tz or "Europe/Moscow")
    except (KeyError, ValueError):
        zone = ZoneInfo("Europe/Moscow")
    return value.astimezone(zone).strftime("%d.%m.%Y %H:%M")


def duration(seconds: float | None, locale: str = "ru") -> str:
    """Working time as «41 ч 15 мин»: hours, not days, since a working day is not 24 h."""
    if seconds is None:
        return "—"
    hours, minutes = divmod(int(abs(seconds)) // 60, 60)
    units = ("ч", "мин") if locale == "ru" else ("h", "min")
    return f"{hours} {units[0]} {minutes} {units[1]}" if hours else f"{minutes} {units[1]}"


def percent(value: object) -> str:
    """A confidence 0..1 as a percentage."""
    try:
        return f"{round(float(value) * 100)}%"  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "—"


templates.env.filters.setdefault("resident", resident)
templates.env.filters.setdefault("safe_url", safe_url)
templates.env.filters.setdefault("local_time", local_time)
templates.env.filters.setdefault("percent", percent)


def label(kind: str, value: object, locale: str) -> str:
    """A translated label for a status, action, urgency or source (the raw value if none)."""
    raw = "" if value is None else str(getattr(value, "value", value))
    text = translate(f"{kind}_{raw}", locale)
    return raw if text == f"{kind}_{raw}" else text


def topic_names(session: Session, locale: str) -> dict[str, str]:
    """Names of every topic and subtopic by code, from the rubricator in use."""
    taxonomy = active_taxonomy(session)
    return {node.code: taxonomy.name(node.code, locale) for node in taxonomy}


def common_context(request: Request, actor: Actor, session: Session) -> dict[str, Any]:
    """What every workspace page needs: the user, flashes, label helpers, topic names."""
    locale = locale_of(request)
    return {**user_context(actor, session), "flashes": take_flashes(request),
            "L": lambda kind, value: label(kind, value, locale),
            "duration": lambda seconds: duration(seconds, locale),
            "topics": topic_names(session, locale)}


def display_maps(session: Session, cases: list[Any]) -> dict[str, Any]:
    """Names of the executors and places and the time zones of these cases."""
    return {
        "org_names": wq.organization_names(session, [c.executor_id for c in cases]),
        "place_names": wq.territory_names(session, [c.municipality_id for c in cases]
                                          + [c.settlement_id for c in cases]),
        "zones": wq.region_timezones(session, [c.region_code for c in cases]),
    }


# -- what the machine decided and why ------------------------------------------------------------


@dataclass
class Decision:
    """One thing the language stages decided, with its confidence and reasons."""

    field: str
    value: str | None
    confidence: float | None
    reasons: list[str]


def _words(items: object, limit: int = 8) -> list[str]:
    if isinstance(items, dict):
        items = [f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
                 for k, v in items.items()]
    if not isinstance(items, list):
        return []
    out = []
    for item in items[:limit]:
        if isinstance(item, list | tuple) and item:
            out.append(str(item[0]))
        else:
            out.append(str(item))
    return out


def decisions(result: dict[str, Any] | None) -> dict[str, Decision]:
    """Topic, place, urgency, sentiment and kind from an enrichment result, with reasons."""
    result = result or {}
    explain = result.get("explain") or {}
    out: dict[str, Decision] = {}
    topic = result.get("topic") or {}
    subtopic = result.get("subtopic") or {}
    topic_explain = explain.get("topic") or {}
    out["topic"] = Decision("topic", topic.get("name"), topic.get("confidence"),
                            _words(topic_explain.get("matched") or {}))
    out["subtopic"] = Decision("subtopic", subtopic.get("name") if subtopic else None,
                               subtopic.get("confidence") if subtopic else None, [])
    territory = result.get("territory") or {}
    mentions = (explain.get("territory") or {}).get("mentions") or []
    place = ", ".join(str(p.get("name")) for p in (territory.get("municipality"),
                                                   territory.get("settlement"))
                      if isinstance(p, dict) and p.get("name"))
    street = " ".join(str(x) for x in (territory.get("street"), territory.get("house")) if x)
    out["place"] = Decision("place", ", ".join(p for p in (place, street) if p) or None,
                            territory.get("confidence"),
                            [f"«{m.get('span')}»" for m in mentions if isinstance(m, dict)][:6])
    urgency = result.get("urgency") or {}
    out["urgency"] = Decision("urgency", urgency.get("level"), urgency.get("confidence"),
                              _words(urgency.get("signals") or [])
                              + _words((explain.get("urgency") or {}).get("matched") or {}))
    sentiment = result.get("sentiment") or {}
    out["sentiment"] = Decision("sentiment", sentiment.get("value"), sentiment.get("confidence"),
                                _words((explain.get("sentiment") or {}).get("matches") or []))
    kind = result.get("kind") or {}
    out["kind"] = Decision("kind", kind.get("value"), kind.get("confidence"),
                           _words((explain.get("kind") or {}).get("cues") or {}))
    return out


def as_utc(value: datetime) -> datetime:
    """A naive moment read as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
