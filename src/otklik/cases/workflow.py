"""The case state machine: which action moves a case from which status to which, and who may.

new → triage → routed → in work → (clarification: the clock stops) → answer drafted →
on moderation → answered (published) → closed; reopened on the resident's negative reaction
or a repeat message; rejected (spam, not for authorities, duplicate) with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from otklik.models.case import CaseStatus as S


@dataclass(frozen=True)
class Transition:
    """An action: the statuses it starts from, where it leads, the permission it needs."""

    sources: frozenset[S]
    target: S | None  # None: the status does not change
    permission: str
    label_ru: str


def _t(sources: set[S], target: S | None, permission: str, label: str) -> Transition:
    return Transition(frozenset(sources), target, permission, label)


ACTIVE = {S.routed, S.in_work, S.clarification, S.answer_drafted, S.on_moderation}

TRANSITIONS: dict[str, Transition] = {
    "triage": _t({S.new}, S.triage, "triage", "на разбор"),
    "route": _t({S.new, S.triage, S.routed}, S.routed, "triage", "направить исполнителю"),
    "accept": _t({S.routed}, S.in_work, "answer", "взять в работу"),
    "handback": _t({S.routed, S.in_work}, S.triage, "answer", "вернуть как ошибочно направленное"),
    "request_clarification": _t({S.in_work}, S.clarification, "answer", "запросить уточнение"),
    "resident_replied": _t({S.clarification}, S.in_work, "system", "житель уточнил"),
    "clarification_expired": _t({S.clarification}, S.closed, "system",
                                "житель не ответил на уточнение"),
    "draft_answer": _t({S.in_work, S.answer_drafted}, S.answer_drafted, "answer",
                       "подготовить ответ"),
    "submit": _t({S.answer_drafted}, S.on_moderation, "answer", "отправить на модерацию"),
    "approve": _t({S.on_moderation}, S.answered, "moderate", "одобрить и опубликовать"),
    "return": _t({S.on_moderation}, S.in_work, "moderate", "вернуть на доработку"),
    "close": _t({S.answered}, S.closed, "triage", "закрыть"),
    "reopen": _t({S.answered, S.closed}, S.in_work, "triage", "переоткрыть"),
    "reject": _t({S.new, S.triage, S.routed}, S.rejected, "triage", "отклонить"),
    "request_extension": _t(ACTIVE - {S.clarification}, None, "answer", "запросить продление"),
    "decide_extension": _t(ACTIVE, None, "approve_extension", "решить о продлении"),
    "escalate": _t(ACTIVE, None, "system", "эскалация"),
    "edit": _t({S.new, S.triage, S.routed, S.in_work, S.clarification, S.answer_drafted,
                S.on_moderation}, None, "triage", "исправить"),
    "merge": _t({S.new, S.triage, S.routed, S.in_work}, S.closed, "triage", "объединить"),
    # An executor may also assign within their own organization (cases.service.assign).
    "assign": _t({S.new, S.triage, S.routed, S.in_work, S.clarification, S.answer_drafted,
                  S.on_moderation}, None, "triage", "назначить ответственного"),
}

REJECT_REASONS = {
    "spam": "спам или реклама",
    "not_for_authorities": "не относится к органам власти",
    "duplicate": "повтор уже принятого обращения",
    "no_content": "нет сути обращения",
}


def check(action: str, status: S) -> Transition:
    """The transition for an action, or a message saying why it cannot happen now."""
    from otklik.errors import Conflict, InvalidInput

    transition = TRANSITIONS.get(action)
    if transition is None:
        raise InvalidInput(f"unknown action {action!r}")
    if status not in transition.sources:
        allowed = ", ".join(sorted(s.value for s in transition.sources))
        raise Conflict(
            f"cannot {action.replace('_', ' ')} a case that is {status.value}: "
            f"only from {allowed}"
        )
    return transition
