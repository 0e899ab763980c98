"""Admin page: the rubricator (taxonomy) editor with its versions.

Every edit (rename, default urgency, lexicon, a new subtopic) saves the next version of the
document through :mod:`otklik.language.taxonomy_service`, activated right away unless the admin
unticks it; the versions table restores any earlier one. Anyone who reads cases sees the
rubricator in use; only admins see the edit forms and the versions and may change anything.
CSRF on every form.

Stored messages keep what the earlier rubricator (or topic model) decided until they are
re-enriched: admins see a notice after an activation and a form that queues a run
(:func:`otklik.intake.reenrich.start_queued`), with the last runs' progress from the audit
log. The models page (web/workspace_admin.py) shows the same section.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from otklik.audit.actor import Actor
from otklik.deps import OptionalActor, SessionDep, check_csrf
from otklik.intake import reenrich
from otklik.language import taxonomy_service
from otklik.nlp.taxonomy import URGENCY_LEVELS, editing, load_taxonomy
from otklik.web import workspace_queries as wq
from otklik.web.i18n import translate
from otklik.web.rendering import locale_of, render
from otklik.web.workspace_common import attempt, common_context, flash, require_actor

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form()]
Code = Annotated[str, Form(max_length=100)]
Name = Annotated[str, Form(max_length=200)]
Terms = Annotated[str, Form(max_length=20_000)]
Comment = Annotated[str, Form(max_length=500)]
PAGE = "/admin/taxonomy"
#: The pages that show the re-enrichment section (where its form returns to).
REENRICH_PAGES = (PAGE, "/admin/models")


def _t(request: Request, key: str) -> str:
    """A UI string in the request's language."""
    return translate(key, locale_of(request))


def _admin(actor: Actor | None) -> Actor:
    actor = require_actor(actor)
    actor.require("admin")
    return actor


def _page(request: Request, actor: Actor, session: Session, node: str | None = None,
          errors: list[str] | None = None, form: dict[str, str] | None = None) -> Response:
    taxonomy = taxonomy_service.active_taxonomy(session)
    editor = actor.scope.can("admin")
    selected = taxonomy.get(node) if node and editor else None
    context: dict[str, Any] = {
        **common_context(request, actor, session),
        "taxonomy": taxonomy,
        "locale": locale_of(request),
        "selected": selected,
        "lexicon_text": editing.format_lexicon(dict(selected.lexicon)) if selected else "",
        "urgencies": URGENCY_LEVELS,
        "editor": editor,
        "versions": taxonomy_service.versions(session, actor) if editor else [],
        "packaged_version": load_taxonomy().version,
        "errors": errors or [],
        "form": form or {},
        **(reenrich_context(session, actor, PAGE) if editor else {}),
    }
    return render(request, "ws_admin_taxonomy.html", context,
                  status_code=400 if errors else 200)


@router.get(PAGE, response_class=HTMLResponse)
def taxonomy_page(request: Request, actor: OptionalActor, session: SessionDep,
                  node: str | None = None) -> Response:
    """The rubricator in use; for admins the edit forms of one topic or subtopic and the
    versions."""
    reader = require_actor(actor)
    reader.require("read")
    return _page(request, reader, session, node)


def _edit(request: Request, actor: Actor | None, session: Session, csrf: str, node: str,
          change: Callable[[dict[str, Any]], dict[str, Any]], comment: str, activate: bool,
          form: dict[str, str]) -> Response:
    """Apply one edit to the document in use and save it as the next version."""
    check_csrf(request, csrf)
    actor = _admin(actor)
    with attempt(session) as errors:
        document = change(taxonomy_service.current_document(session))
        row = taxonomy_service.save_version(session, actor, document, comment,
                                            activate=activate)
    if errors:
        return _page(request, actor, session, node, errors, form)
    done = "tx_activated" if row.active else "tx_saved"
    flash(request, f"{_t(request, done)} {row.number}", "ok")
    return RedirectResponse(f"{PAGE}?node={node}", status_code=303)


@router.post(PAGE + "/rename", response_class=HTMLResponse)
def taxonomy_rename(request: Request, actor: OptionalActor, session: SessionDep,
                    csrf: Csrf = "", code: Code = "", name_ru: Name = "", name_en: Name = "",
                    comment: Comment = "", activate: Annotated[bool, Form()] = False
                    ) -> Response:
    """Rename a topic or subtopic."""
    return _edit(request, actor, session, csrf, code,
                 lambda doc: editing.rename(doc, code, name_ru, name_en), comment, activate,
                 {"name_ru": name_ru, "name_en": name_en, "comment": comment})


@router.post(PAGE + "/urgency", response_class=HTMLResponse)
def taxonomy_urgency(request: Request, actor: OptionalActor, session: SessionDep,
                     csrf: Csrf = "", code: Code = "",
                     urgency: Annotated[str, Form(max_length=20)] = "",
                     comment: Comment = "", activate: Annotated[bool, Form()] = False
                     ) -> Response:
    """Change the default urgency of a topic or subtopic."""
    return _edit(request, actor, session, csrf, code,
                 lambda doc: editing.set_urgency(doc, code, urgency), comment, activate,
                 {"comment": comment})


@router.post(PAGE + "/lexicon", response_class=HTMLResponse)
def taxonomy_lexicon(request: Request, actor: OptionalActor, session: SessionDep,
                     csrf: Csrf = "", code: Code = "", terms: Terms = "",
                     comment: Comment = "", activate: Annotated[bool, Form()] = False
                     ) -> Response:
    """Replace the lexicon of a topic or subtopic."""
    return _edit(request, actor, session, csrf, code,
                 lambda doc: editing.set_lexicon(doc, code, terms), comment, activate,
                 {"terms": terms, "comment": comment})


@router.post(PAGE + "/subtopic", response_class=HTMLResponse)
def taxonomy_add_subtopic(request: Request, actor: OptionalActor, session: SessionDep,
                          csrf: Csrf = "", topic: Code = "",
                          slug: Annotated[str, Form(max_length=60)] = "",
                          name_ru: Name = "", name_en: Name = "",
                          urgency: Annotated[str, Form(max_length=20)] = "normal",
                          terms: Terms = "", comment: Comment = "",
                          activate: Annotated[bool, Form()] = False) -> Response:
    """Add a subtopic to a topic."""
    return _edit(request, actor, session, csrf, topic,
                 lambda doc: editing.add_subtopic(doc, topic, slug, name_ru, name_en, urgency,
                                                  terms),
                 comment, activate,
                 {"slug": slug, "new_name_ru": name_ru, "new_name_en": name_en,
                  "new_terms": terms, "comment": comment})


@router.post(PAGE + "/activate", response_class=HTMLResponse)
def taxonomy_activate(request: Request, actor: OptionalActor, session: SessionDep,
                      csrf: Csrf = "", number: Annotated[int | None, Form()] = None
                      ) -> Response:
    """Put a saved version in use (an earlier one: a rollback); no number: the packaged one."""
    check_csrf(request, csrf)
    admin = _admin(actor)
    with attempt(session) as errors:
        if number is None:
            taxonomy_service.use_packaged(session, admin)
        else:
            taxonomy_service.activate_version(session, admin, number)
    if errors:
        return _page(request, admin, session, None, errors)
    text = (f"{_t(request, 'tx_activated')} {number}" if number is not None
            else f"{_t(request, 'tx_in_use')}: "
                 f"{_t(request, 'tx_packaged')}")
    flash(request, text, "ok")
    return RedirectResponse(PAGE, status_code=303)


# -- re-enrichment of stored messages -------------------------------------------------------------


def reenrich_context(session: Session, actor: Actor, back: str) -> dict[str, Any]:
    """What ``ws_reenrich.html`` needs: the unapplied activation, the form's choices, the
    last runs."""
    return {"back": back, "reenrich": {
        "change": reenrich.unapplied_change(session),
        "windows": reenrich.WINDOWS,
        "all_regions": actor.scope.all_regions,
        "regions": wq.regions(session, actor.scope),
        "runs": reenrich.recent_runs(session, actor.scope),
    }}


@router.post(PAGE + "/reenrich", response_class=HTMLResponse)
def reenrich_start(request: Request, actor: OptionalActor, session: SessionDep,
                   csrf: Csrf = "", days: Annotated[str, Form(max_length=8)] = "30",
                   region: Annotated[str, Form(max_length=3)] = "",
                   open_cases: Annotated[bool, Form()] = False,
                   back: Annotated[str, Form(max_length=40)] = PAGE) -> Response:
    """Queue the re-enrichment of stored messages with the rubricator and model in use."""
    check_csrf(request, csrf)
    admin = _admin(actor)
    target = back if back in REENRICH_PAGES else PAGE
    with attempt(session) as errors:
        run = reenrich.start_queued(session, admin,
                                    days=None if days == "all" else _int(days),
                                    region_code=region or None, open_cases=open_cases)
    if errors:
        flash(request, errors[0], "error")
    else:
        flash(request, f"{_t(request, 're_queued')}: {run.messages} "
                       f"({run.batches} {_t(request, 're_batches')})", "ok")
    return RedirectResponse(f"{target}#reenrich", status_code=303)


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return -1  # refused by the service with the allowed choices
