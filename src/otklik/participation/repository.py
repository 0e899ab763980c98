"""Every query of participation: direct lines, their questions and promises, proposals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from otklik.accounts.scope import Scope
from otklik.models.case import Case, CaseMessage
from otklik.models.message import Message, MessageEnrichment
from otklik.models.organization import Organization
from otklik.models.participation import (
    Campaign,
    CampaignQuestion,
    Promise,
    Proposal,
    ProposalEvent,
    ProposalVote,
)
from otklik.models.territory import Territory


@dataclass(frozen=True, slots=True)
class MessageHead:
    """The columns of an enriched message :meth:`ParticipationRepository.message_heads`
    reads."""

    id: int
    region_code: str | None  # the enrichment's, else the message's
    kind: str | None
    relevant: bool
    authored: bool
    parent_id: int | None
    text: str


class ParticipationRepository:
    """Direct lines and proposals within a scope."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: Any) -> Any:
        """Insert a row and get its id."""
        self.session.add(row)
        self.session.flush()
        return row

    # -- campaigns ---------------------------------------------------------------------------

    def campaign(self, scope: Scope, campaign_id: int) -> Campaign | None:
        """A direct line the scope sees (a whole region's: not for a narrowed scope)."""
        return self.session.scalar(select(Campaign).where(
            Campaign.id == campaign_id, scope.region_wide_filter(Campaign.region_code)))

    def campaigns(self, scope: Scope, region_code: str | None = None, limit: int = 50,
                  offset: int = 0) -> tuple[list[Campaign], int]:
        """Direct lines, the latest air date first."""
        where: list[ColumnElement[bool]] = [scope.region_wide_filter(Campaign.region_code)]
        if region_code:
            where.append(Campaign.region_code == region_code)
        total = self.session.scalar(select(func.count(Campaign.id)).where(*where)) or 0
        rows = self.session.scalars(select(Campaign).where(*where).order_by(
            Campaign.air_at.desc(), Campaign.id.desc()).limit(limit).offset(offset)).all()
        return list(rows), total

    def open_campaigns(self, region_codes: Sequence[str]) -> list[Campaign]:
        """The unfinished direct lines of these regions (they still take questions)."""
        if not region_codes:
            return []
        return list(self.session.scalars(select(Campaign).where(
            Campaign.region_code.in_(sorted(set(region_codes))),
            Campaign.finished_at.is_(None))))

    def question_counts(self, campaign_ids: Sequence[int]) -> dict[int, int]:
        """Questions per campaign (near-duplicates included)."""
        if not campaign_ids:
            return {}
        rows = self.session.execute(select(CampaignQuestion.campaign_id, func.count()).where(
            CampaignQuestion.campaign_id.in_(list(campaign_ids)))
            .group_by(CampaignQuestion.campaign_id))
        return {int(c): int(n) for c, n in rows}

    # -- questions ---------------------------------------------------------------------------

    def question(self, question_id: int) -> CampaignQuestion | None:
        """A question by id (services check its campaign's scope)."""
        return self.session.get(CampaignQuestion, question_id)

    def questions(self, campaign_id: int, *, originals_only: bool = False,
                  picked_only: bool = False) -> list[CampaignQuestion]:
        """A campaign's questions, oldest first."""
        query = select(CampaignQuestion).where(CampaignQuestion.campaign_id == campaign_id)
        if originals_only:
            query = query.where(CampaignQuestion.duplicate_of_id.is_(None))
        if picked_only:
            query = query.where(CampaignQuestion.picked.is_(True))
        return list(self.session.scalars(query.order_by(CampaignQuestion.received_at,
                                                        CampaignQuestion.id)))

    def question_of_message(self, campaign_id: int, message_id: int) -> CampaignQuestion | None:
        """The question a message already became in this campaign."""
        return self.session.scalar(select(CampaignQuestion).where(
            CampaignQuestion.campaign_id == campaign_id,
            CampaignQuestion.message_id == message_id))

    def asked(self, campaign_ids: Sequence[int], message_ids: Sequence[int]
              ) -> set[tuple[int, int]]:
        """(campaign id, message id) of the questions these lines made of these messages."""
        if not campaign_ids or not message_ids:
            return set()
        return {(int(c), int(m)) for c, m in self.session.execute(
            select(CampaignQuestion.campaign_id, CampaignQuestion.message_id).where(
                CampaignQuestion.campaign_id.in_(list(campaign_ids)),
                CampaignQuestion.message_id.in_(list(message_ids)))) if m is not None}

    def question_by_external(self, campaign_id: int, external_id: str
                             ) -> CampaignQuestion | None:
        """The question an imported row already became."""
        return self.session.scalar(select(CampaignQuestion).where(
            CampaignQuestion.campaign_id == campaign_id,
            CampaignQuestion.external_id == external_id))

    def dedup_candidates(self, campaign_id: int, topic: str | None
                         ) -> list[tuple[int, str, str | None]]:
        """(id, signature, author key) of a campaign's original questions on a topic."""
        rows = self.session.execute(select(
            CampaignQuestion.id, CampaignQuestion.signature, CampaignQuestion.author_key).where(
            CampaignQuestion.campaign_id == campaign_id,
            CampaignQuestion.duplicate_of_id.is_(None),
            CampaignQuestion.signature.is_not(None),
            CampaignQuestion.topic.is_(None) if topic is None
            else CampaignQuestion.topic == topic).order_by(CampaignQuestion.id))
        return [(int(i), str(s), a) for i, s, a in rows]

    def message_heads(self, message_ids: Sequence[int]) -> list[MessageHead]:
        """What decides whether a message can be a question or a proposal or support one:
        a few columns (not the raw form or the stored result), of those enriched and not
        deleted."""
        if not message_ids:
            return []
        e = MessageEnrichment
        rows = self.session.execute(
            select(Message.id, func.coalesce(e.region_code, Message.region_code), e.kind,
                   e.relevant, Message.author_key.is_not(None), Message.parent_id,
                   Message.text)
            .join(e, e.message_id == Message.id)
            .where(Message.id.in_(list(message_ids)), Message.deleted_at.is_(None)))
        return [MessageHead(int(i), region, kind, bool(relevant), bool(authored), parent, text)
                for i, region, kind, relevant, authored, parent, text in rows]

    def message_views(self, message_ids: Sequence[int]
                      ) -> list[tuple[Message, MessageEnrichment]]:
        """Enriched messages, oldest first."""
        if not message_ids:
            return []
        rows = self.session.execute(
            select(Message, MessageEnrichment)
            .join(MessageEnrichment, MessageEnrichment.message_id == Message.id)
            .where(Message.id.in_(list(message_ids)), Message.deleted_at.is_(None))
            .order_by(Message.created_at, Message.id))
        return [(m, e) for m, e in rows]

    def message(self, message_id: int) -> Message | None:
        """A stored message."""
        return self.session.get(Message, message_id)

    def enrichment(self, message_id: int) -> MessageEnrichment | None:
        """A message's enrichment."""
        return self.session.get(MessageEnrichment, message_id)

    def case_of_message(self, message_id: int) -> Case | None:
        """The case a message belongs to."""
        return self.session.scalar(select(Case).join(
            CaseMessage, CaseMessage.case_id == Case.id).where(
            CaseMessage.message_id == message_id))

    def messages_in_window(self, region_code: str, start: datetime, end: datetime
                           ) -> list[int]:
        """Ids of a region's enriched messages received in a time window."""
        return list(self.session.scalars(
            select(Message.id).join(MessageEnrichment, MessageEnrichment.message_id == Message.id)
            .where(Message.region_code == region_code, Message.created_at >= start,
                   Message.created_at < end).order_by(Message.created_at, Message.id)))

    def case(self, case_id: int) -> Case | None:
        """A case by id."""
        return self.session.get(Case, case_id)

    def territory_names(self, ids: Sequence[int]) -> dict[int, str]:
        """Names of territories."""
        if not ids:
            return {}
        return {int(i): str(n) for i, n in self.session.execute(select(
            Territory.id, Territory.name).where(Territory.id.in_(sorted(set(ids)))))}

    def municipality_by_name(self, region_code: str, name: str) -> int | None:
        """A municipality of the region whose name contains ``name`` (the shortest such)."""
        return self.session.scalar(select(Territory.id).where(
            Territory.region_code == region_code, Territory.level == "municipality",
            Territory.name.ilike(f"%{name.strip()}%"))
            # "Мичуринск": the town's okrug before the district named after it
            .order_by(func.length(Territory.name), Territory.id).limit(1))

    def organization(self, organization_id: int) -> Organization | None:
        """An organization."""
        return self.session.get(Organization, organization_id)

    def organization_names(self, ids: Sequence[int]) -> dict[int, str]:
        """Names of organizations."""
        if not ids:
            return {}
        return {int(i): str(n) for i, n in self.session.execute(select(
            Organization.id, Organization.name).where(Organization.id.in_(sorted(set(ids)))))}

    def organizations(self, region_code: str) -> list[Organization]:
        """A region's active organizations by name."""
        return list(self.session.scalars(select(Organization).where(
            Organization.region_code == region_code, Organization.is_active.is_(True))
            .order_by(Organization.name)))

    # -- promises ----------------------------------------------------------------------------

    def promise(self, promise_id: int) -> Promise | None:
        """A promise by id (services check its campaign's scope)."""
        return self.session.get(Promise, promise_id)

    def promises(self, campaign_id: int) -> list[Promise]:
        """A campaign's promises by deadline."""
        return list(self.session.scalars(select(Promise).where(
            Promise.campaign_id == campaign_id).order_by(Promise.due_at, Promise.id)))

    def promise_of_case(self, case_id: int) -> Promise | None:
        """The promise a control case holds."""
        return self.session.scalar(select(Promise).where(Promise.case_id == case_id))

    # -- proposals ---------------------------------------------------------------------------

    def proposal(self, scope: Scope, proposal_id: int) -> Proposal | None:
        """A proposal the scope sees."""
        return self.session.scalar(select(Proposal).where(
            Proposal.id == proposal_id, scope.proposal_filter()))

    def proposal_of_message(self, message_id: int) -> Proposal | None:
        """The proposal a message became."""
        return self.session.scalar(select(Proposal).where(Proposal.message_id == message_id))

    def proposed(self, message_ids: Sequence[int]) -> set[int]:
        """Those of these messages that made a proposal."""
        if not message_ids:
            return set()
        return {int(i) for i in self.session.scalars(select(Proposal.message_id).where(
            Proposal.message_id.in_(list(message_ids)))) if i is not None}

    def proposals(self, scope: Scope, *, status: str | None = None,
                  region_code: str | None = None, limit: int = 50, offset: int = 0
                  ) -> tuple[list[Proposal], int]:
        """Proposals in a scope, the newest first."""
        where = [scope.proposal_filter()]
        if status:
            where.append(Proposal.status == status)
        if region_code:
            where.append(Proposal.region_code == region_code)
        total = self.session.scalar(select(func.count(Proposal.id)).where(*where)) or 0
        rows = self.session.scalars(select(Proposal).where(*where).order_by(
            Proposal.created_at.desc(), Proposal.id.desc()).limit(limit).offset(offset)).all()
        return list(rows), total

    def proposal_public(self, proposal_id: int) -> Proposal | None:
        """A proposal by id, for the public page and residents' support."""
        return self.session.get(Proposal, proposal_id)

    def public_proposals(self, region_code: str | None, limit: int, offset: int
                         ) -> tuple[list[Proposal], int]:
        """Every proposal (optionally of a region), the newest first."""
        where = [Proposal.region_code == region_code] if region_code else []
        total = self.session.scalar(select(func.count(Proposal.id)).where(*where)) or 0
        rows = self.session.scalars(select(Proposal).where(*where).order_by(
            Proposal.created_at.desc(), Proposal.id.desc()).limit(limit).offset(offset)).all()
        return list(rows), total

    def stored(self, message_ids: Sequence[int]) -> set[int]:
        """Those of these messages that are stored (deleted at their source or not)."""
        if not message_ids:
            return set()
        return {int(i) for i in self.session.scalars(select(Message.id).where(
            Message.id.in_(list(message_ids))))}

    def proposals_of_threads(self, parent_ids: Sequence[int]
                             ) -> list[tuple[Proposal, int | None, datetime]]:
        """Proposals made by these messages or by the comments under them, by id, each with
        its message's parent and time."""
        if not parent_ids:
            return []
        ids = list(parent_ids)
        rows = self.session.execute(
            select(Proposal, Message.parent_id, Message.created_at)
            .join(Message, Message.id == Proposal.message_id)
            .where(or_(Proposal.message_id.in_(ids), Message.parent_id.in_(ids)))
            .order_by(Proposal.id))
        return [(p, parent, at) for p, parent, at in rows]

    def proposal_events(self, proposal_id: int) -> list[ProposalEvent]:
        """A proposal's path, oldest first."""
        return list(self.session.scalars(select(ProposalEvent).where(
            ProposalEvent.proposal_id == proposal_id).order_by(ProposalEvent.at,
                                                                ProposalEvent.id)))

    def status_steps(self, proposal_ids: Sequence[int]) -> dict[int, list[tuple[datetime, str]]]:
        """(when, status) of each proposal's status changes, oldest first."""
        out: dict[int, list[tuple[datetime, str]]] = {i: [] for i in proposal_ids}
        if proposal_ids:
            for pid, at, status in self.session.execute(select(
                    ProposalEvent.proposal_id, ProposalEvent.at, ProposalEvent.to_status)
                    .where(ProposalEvent.proposal_id.in_(list(proposal_ids)),
                           ProposalEvent.kind == "status")
                    .order_by(ProposalEvent.at, ProposalEvent.id)):
                out[int(pid)].append((at, str(status)))
        return out

    def has_vote(self, proposal_id: int, source: str, voter_key: str) -> bool:
        """True when this identity supported the proposal already."""
        return self.session.scalar(select(ProposalVote.id).where(
            ProposalVote.proposal_id == proposal_id, ProposalVote.source == source,
            ProposalVote.voter_key == voter_key).limit(1)) is not None

    def vote_count(self, proposal_id: int) -> int:
        """Votes of a proposal."""
        return self.session.scalar(select(func.count(ProposalVote.id)).where(
            ProposalVote.proposal_id == proposal_id)) or 0

    # -- counts ------------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Everything participation holds, for ``otklik stats``."""
        def count(column: Any) -> int:
            return int(self.session.scalar(select(func.count(column))) or 0)

        return {"campaigns": count(Campaign.id), "campaign_questions": count(CampaignQuestion.id),
                "promises": count(Promise.id), "proposals": count(Proposal.id)}
