"""The admin page of the task queue: depth per queue and the dead-lettered jobs (those that
failed all their retries), each with a "requeue" and a "drop" action (CSRF, audited).
Through ops.queues; only an administrator of all regions sees it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from otklik.deps import OptionalActor, SessionDep, check_csrf
from otklik.ops import queues
from otklik.web.rendering import locale_of, render
from otklik.web.workspace_common import common_context, flash, require_actor

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form()]
QueueName = Annotated[str, Form(max_length=200)]
JobId = Annotated[str, Form(max_length=100)]


@router.get("/admin/queue", response_class=HTMLResponse)
def queue_page(request: Request, actor: OptionalActor, session: SessionDep) -> Response:
    """Each queue's depth and its dead-lettered jobs."""
    actor = require_actor(actor)
    queues.require_queue_admin(actor)
    error = ""
    try:
        rows = queues.depths()
        dead = {row.name: queues.dead_letters(row.name) for row in rows if row.dead}
    except Exception as exc:  # the broker unreachable: say so instead of a 500
        rows, dead, error = [], {}, f"{type(exc).__name__}: {exc}"
    context = {**common_context(request, actor, session), "rows": rows, "dead": dead,
               "broker_kind": queues.broker_kind(), "broker_error": error,
               "limit": queues.LIST_LIMIT}
    return render(request, "ws_admin_queue.html", context)


@router.post("/admin/queue/requeue", response_class=HTMLResponse)
def queue_requeue(request: Request, actor: OptionalActor, session: SessionDep,
                  csrf: Csrf = "", queue: QueueName = "", job: JobId = "") -> Response:
    """Put one dead-lettered job back on its queue."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    done = queues.requeue_audited(session, actor, queue, job)
    ru = locale_of(request) == "ru"
    flash(request, (f"Задача {done.actor} возвращена в очередь {queue}" if ru
                    else f"Job {done.actor} put back on {queue}"), "ok")
    return RedirectResponse("/admin/queue", status_code=303)


@router.post("/admin/queue/drop", response_class=HTMLResponse)
def queue_drop(request: Request, actor: OptionalActor, session: SessionDep,
               csrf: Csrf = "", queue: QueueName = "", job: JobId = "") -> Response:
    """Delete one dead-lettered job for good."""
    check_csrf(request, csrf)
    actor = require_actor(actor)
    done = queues.drop_audited(session, actor, queue, job)
    ru = locale_of(request) == "ru"
    flash(request, (f"Задача {done.actor} удалена из {queue}" if ru
                    else f"Job {done.actor} dropped from {queue}"), "ok")
    return RedirectResponse("/admin/queue", status_code=303)
