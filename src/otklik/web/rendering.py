"""The one place templates are rendered: locale, current user, CSRF token, escaping."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from otklik.config import get_settings
from otklik.deps import csrf_token
from otklik.web.i18n import LOCALES, translate

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))  # autoescape on for .html


def locale_of(request: Request) -> str:
    """The UI language: the lang cookie, else the default."""
    lang = request.cookies.get("lang")
    return lang if lang in LOCALES else get_settings().default_locale


def _demo_progress() -> dict[str, Any] | None:
    from otklik.demo.progress import tracker

    snapshot = tracker.snapshot()
    return snapshot if snapshot["loading"] or snapshot["error"] else None


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render a page with what every page needs."""
    locale = locale_of(request)
    demo = get_settings().is_demo
    base: dict[str, Any] = {
        "request": request,
        "locale": locale,
        "t": lambda key: translate(key, locale),
        "csrf_token": csrf_token(request),
        "demo": demo,
        # the demo's load behind its first page (otklik.web.demo_load): the banner
        "demo_progress": _demo_progress() if demo else None,
    }
    base.update(context or {})
    return templates.TemplateResponse(request, template, base, status_code=status_code)
