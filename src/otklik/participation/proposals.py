"""Residents' proposals (предложения) on a path of their own.

received → under review → accepted → in work → done, or declined with a reason (a declined
proposal may be reviewed again). The responsible body (an executor organization) reviews it;
a meeting or follow-up is recorded on it; at each step the author gets a notice through the
channel they wrote in (a notice of the proposal's case: moderated, then published where the
resident wrote, :mod:`otklik.cases.control`). The public page lists proposals and statuses
with no personal data. Residents support a proposal once per channel identity.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.cases import control
from otklik.db.base import utcnow
from otklik.errors import Conflict, Forbidden, InvalidInput, NotFound
from otklik.models.case import Answer, Case
from otklik.models.message import Message, MessageEnrichment
from otklik.models.participation import Proposal, ProposalEvent, ProposalVote
from otklik.nlp.pii import PiiStage, mask
from otklik.participation.campaigns import pseudonym
from otklik.participation.repository import ParticipationRepository
from otklik.participation.schemas import PublicProposal, PublicStep, SupportResult

STATUSES = ("received", "under_review", "accepted", "in_work", "done", "declined")
STATUS_RU = {"received": "получено", "under_review": "на рассмотрении", "accepted": "принято",
             "in_work": "в работе", "done": "реализовано", "declined": "отклонено"}
#: Where a proposal may go from each status.
NEXT: dict[str, frozenset[str]] = {
    "received": frozenset({"under_review", "declined"}),
    "under_review": frozenset({"accepted", "declined"}),
    "accepted": frozenset({"in_work", "declined"}),
    "in_work": frozenset({"done", "declined"}),
    "done": frozenset(),
    "declined": frozenset({"under_review"}),
}
#: The notice the author gets at each step when the reviewer writes none of their own.
NOTICES = {
    "received": "Ваше предложение получено и зарегистрировано под №{id}. Мы сообщим здесь же, "
                "кто его рассмотрит и что решено.",
    "under_review": "Ваше предложение №{id} передано на рассмотрение: {body}. Мы сообщим о "
                    "решении здесь же.",
    "accepted": "Ваше предложение №{id} поддержано: {body} приняли его. Сообщим, когда "
                "начнётся работа.",
    "in_work": "Ваше предложение №{id} взято в работу: {body}.",
    "done": "Ваше предложение №{id} реализовано. Спасибо за участие!",
    "declined": "Ваше предложение №{id} рассмотрено и, к сожалению, отклонено. Причина: "
                "{reason}",
    "meeting": "По вашему предложению №{id} назначена встреча {day}: {note}",
}
MIN_REASON = 10
#: A comment saying this supports the proposal it answers.
SUPPORT_RE = re.compile(r"(\bподдерживаю\b|\bподдержива[ею]м\b|\bтоже за\b|(?<!\w)\+1\b)",
                        re.IGNORECASE)
_PII = PiiStage()


def public_text(text: str) -> str:
    """The text with the personal data the PII stage finds masked."""
    return mask(text, _PII.find(text)) if text else ""


def _title(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 140 else flat[:139].rsplit(" ", 1)[0] + "…"


# -- taking proposals in -----------------------------------------------------------------------


def from_message(session: Session, actor: Actor, message: Message,
                 enrichment: MessageEnrichment, organization_id: int | None = None
                 ) -> Proposal:
    """The proposal a message makes (idempotent: a message makes one); its case carries
    the notices back to the author."""
    existing = ParticipationRepository(session).proposal_of_message(message.id)
    if existing is not None:
        return existing
    return _new_proposal(session, actor, message, enrichment, organization_id)


def _new_proposal(session: Session, actor: Actor, message: Message,
                  enrichment: MessageEnrichment, organization_id: int | None = None,
                  case: Case | None = None) -> Proposal:
    """The proposal of a message that made none yet (``case``: its case, when the caller
    has it already)."""
    repo = ParticipationRepository(session)
    region = enrichment.region_code or message.region_code
    if region is None:
        raise InvalidInput(f"message {message.id} has no region")
    if case is None:
        case = control.case_for_message(session, actor, message)
    masked = public_text(message.text)
    proposal = repo.add(Proposal(
        region_code=region, message_id=message.id, case_id=case.id, source=message.source,
        title=_title(masked), text=message.text, public_text=masked, topic=enrichment.topic,
        municipality_id=enrichment.municipality_id,
        organization_id=organization_id or case.executor_id, status="received",
        created_at=message.created_at, updated_at=utcnow()))
    _event(session, actor, proposal, "status", None, "received", at=message.created_at,
           notice=NOTICES["received"].format(id=proposal.id))
    return proposal


def create_proposal(session: Session, actor: Actor, message_id: int,
                    organization_id: int | None = None) -> Proposal:
    """An operator takes a stored message into the proposals' path."""
    actor.require("triage")
    repo = ParticipationRepository(session)
    message = repo.message(message_id)
    enrichment = repo.enrichment(message_id)
    if message is None or enrichment is None or not actor.scope.sees_region(
            enrichment.region_code or message.region_code):
        raise NotFound(f"message {message_id} not found")
    if organization_id is not None:
        _check_organization(session, organization_id, enrichment.region_code
                            or message.region_code)
    return from_message(session, actor, message, enrichment, organization_id)


def collect_messages(session: Session, message_ids: list[int]) -> int:
    """Proposals from enriched messages of kind "proposal", and support from comments
    under them ("поддерживаю"); idempotent. Returns the proposals made."""
    return collect_views(session, ParticipationRepository(session).message_views(message_ids))


def may_matter(kind: str | None, relevant: bool, authored: bool, parent_id: int | None,
               text: str) -> bool:
    """Whether a message can make a proposal or support one (what :func:`collect_views`
    looks at), from a few of its columns."""
    if kind == "proposal" and relevant and authored and not _support_text(text):
        return True
    return parent_id is not None and _support_text(text)


def collect_views(session: Session, views: Sequence[tuple[Message, MessageEnrichment]]) -> int:
    """:func:`collect_messages` over messages already read."""
    actor = Actor.system("participation")
    repo = ParticipationRepository(session)
    proposing = {m.id for m, e in views if _proposes(m, e)}  # asked once per message
    # which of them made a proposal already: one query (a message makes its own only)
    made_before = repo.proposed(sorted(proposing))
    new = proposing - made_before
    # Each new proposal opens and routes its message's case: the batch's are opened
    # together before the first proposal, as building a batch's cases does (what routing
    # and deadlines read of the regions read at once, the cases' rows written in a few
    # statements), not ≈ 15 statements a case. (A message without a region is refused by
    # its proposal, as before.)
    opening = [m for m, e in views if m.id in new and (e.region_code or m.region_code)]
    cases = control.cases_for_messages(session, actor, opening, {m.id: e for m, e in views})
    threads = _Threads.read(repo, [m for m, _ in views if _supports(m)])
    made = 0
    for message, enrichment in views:
        if message.id in new:
            threads.add(_new_proposal(session, actor, message, enrichment,
                                      case=cases.get(message.id)),
                        message.parent_id, message.created_at)
            made += 1
        elif _supports(message):
            _support_from_comment(session, message, threads.targets(message))
    return made


def _proposes(message: Message, enrichment: MessageEnrichment) -> bool:
    return (enrichment.kind == "proposal" and enrichment.relevant
            and message.author_key is not None and not _support_text(message.text))


def _supports(message: Message) -> bool:
    """A comment that may support a proposal (never a proposal itself: :func:`_proposes`
    refuses a supporting text)."""
    return message.parent_id is not None and _support_text(message.text)


def _support_text(text: str) -> bool:
    return len(text) <= 300 and SUPPORT_RE.search(text) is not None


@dataclass
class _Threads:
    """What a batch's support comments need of their threads, read in two queries for all
    of them (not three or four per comment): which parents are stored, and the proposals
    made by the parents or by comments under them (with the time of each one's message), to
    which the proposals the batch makes are added as it makes them. So a comment finds the
    proposals it found when each read the database at its turn."""

    parents: set[int] = field(default_factory=set)
    by_message: dict[int, list[Proposal]] = field(default_factory=dict)
    under: dict[int, list[tuple[datetime, Proposal]]] = field(default_factory=dict)

    @classmethod
    def read(cls, repo: ParticipationRepository, comments: Sequence[Message]) -> _Threads:
        parent_ids = sorted({m.parent_id for m in comments if m.parent_id is not None})
        threads = cls()
        if parent_ids:
            threads.parents = repo.stored(parent_ids)
            for proposal, parent_id, at in repo.proposals_of_threads(parent_ids):
                threads.add(proposal, parent_id, at)
        return threads

    def add(self, proposal: Proposal, parent_id: int | None, at: datetime) -> None:
        """A proposal made by a message (under ``parent_id``, written at ``at``)."""
        if proposal.message_id is not None:
            self.by_message.setdefault(proposal.message_id, []).append(proposal)
        if parent_id is not None:
            self.under.setdefault(parent_id, []).append((at, proposal))

    def targets(self, message: Message) -> list[Proposal]:
        """The proposals a support comment supports: the one it answers, else the latest
        made beside it in the thread by a comment written before it."""
        parent_id = message.parent_id
        if parent_id is None:
            return []
        found = sorted(self.by_message.get(parent_id, ()), key=lambda p: p.id)
        if not found and parent_id in self.parents:
            found = sorted((p for at, p in self.under.get(parent_id, ())
                            if at < message.created_at), key=lambda p: p.id)[-1:]
        return found


def _support_from_comment(session: Session, message: Message, targets: Sequence[Proposal]
                          ) -> None:
    """A "поддерживаю" under a proposal, or beside it in the thread it was posted in
    (``targets``: :meth:`_Threads.targets`)."""
    for proposal in targets:
        if message.author_key and proposal.message_id != message.id:
            _vote(session, proposal, message.source, message.author_key, message.id)


# -- the path ----------------------------------------------------------------------------------


def get_proposal(session: Session, actor: Actor, proposal_id: int) -> Proposal:
    """A proposal the actor sees (the responsible body: its own)."""
    actor.require("read")
    proposal = ParticipationRepository(session).proposal(actor.scope, proposal_id)
    if proposal is None:
        raise NotFound(f"proposal {proposal_id} not found")
    return proposal


def list_proposals(session: Session, actor: Actor, *, status: str | None = None,
                   region_code: str | None = None, limit: int = 50, offset: int = 0
                   ) -> tuple[list[Proposal], int]:
    """Proposals in the actor's scope, the newest first."""
    actor.require("read")
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status must be one of: {', '.join(STATUSES)}")
    return ParticipationRepository(session).proposals(
        actor.scope, status=status, region_code=region_code, limit=limit, offset=offset)


def _may_review(actor: Actor, proposal: Proposal) -> None:
    """The center (triage) moves any proposal; the responsible body its own."""
    if actor.scope.can("triage"):
        return
    actor.require("answer")
    if actor.scope.organization_id is None or \
            actor.scope.organization_id != proposal.organization_id:
        raise Forbidden("only the responsible body or the center moves this proposal")


def _check_organization(session: Session, organization_id: int, region: str | None) -> None:
    organization = ParticipationRepository(session).organization(organization_id)
    if organization is None or organization.region_code != region:
        raise InvalidInput(f"organization {organization_id} does not exist in region {region}")


def assign(session: Session, actor: Actor, proposal_id: int, organization_id: int) -> Proposal:
    """The center names the body responsible for the review."""
    proposal = get_proposal(session, actor, proposal_id)
    actor.require("triage")
    _check_organization(session, organization_id, proposal.region_code)
    proposal.organization_id, proposal.updated_at = organization_id, utcnow()
    _event(session, actor, proposal, "assign", None, None, note=str(organization_id))
    return proposal


def change_status(session: Session, actor: Actor, proposal_id: int, status: str, *,
                  reason: str | None = None, notice: str | None = None) -> Proposal:
    """Move a proposal on; declining needs the reason (the author reads it). The author's
    notice (the reviewer's text, or the step's standard one) goes to moderation."""
    proposal = get_proposal(session, actor, proposal_id)
    _may_review(actor, proposal)
    if status not in STATUSES:
        raise InvalidInput(f"status must be one of: {', '.join(STATUSES)}")
    if status not in NEXT[proposal.status]:
        allowed = ", ".join(sorted(NEXT[proposal.status])) or "nothing"
        raise Conflict(f"a proposal that is {proposal.status} can go to {allowed}, not {status}")
    reason = (reason or "").strip()
    if status == "declined" and len(reason) < MIN_REASON:
        raise InvalidInput(f"say why the proposal is declined (at least {MIN_REASON} "
                           "characters): the author will read it")
    previous = proposal.status
    proposal.status, proposal.updated_at = status, utcnow()
    proposal.decline_reason = reason if status == "declined" else None
    body = _body_name(session, proposal)
    text = notice or NOTICES[status].format(id=proposal.id, body=body, reason=reason)
    _event(session, actor, proposal, "status", previous, status, note=reason or None,
           notice=text)
    return proposal


def record_meeting(session: Session, actor: Actor, proposal_id: int, meeting_on: date,
                   note: str, notice: str | None = None) -> ProposalEvent:
    """A meeting or follow-up with the author, and the notice about it."""
    proposal = get_proposal(session, actor, proposal_id)
    _may_review(actor, proposal)
    text = notice or NOTICES["meeting"].format(id=proposal.id, day=f"{meeting_on:%d.%m.%Y}",
                                               note=note.strip())
    return _event(session, actor, proposal, "meeting", None, None, note=note.strip(),
                  meeting_on=meeting_on, notice=text)


def _body_name(session: Session, proposal: Proposal) -> str:
    repo = ParticipationRepository(session)
    organization = repo.organization(proposal.organization_id) \
        if proposal.organization_id else None
    return organization.name if organization else "центр управления регионом"


def _event(session: Session, actor: Actor, proposal: Proposal, kind: str,
           previous: str | None, status: str | None, *, note: str | None = None,
           meeting_on: date | None = None, notice: str | None = None,
           at: datetime | None = None) -> ProposalEvent:
    answer_id = None
    if notice and proposal.case_id is not None:
        case = ParticipationRepository(session).case(proposal.case_id)
        if case is not None:
            answer_id = control.draft_notice(session, actor, case, notice,
                                             proposal=proposal.id, step=status or kind).id
    event = ParticipationRepository(session).add(ProposalEvent(
        proposal_id=proposal.id, actor_id=actor.user_id, actor=actor.label, kind=kind,
        from_status=previous, to_status=status, note=note, meeting_on=meeting_on,
        answer_id=answer_id, at=at or utcnow()))
    audit.record(session, actor, f"proposal.{kind}", "proposal", proposal.id,
                 region_code=proposal.region_code,
                 details={"from": previous, "to": status, "notice": answer_id})
    return event


def events(session: Session, actor: Actor, proposal_id: int) -> list[ProposalEvent]:
    """A proposal's path."""
    get_proposal(session, actor, proposal_id)
    return ParticipationRepository(session).proposal_events(proposal_id)


def approve_notice(session: Session, actor: Actor, answer_id: int,
                   proposal_id: int | None = None) -> Answer:
    """An operator approves a proposal's notice; it is published where the author wrote.
    Reached through a proposal (the review page), the notice must be that proposal's."""
    if proposal_id is not None:
        proposal = get_proposal(session, actor, proposal_id)
        answer = session.get(Answer, answer_id)
        if answer is None or answer.case_id != proposal.case_id:
            raise NotFound(f"notice {answer_id} of proposal {proposal_id} not found")
    return control.approve_notice(session, actor, answer_id)


# -- support and the public page ---------------------------------------------------------------


def _vote(session: Session, proposal: Proposal, source: str, voter_key: str,
          message_id: int | None = None) -> bool:
    repo = ParticipationRepository(session)
    if repo.has_vote(proposal.id, source, voter_key):
        return False
    try:
        with session.begin_nested():  # two clicks at once: the second is the same vote
            repo.add(ProposalVote(proposal_id=proposal.id, source=source,
                                  voter_key=voter_key, message_id=message_id))
    except IntegrityError:
        return False
    proposal.supporters = repo.vote_count(proposal.id)
    return True


def support(session: Session, actor: Actor, proposal_id: int, source: str, author_id: str
            ) -> SupportResult:
    """A resident's support sent by a channel of the proposal's region (the bot, the form:
    an actor with "intake"): one vote per identity. The proposal is public, but a channel of
    another region does not vote on it: that proposal does not exist for it (404)."""
    actor.require("intake")
    proposal = ParticipationRepository(session).proposal_public(proposal_id)
    if proposal is None or not actor.scope.sees_region(proposal.region_code):
        raise NotFound(f"proposal {proposal_id} not found")
    key = pseudonym(source, author_id)
    assert key is not None
    counted = _vote(session, proposal, source, key)
    return SupportResult(counted=counted, supporters=proposal.supporters)


def public_proposals(session: Session, region_code: str | None = None, limit: int = 100,
                     offset: int = 0) -> tuple[list[PublicProposal], int]:
    """Proposals and their statuses for everyone: no author, no source, data masked."""
    repo = ParticipationRepository(session)
    rows, total = repo.public_proposals(region_code, limit, offset)
    steps = repo.status_steps([p.id for p in rows])
    return [PublicProposal(
        id=p.id, region_code=p.region_code, title=_title(p.public_text), text=p.public_text,
        status=p.status, decline_reason=public_text(p.decline_reason or "") or None,
        supporters=p.supporters, created_at=p.created_at,
        steps=[PublicStep(at=at, status=s) for at, s in steps[p.id]]) for p in rows], total
