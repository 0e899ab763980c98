"""One entry point for every action on a case (the API and the UI use it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from otklik.audit.actor import Actor
from otklik.cases import answers, service
from otklik.cases.schemas import CaseAction
from otklik.cases.workflow import TRANSITIONS
from otklik.errors import InvalidInput
from otklik.models.case import Case


def _need(value: Any, name: str) -> Any:
    if value in (None, ""):
        raise InvalidInput(f"this action needs {name}")
    return value


HANDLERS: dict[str, Callable[[Session, Actor, Case, CaseAction], Any]] = {
    "triage": lambda s, a, c, p: service.triage(s, a, c, p.version),
    "route": lambda s, a, c, p: service.route(s, a, c, _need(p.executor_id, "executor_id"),
                                              version=p.version),
    "accept": lambda s, a, c, p: service.accept(s, a, c, p.version),
    "handback": lambda s, a, c, p: service.handback(s, a, c, _need(p.reason, "reason"),
                                                    p.version),
    "reject": lambda s, a, c, p: service.reject(s, a, c, _need(p.reason, "reason"), p.version),
    "request_clarification": lambda s, a, c, p: service.request_clarification(
        s, a, c, _need(p.question, "question"), p.version),
    "draft_answer": lambda s, a, c, p: answers.draft(s, a, c, _need(p.text, "text"),
                                                     p.version),
    "submit": lambda s, a, c, p: answers.submit(s, a, c, p.version),
    "approve": lambda s, a, c, p: answers.approve(s, a, c, p.version),
    "return": lambda s, a, c, p: answers.return_answer(s, a, c, _need(p.comment, "comment"),
                                                       p.version),
    "close": lambda s, a, c, p: service.close(s, a, c, p.version),
    "reopen": lambda s, a, c, p: service.reopen(s, a, c, _need(p.reason, "reason"), p.version),
    "request_extension": lambda s, a, c, p: service.request_extension(
        s, a, c, _need(p.until, "until"), _need(p.reason, "reason")),
}


def perform(session: Session, actor: Actor, case: Case, action: str,
            payload: CaseAction) -> Case:
    """Run an action on a case; unknown or impossible actions say why."""
    handler = HANDLERS.get(action)
    if handler is None:
        raise InvalidInput(f"unknown action {action!r}; use one of {', '.join(sorted(HANDLERS))}")
    handler(session, actor, case, payload)
    return case


def allowed_actions(actor: Actor, case: Case) -> list[str]:
    """The actions the actor could take on the case now (for buttons in the UI)."""
    out = []
    for name in HANDLERS:
        transition = TRANSITIONS[name]
        if case.status in transition.sources and actor.scope.can(transition.permission):
            out.append(name)
    return out
