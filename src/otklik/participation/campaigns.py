"""The governor's direct line (прямая линия): a campaign gathers questions from every channel,
groups them, proposes the representative ones with reasons for an editor to confirm, records
what was answered on air, and sends what was not to executors as cases на контроле.

Questions come from messages (a comment under an announcement post, a mention of the line,
the bot or the web form sending the campaign's id) and from the hotline's list (CSV/XLSX).
A question after the window is kept and marked late; after the air, only what the bot or
the form sends for the line is (a mention then is a reaction). Services never commit.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.cases import control
from otklik.channels.files import read_file
from otklik.channels.schemas import Source
from otklik.config import get_settings
from otklik.db.base import utcnow
from otklik.errors import Conflict, InvalidInput, NotFound
from otklik.language.taxonomy_service import active_taxonomy
from otklik.models.case import CaseStatus
from otklik.models.message import Message, MessageEnrichment
from otklik.models.participation import Campaign, CampaignQuestion
from otklik.nlp.dedup import signature
from otklik.participation import grouping
from otklik.participation.repository import ParticipationRepository
from otklik.participation.schemas import (
    CampaignCreate,
    CampaignRead,
    CountRead,
    GroupRead,
    ImportReport,
    PickRead,
    RowErrorRead,
)

#: A message of the region in the window that says one of these is a question of the line.
DEFAULT_KEYWORDS = ("прямая линия", "прямой линии", "прямую линию", "прямой линией")
#: Kinds of messages that ask something (a "спасибо" under the announcement is no question).
ASKING_KINDS = frozenset({"question", "complaint", "proposal"})
ANSWERED = frozenset({CaseStatus.answered, CaseStatus.closed})


def pseudonym(source: str, author_id: str | None) -> str | None:
    """The keyed pseudonym of a channel identity: the same as intake's ``author_key`` (HMAC
    of "source:author id" with the secret key), so a vote or a question from a file and a
    message of the same person meet, while the id itself is never stored."""
    if not author_id:
        return None
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"{source}:{author_id}".encode(), hashlib.sha256).hexdigest()[:32]


# -- campaigns ---------------------------------------------------------------------------------


def phase(campaign: Campaign, now: datetime | None = None) -> str:
    """collecting, closed (waiting for the air), on_air (answers and promises), finished."""
    now = now or utcnow()
    if campaign.finished_at is not None:
        return "finished"
    if now < campaign.closes_at:
        return "collecting"
    return "closed" if now < campaign.air_at else "on_air"


def read(session: Session, campaign: Campaign, questions: int | None = None) -> CampaignRead:
    """A campaign with its phase and count of questions."""
    if questions is None:
        questions = ParticipationRepository(session).question_counts([campaign.id]).get(
            campaign.id, 0)
    out = CampaignRead.model_validate(campaign)
    return out.model_copy(update={"phase": phase(campaign), "questions": questions})


def _can_edit(actor: Actor, region_code: str) -> None:
    actor.require("triage")
    if not actor.scope.sees_region_wide(region_code):
        raise NotFound(f"region {region_code} is outside your scope")


def create_campaign(session: Session, actor: Actor, data: CampaignCreate) -> Campaign:
    """Open a direct line of a region."""
    _can_edit(actor, data.region_code)
    campaign = ParticipationRepository(session).add(Campaign(
        region_code=data.region_code, title=data.title.strip(), opens_at=data.opens_at,
        closes_at=data.closes_at, air_at=data.air_at,
        announcement_urls=[_url(u) for u in data.announcement_urls if u.strip()],
        keywords=[k.strip().lower() for k in (data.keywords or DEFAULT_KEYWORDS)],
        created_by_id=actor.user_id))
    audit.record(session, actor, "campaign.create", "campaign", campaign.id,
                 region_code=campaign.region_code, details={"title": campaign.title})
    return campaign


def get_campaign(session: Session, actor: Actor, campaign_id: int) -> Campaign:
    """A direct line the actor sees; outside the scope it does not exist."""
    actor.require("read")
    campaign = ParticipationRepository(session).campaign(actor.scope, campaign_id)
    if campaign is None:
        raise NotFound(f"campaign {campaign_id} not found")
    return campaign


def list_campaigns(session: Session, actor: Actor, region_code: str | None = None,
                   limit: int = 50, offset: int = 0) -> tuple[list[CampaignRead], int]:
    """Direct lines in the actor's scope, the latest air first."""
    actor.require("read")
    repo = ParticipationRepository(session)
    rows, total = repo.campaigns(actor.scope, region_code, limit, offset)
    counts = repo.question_counts([c.id for c in rows])
    return [read(session, c, counts.get(c.id, 0)) for c in rows], total


def _editable(session: Session, actor: Actor, campaign_id: int) -> Campaign:
    campaign = get_campaign(session, actor, campaign_id)
    _can_edit(actor, campaign.region_code)
    return campaign


def _url(value: str) -> str:
    return value.strip().rstrip("/").removeprefix("https://").removeprefix("http://") \
        .removeprefix("www.").lower()


# -- questions ---------------------------------------------------------------------------------


def _channel(session: Session, campaign: Campaign, message: Message,
             enrichment: MessageEnrichment) -> str | None:
    """How a message is a question of this line, or None when it is not."""
    raw = message.raw or {}
    if str(raw.get("campaign_id", "")) == str(campaign.id):
        return "form" if message.source == Source.web.value else "bot"
    if message.created_at >= campaign.air_at:
        return None  # after the air, a mention or a comment is a reaction, not a question
    asks = enrichment.relevant or enrichment.kind in ASKING_KINDS
    if message.parent_id is not None and campaign.announcement_urls:
        parent = ParticipationRepository(session).message(message.parent_id)
        if parent is not None and parent.url and _url(parent.url) in campaign.announcement_urls:
            return "comment" if asks else None
    if message.url and _url(message.url) in campaign.announcement_urls:
        return None  # the announcement itself
    text = message.text.lower()
    if asks and any(k in text for k in campaign.keywords):
        return "mention"
    return None


def collect_messages(session: Session, message_ids: Sequence[int]) -> int:
    """Make questions of the open direct lines from enriched messages; idempotent (a
    message becomes at most one question per line). Returns how many were added."""
    views = ParticipationRepository(session).message_views(message_ids)
    return collect_views(session, views, lines_for(session, views))


def lines_for(session: Session, views: Sequence[tuple[Message, MessageEnrichment]]
              ) -> list[Campaign]:
    """The open direct lines of these messages' regions (one query)."""
    return ParticipationRepository(session).open_campaigns(
        [c for m, e in views if (c := e.region_code or m.region_code)])


def collect_views(session: Session, views: Sequence[tuple[Message, MessageEnrichment]],
                  campaigns: Sequence[Campaign]) -> int:
    """:func:`collect_messages` over messages already read, for these open lines."""
    if not campaigns:
        return 0
    repo = ParticipationRepository(session)
    # which messages these lines took already: one query (a message is one question a line)
    asked = repo.asked([c.id for c in campaigns], [m.id for m, _ in views])
    added = 0
    for message, enrichment in views:
        region = enrichment.region_code or message.region_code
        for campaign in campaigns:
            if campaign.region_code != region or message.created_at < campaign.opens_at:
                continue
            channel = _channel(session, campaign, message, enrichment)
            if channel is None or (campaign.id, message.id) in asked:
                continue
            _from_message(session, campaign, message, enrichment, channel)
            added += 1
    return added


def collect_window(session: Session, actor: Actor, campaign_id: int) -> int:
    """Look through the region's stored messages since the window opened (a line created
    after its questions arrived, or a rescan); returns how many questions were added."""
    campaign = _editable(session, actor, campaign_id)
    ids = ParticipationRepository(session).messages_in_window(
        campaign.region_code, campaign.opens_at, campaign.finished_at or utcnow())
    added = 0
    for start in range(0, len(ids), 500):
        added += collect_messages(session, ids[start:start + 500])
    return added


def _from_message(session: Session, campaign: Campaign, message: Message,
                  enrichment: MessageEnrichment, channel: str) -> CampaignQuestion:
    repo = ParticipationRepository(session)
    case = repo.case_of_message(message.id)
    original = None
    if enrichment.duplicate_of_id is not None:
        copy_of = repo.question_of_message(campaign.id, enrichment.duplicate_of_id)
        original = copy_of.duplicate_of_id or copy_of.id if copy_of else None
    return add_question(
        session, campaign, text=message.text, channel=channel, source=message.source,
        received_at=message.created_at, message_id=message.id, author_key=message.author_key,
        topic=enrichment.topic, municipality_id=enrichment.municipality_id,
        settlement_id=enrichment.settlement_id, urgency=enrichment.urgency or "normal",
        case_id=case.id if case else None, problem_id=case.problem_id if case else None,
        duplicate_of=original)


def add_question(session: Session, campaign: Campaign, *, text: str, channel: str,
                 received_at: datetime, source: str | None = None,
                 message_id: int | None = None, external_id: str | None = None,
                 author_key: str | None = None, topic: str | None = None,
                 municipality_id: int | None = None, settlement_id: int | None = None,
                 urgency: str = "normal", case_id: int | None = None,
                 problem_id: int | None = None, duplicate_of: int | None = None
                 ) -> CampaignQuestion:
    """Store a question; a near-copy of an earlier one on the topic is kept as its duplicate
    and counts as a supporter of it (unless it is the same person asking again)."""
    repo = ParticipationRepository(session)
    sig = signature(text) or None
    candidates = repo.dedup_candidates(campaign.id, topic) if sig else []
    if duplicate_of is None and sig:
        duplicate_of = grouping.near_duplicate_of(sig, [(i, s) for i, s, _ in candidates])
    question = repo.add(CampaignQuestion(
        campaign_id=campaign.id, message_id=message_id, external_id=external_id,
        channel=channel, source=source, text=text.strip(), author_key=author_key,
        received_at=received_at, late=received_at > campaign.closes_at, topic=topic,
        municipality_id=municipality_id, settlement_id=settlement_id, problem_id=problem_id,
        case_id=case_id, urgency=urgency, signature=sig, duplicate_of_id=duplicate_of,
        supporters=0, status="new"))
    if duplicate_of is not None:
        original = repo.question(duplicate_of)
        if original is not None and (author_key is None or original.author_key != author_key):
            original.supporters += 1
    return question


_TOPIC_COLUMNS = ("topic", "тема", "рубрика")
_PLACE_COLUMNS = ("municipality", "район", "муниципалитет", "территория", "город")
_URGENCY_COLUMNS = ("urgency", "срочность")


def _column(raw: dict[str, Any], names: Sequence[str]) -> str | None:
    lower = {str(k).strip().lower(): v for k, v in raw.items()}
    for name in names:
        value = lower.get(name)
        if value not in (None, ""):
            return str(value).strip()
    return None


def import_hotline(session: Session, actor: Actor, campaign_id: int, path: str | Path,
                   fmt: str | None = None) -> ImportReport:
    """Import the hotline's list (CSV or XLSX: text and date, optionally topic, district,
    urgency); each row is reported; importing the same list again adds nothing."""
    campaign = _editable(session, actor, campaign_id)
    taxonomy = active_taxonomy(session)
    names = {taxonomy.name(c).lower(): c for c in taxonomy.topic_codes}
    repo = ParticipationRepository(session)
    report = ImportReport()
    try:
        rows = list(read_file(path, format=fmt, source=Source.import_, channel="hotline",
                              region=campaign.region_code))
    except Exception as exc:  # a broken workbook or zip raises the reader's own errors
        raise InvalidInput(f"the list cannot be read: {exc}"[:500]) from exc
    for row in rows:
        report.rows += 1
        if row.message is None:
            report.errors.append(RowErrorRead(row=row.row_number, reason=row.error or "?"))
            continue
        item = row.message
        external = f"hotline:{item.source_id}"
        if repo.question_by_external(campaign.id, external) is not None:
            report.errors.append(RowErrorRead(row=row.row_number,
                                              reason="уже импортирована"))
            continue
        topic = _column(item.raw, _TOPIC_COLUMNS)
        if topic and topic not in taxonomy.topic_codes:
            topic = names.get(topic.lower())
        place = _column(item.raw, _PLACE_COLUMNS)
        urgency = (_column(item.raw, _URGENCY_COLUMNS) or "normal").lower()
        question = add_question(
            session, campaign, text=item.text, channel="hotline", source="hotline",
            received_at=item.created_at, external_id=external,
            author_key=pseudonym("hotline", item.author_id), topic=topic,
            municipality_id=repo.municipality_by_name(campaign.region_code, place)
            if place else None,
            urgency=urgency if urgency in ("high", "critical") else "normal")
        report.added += 1
        report.late += question.late
        report.duplicates += question.duplicate_of_id is not None
    audit.record(session, actor, "campaign.import", "campaign", campaign.id,
                 region_code=campaign.region_code,
                 details={"rows": report.rows, "added": report.added,
                          "errors": len(report.errors)})
    return report


def questions(session: Session, actor: Actor, campaign_id: int, *,
              originals_only: bool = False, picked_only: bool = False,
              group: str | None = None) -> list[CampaignQuestion]:
    """A campaign's questions (``group``: those of the group with that key)."""
    get_campaign(session, actor, campaign_id)
    rows = list(ParticipationRepository(session).questions(
        campaign_id, originals_only=originals_only, picked_only=picked_only))
    if group is not None:
        members = {i for g in groups(session, actor, campaign_id) if g.key == group
                   for i in g.question_ids}
        rows = [q for q in rows if q.id in members]
    return rows


def get_question(session: Session, actor: Actor, question_id: int) -> CampaignQuestion:
    """A question of a campaign the actor sees."""
    question = ParticipationRepository(session).question(question_id)
    if question is None:
        raise NotFound(f"question {question_id} not found")
    get_campaign(session, actor, question.campaign_id)
    return question


# -- grouping and picks ------------------------------------------------------------------------


def _views(session: Session, rows: Sequence[CampaignQuestion]) -> list[grouping.QuestionView]:
    repo = ParticipationRepository(session)
    answered: set[int] = set()
    for case_id in {q.case_id for q in rows if q.case_id is not None}:
        case = repo.case(case_id)
        if case is not None and (case.status in ANSWERED or case.answered_at is not None):
            answered.add(case_id)
    return [grouping.QuestionView(
        id=q.id, text=q.text, topic=q.topic, municipality_id=q.municipality_id,
        problem_id=q.problem_id, supporters=q.supporters, urgency=q.urgency,
        answered_elsewhere=q.case_id in answered, signature=q.signature) for q in rows]


def groups(session: Session, actor: Actor, campaign_id: int) -> list[GroupRead]:
    """The campaign's questions grouped by problem, else topic and municipality."""
    originals = questions(session, actor, campaign_id, originals_only=True)
    found = grouping.group_questions(_views(session, originals))
    repo = ParticipationRepository(session)
    places = repo.territory_names([g.municipality_id for g in found if g.municipality_id])
    taxonomy = active_taxonomy(session)
    return [GroupRead(
        key=g.key, topic=g.topic,
        topic_name=taxonomy.name(g.topic) if g.topic and g.topic in taxonomy else None,
        municipality_id=g.municipality_id,
        municipality=places.get(g.municipality_id) if g.municipality_id else None,
        problem_id=g.problem_id, questions=g.count, supporters=g.supporters,
        residents=g.weight, question_ids=[q.id for q in g.questions]) for g in found]


def propose_picks(session: Session, actor: Actor, campaign_id: int, limit: int = 10
                  ) -> list[PickRead]:
    """The system's representative questions with reasons; confirmed picks stay, the
    unconfirmed are proposed afresh."""
    campaign = _editable(session, actor, campaign_id)
    originals = ParticipationRepository(session).questions(campaign.id, originals_only=True)
    for q in originals:
        if not q.confirmed:
            q.picked, q.pick_reasons, q.pick_note = False, [], None
    by_id = {q.id: q for q in originals}
    picks = grouping.pick_representatives(
        grouping.group_questions(_views(session, originals)), limit)
    for pick in picks:
        question = by_id[pick.question_id]
        question.picked = True
        question.pick_reasons, question.pick_note = list(pick.reasons), pick.note
    audit.record(session, actor, "campaign.pick", "campaign", campaign.id,
                 region_code=campaign.region_code, details={"picked": len(picks)})
    return [PickRead(question_id=p.question_id, reasons=list(p.reasons), note=p.note)
            for p in picks]


def confirm(session: Session, actor: Actor, question_id: int, confirmed: bool = True
            ) -> CampaignQuestion:
    """An editor confirms a representative question (or one of their own choice), or
    withdraws it."""
    question = get_question(session, actor, question_id)
    campaign = _editable(session, actor, question.campaign_id)
    if question.duplicate_of_id is not None:
        raise InvalidInput(f"question {question.id} repeats question {question.duplicate_of_id}:"
                           " confirm that one")
    question.confirmed = confirmed
    question.confirmed_by_id = actor.user_id if confirmed else None
    if confirmed and not question.picked:
        question.picked, question.pick_reasons = True, ["editor"]
        question.pick_note = "выбран редактором"
    audit.record(session, actor, "campaign.confirm", "campaign_question", question.id,
                 region_code=campaign.region_code, details={"confirmed": confirmed})
    return question


# -- the air and after -------------------------------------------------------------------------


def record_answer(session: Session, actor: Actor, question_id: int, text: str
                  ) -> CampaignQuestion:
    """The answer given on air to a question."""
    question = get_question(session, actor, question_id)
    campaign = _editable(session, actor, question.campaign_id)
    if utcnow() < campaign.air_at:
        raise Conflict("the line has not been on air yet: answers are recorded from the air")
    question.answer_text, question.answered_at = text.strip(), utcnow()
    if question.status == "new":
        question.status = "answered"
    audit.record(session, actor, "campaign.answer", "campaign_question", question.id,
                 region_code=campaign.region_code)
    return question


def finish(session: Session, actor: Actor, campaign_id: int) -> int:
    """Close the line after the air: every question neither answered nor promised goes to
    an executor as a case на контроле (one already in an open case stays there). Returns
    the cases opened."""
    campaign = _editable(session, actor, campaign_id)
    if campaign.finished_at is not None:
        raise Conflict(f"campaign {campaign.id} is finished already")
    if utcnow() < campaign.air_at:
        raise Conflict("the line has not been on air yet")
    repo = ParticipationRepository(session)
    opened = 0
    for question in repo.questions(campaign.id, originals_only=True):
        if question.status != "new":
            continue
        case = repo.case(question.case_id) if question.case_id else None
        if case is not None and case.merged_into_id is None and case.status != \
                CaseStatus.rejected:
            question.status = "in_case"
            continue
        control_case = control.open_control_case(
            session, actor, region_code=campaign.region_code,
            title=f"На контроле (прямая линия): {' '.join(question.text.split())[:240]}",
            kind="control", received_at=question.received_at, topic=question.topic,
            municipality_id=question.municipality_id, settlement_id=question.settlement_id,
            urgency=question.urgency, campaign=campaign.id, question=question.id)
        question.control_case_id, question.status = control_case.id, "control"
        opened += 1
    campaign.finished_at = utcnow()
    audit.record(session, actor, "campaign.finish", "campaign", campaign.id,
                 region_code=campaign.region_code, details={"control_cases": opened})
    return opened


def top_counts(session: Session, rows: Sequence[CampaignQuestion], limit: int = 5
               ) -> tuple[list[CountRead], list[CountRead]]:
    """The most asked topics and places (residents: questions and their repeats)."""
    taxonomy = active_taxonomy(session)
    topics = Counter(q.topic for q in rows if q.topic)
    places = Counter(q.municipality_id for q in rows if q.municipality_id)
    names = ParticipationRepository(session).territory_names(list(places))
    return ([CountRead(key=t, name=taxonomy.name(t) if t in taxonomy else t, count=n)
             for t, n in topics.most_common(limit)],
            [CountRead(key=str(p), name=names.get(p, str(p)), count=n)
             for p, n in places.most_common(limit)])
