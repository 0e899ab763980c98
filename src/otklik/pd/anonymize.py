"""Removing residents' personal data from stored messages while keeping what is counted.

What stays: the message row, its time, source, channel, region, enrichment (topic, place,
sentiment, urgency), its cases and their deadlines and answers, so every dashboard, rating
and rollup counts the same afterwards. What goes: who wrote it and how to reach them (author
id, name and key, the post's URL, attachments, the raw payload), the personal data the
language stage finds in the text (replaced by placeholders), earlier texts, the Open311
reporter, precise coordinates (rounded to ~1 km), the resident's photos (rows now, files
after the commit: :class:`otklik.events.ResidentFilesReleased`).

The later domains' rows go the same way, with their message or on their own (:class:`Rows`):
a direct-line question's text is masked and its author key emptied; a proposal's text
masked (its published text is masked already); a supporter's key replaced by a key that
points to nobody (one support still counts once); a fake copy's author key emptied; a fake
suspect's text masked; a page comment's author id emptied (``from_page`` and
``needs_answer``, which the rating counts, stay); a contest application's applicant, contact
and summary removed or masked and its files deleted (scores, places and sums stay). The
register is :mod:`otklik.pd.fields`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from otklik.events import ResidentFilesReleased, announce
from otklik.models.contests import ContestApplication
from otklik.models.fakes import FakeCopy, FakeSuspect
from otklik.models.message import Message, MessageEnrichment
from otklik.models.participation import CampaignQuestion, Proposal, ProposalVote
from otklik.models.pd import PdAnonymization
from otklik.models.publics import PageComment
from otklik.pd.masking import mask_text
from otklik.pd.repository import PdRepository

#: Keys of a raw payload that carry no personal data and are kept.
_RAW_KEPT = ("place_hint",)
#: Decimals coordinates keep (2: about a kilometre).
_COORD_DECIMALS = 2


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, _COORD_DECIMALS)


def _raw(raw: dict[str, Any], reason: str) -> dict[str, Any]:
    kept: dict[str, Any] = {k: raw[k] for k in _RAW_KEPT if k in raw}
    open311 = raw.get("open311")
    if isinstance(open311, dict):
        kept["open311"] = {k: v for k, v in open311.items()
                           if k in ("service_code", "attributes")}
    kept["anonymized"] = reason
    return kept


def _message(message: Message, reason: str) -> None:
    message.author_id = None
    message.author_name = None
    message.author_key = None
    message.url = None
    message.attachments = []
    message.text = mask_text(message.text)
    message.raw = _raw(message.raw or {}, reason)
    message.lat, message.lon = _round(message.lat), _round(message.lon)


#: What an anonymised application's applicant reads.
APPLICANT = "[заявитель]"


@dataclass
class Rows:
    """Rows of the later domains whose residents' data is to be removed."""

    questions: list[CampaignQuestion] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)
    votes: list[ProposalVote] = field(default_factory=list)
    suspects: list[FakeSuspect] = field(default_factory=list)
    comments: list[PageComment] = field(default_factory=list)
    applications: list[ContestApplication] = field(default_factory=list)

    @classmethod
    def of_messages(cls, repo: PdRepository, message_ids: Sequence[int]) -> Rows:
        """The rows taken from these messages (questions, proposals, supports, suspects)."""
        return cls(questions=repo.rows_of_messages(CampaignQuestion, message_ids),
                   proposals=repo.rows_of_messages(Proposal, message_ids),
                   votes=repo.rows_of_messages(ProposalVote, message_ids),
                   suspects=repo.rows_of_messages(FakeSuspect, message_ids))

    def __len__(self) -> int:
        return (len(self.questions) + len(self.proposals) + len(self.votes)
                + len(self.suspects) + len(self.comments) + len(self.applications))


def anonymize_rows(session: Session, rows: Rows, reason: str, now: datetime) -> int:
    """Remove the residents' data of these rows (those done already are skipped); how many
    rows were done now. The files of applications are deleted after the commit."""
    repo = PdRepository(session)
    done = 0

    def todo(table: str, items: Sequence[Any]) -> list[Any]:
        nonlocal done
        seen = repo.anonymized_rows(table, [i.id for i in items])
        fresh = list({i.id: i for i in items if i.id not in seen}.values())
        repo.mark_rows(table, [i.id for i in fresh], reason, now)
        done += len(fresh)
        return fresh

    for question in todo("campaign_question", rows.questions):
        question.text = mask_text(question.text)
        question.author_key = None
    for proposal in todo("proposal", rows.proposals):
        proposal.text = mask_text(proposal.text)
    for vote in todo("proposal_vote", rows.votes):
        vote.voter_key = f"erased-{vote.id}"  # unique per proposal, points to nobody
    for suspect in todo("fake_suspect", rows.suspects):
        suspect.text = mask_text(suspect.text)
    for comment in rows.comments:
        if comment.author_id is not None:
            comment.author_id = None
            done += 1
    applications = todo("contest_application", rows.applications)
    for application in applications:
        application.applicant = APPLICANT
        application.contact = ""
        application.summary = mask_text(application.summary)
    files = repo.attachments_delete(repo.attachments_of([a.id for a in applications]))
    if files:
        announce(session, ResidentFilesReleased(attachments=files))
    session.flush()
    return done


def anonymize(session: Session, message_ids: Sequence[int], reason: str, now: datetime,
              *, request_id: int | None = None) -> int:
    """Anonymise these messages (those done already are skipped); how many were done now."""
    repo = PdRepository(session)
    todo = [i for i in message_ids if i not in repo.anonymized(message_ids)]
    if not todo:
        return 0
    messages = repo.messages(todo)
    for message in messages:
        _message(message, reason)
        enrichment = session.get(MessageEnrichment, message.id)
        if enrichment is not None and enrichment.result.get("pii"):
            # The spans point into the text as it was; the text now holds placeholders.
            enrichment.result = {**enrichment.result, "pii": []}
    repo.drop_revisions(todo)
    for request in repo.open311_of(todo):
        request.reporter = {}
        request.address_string = (mask_text(request.address_string)
                                  if request.address_string else None)
        request.media_url = None
        request.lat, request.lon = _round(request.lat), _round(request.lon)
    keys = repo.photos_delete(repo.photos_of(todo))
    if keys:
        announce(session, ResidentFilesReleased(photo_keys=keys))
    for copy in repo.rows_of_messages(FakeCopy, todo):
        copy.author_key = None
    anonymize_rows(session, Rows.of_messages(repo, todo), reason, now)
    cases = repo.cases_of(todo)
    for case in cases:
        case.title = mask_text(case.title)
    for answer in repo.answers_of([c.id for c in cases]):
        answer.text = mask_text(answer.text)
    for consent in repo.consents_of(todo):
        consent.author_key = None
    repo.mark([PdAnonymization(message_id=m.id, reason=reason, at=now, request_id=request_id)
               for m in messages])
    return len(messages)
