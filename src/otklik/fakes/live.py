"""Live matching: each enriched message compared with the registry as it arrives.

The registry is held in memory per region (:class:`~otklik.fakes.matcher.FakeMatcher`) and
rebuilt only when its version (``fake_registry_state``, raised by every change of a claim,
a verdict or a region) moved. A match links the message as a copy with its score and reason;
a refutation or denial that quotes the fake is linked as a refutation seen in the wild (not
spread). Linking is idempotent: a second run over the same messages adds nothing.

A message that matches nothing may be a new fake: spreading fast across unrelated authors
(its near-copies, by the enrichment's duplicate links), alarming (:mod:`otklik.fakes.alarm`,
or the enrichment's urgency) and citing no official source. It is proposed for checking with
those reasons (``fake_suspect``).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from otklik.db.base import utcnow
from otklik.fakes.alarm import alarm_signs, cites_official_source
from otklik.fakes.matcher import Fake as Claim
from otklik.fakes.matcher import FakeMatcher, Match, words
from otklik.fakes.repository import FakeRepository
from otklik.models.fakes import FakeCopy, FakeSuspect
from otklik.models.message import Message, MessageEnrichment

log = logging.getLogger(__name__)

#: Distinct authors of a message's near-copies that make it "spreading fast".
MIN_AUTHORS = 3
#: The window the spread is counted in.
SPREAD_WINDOW = timedelta(hours=72)
#: Urgency levels of the enrichment that count as an alarming claim.
ALARMING_URGENCY = frozenset({"critical", "high"})


@dataclass
class _Index:
    version: tuple[int, int, int] = (-1, -1, -1)
    rows: list[tuple[int, str, str]] = field(default_factory=list)
    matchers: dict[str | None, FakeMatcher] = field(default_factory=dict)


_index = _Index()
_lock = threading.Lock()


def matcher_for(session: Session, region_code: str | None) -> FakeMatcher | None:
    """The in-memory matcher of a region's fakes (all fakes for a message of no known
    region); rebuilt when the registry's version moved (one small query per call). None
    when there is nothing to match."""
    version = FakeRepository(session).version()
    with _lock:
        if _index.version != version:
            _index.rows = list(FakeRepository(session).matched())
            _index.matchers = {}
            _index.version = version
        if region_code not in _index.matchers:
            claims = [Claim(str(i), claim) for i, region, claim in _index.rows
                      if region_code is None or region == region_code]
            _index.matchers[region_code] = FakeMatcher(claims) if claims else FakeMatcher([])
        matcher = _index.matchers[region_code]
    return matcher if len(matcher) else None


def reset_index() -> None:
    """Forget the in-memory matchers (tests; a process that switched databases)."""
    with _lock:
        _index.version, _index.rows, _index.matchers = (-1, -1, -1), [], {}


def _int(value: Any) -> int:
    if isinstance(value, dict):  # VK's {"count": n}
        value = value.get("count")
    try:
        return max(int(value), 0) if value is not None and not isinstance(value, bool) else 0
    except (TypeError, ValueError):
        return 0


def reach_of(message: Message) -> tuple[int, int, int, int]:
    """(views, reposts, channel subscribers, reach) of a message: what its platform reported.

    Reach is the views plus the reposts; where the platform gives no views, the channel's
    subscribers stand for the audience."""
    reach = message.reach or {}
    raw = message.raw or {}
    views, reposts = _int(reach.get("views")), _int(reach.get("reposts"))
    chat = raw.get("chat") if isinstance(raw.get("chat"), dict) else {}
    subscribers = max(_int(raw.get(k)) for k in ("subscribers", "members_count",
                                                  "channel_subscribers", "followers"))
    subscribers = max(subscribers, _int((chat or {}).get("members_count")))
    return views, reposts, subscribers, (views or subscribers) + reposts


def link(session: Session, fake_id: int, message: Message, kind: str, score: float,
         reason: str, *, origin: bool = False) -> FakeCopy | None:
    """Link a message to a fake (a copy, or a refutation seen in the wild); None when it
    is linked already."""
    repo = FakeRepository(session)
    if (fake_id, message.id) in repo.linked([message.id]):
        return None
    views, reposts, subscribers, reach = reach_of(message)
    row = FakeCopy(fake_id=fake_id, message_id=message.id, kind=kind, origin=origin,
                   score=round(float(score), 4), reason=reason[:2000], source=message.source,
                   channel=message.channel, author_key=message.author_key, views=views,
                   reposts=reposts, subscribers=subscribers, reach=reach,
                   posted_at=message.created_at)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # another worker linked it a moment ago
        return None
    if kind == "copy":
        fake = repo.get(fake_id)
        if fake is not None and (fake.first_seen_at is None
                                 or message.created_at < fake.first_seen_at):
            fake.first_seen_at = message.created_at
    return row


@dataclass
class MatchSummary:
    """What one matching run did."""

    copies: int = 0
    refutations: int = 0
    suspects: int = 0
    refuted_fakes: set[int] = field(default_factory=set)


def match_messages(session: Session, message_ids: Sequence[int], *,
                   suspects: bool = True) -> MatchSummary:
    """Compare messages with the registry and link what matches; propose suspects among the
    rest (``suspects``: for live messages). Idempotent. Only the texts are read for all of
    them; whole messages only for those that matched or may be suspects (alarming)."""
    repo = FakeRepository(session)
    summary = MatchSummary()
    texts = [row for row in repo.message_texts(message_ids) if row[2].strip()]
    if not texts:
        return summary
    by_region: dict[str | None, list[tuple[int, str, str | None]]] = {}
    for message_id, region, text, urgency in texts:
        by_region.setdefault(region, []).append((message_id, text, urgency))
    found: list[tuple[int, str, int, float, str]] = []  # (message, kind, fake, score, why)
    maybe: list[int] = []
    for region, group in by_region.items():
        matcher = matcher_for(session, region)
        results: list[Match] = (matcher.match_batch([text for _, text, _ in group])
                                if matcher else [Match(None, 0.0, "") for _ in group])
        for (message_id, text, urgency), result in zip(group, results, strict=True):
            if result.fake_id is not None:
                found.append((message_id, "copy", int(result.fake_id), result.score,
                              result.explain))
            elif result.refutes is not None:
                found.append((message_id, "refutation", int(result.refutes), result.score,
                              result.explain))
            elif suspects and (urgency in ALARMING_URGENCY or alarm_signs(text)):
                maybe.append(message_id)  # the cheap test first: most messages alarm nobody
    if not found and not maybe:
        return summary
    whole = {m.id: m for m in repo.messages([f[0] for f in found] + maybe)}
    for message_id, kind, fake_id, score, explain in found:
        message = whole.get(message_id)
        if message is not None and link(session, fake_id, message, kind, score, explain):
            if kind == "copy":
                summary.copies += 1
                summary.refuted_fakes.add(fake_id)
            else:
                summary.refutations += 1
    if maybe:
        summary.suspects = propose_suspects(session, [whole[i] for i in maybe if i in whole])
    if summary.refuted_fakes:
        from otklik.fakes.refuting import queue_replies

        for fake_id in sorted(summary.refuted_fakes):
            fake = repo.get(fake_id)
            if fake is not None and fake.refutation_state == "approved":
                queue_replies(session, fake_id)
    return summary


def text_hash(text: str) -> str:
    """The hash a suspect is kept under: its words, so that case, punctuation and emoji do
    not make two suspects of one text."""
    return hashlib.sha256(" ".join(words(text)).encode()).hexdigest()


def suspect_reasons(message: Message, enrichment: MessageEnrichment | None,
                    authors: int, channels: int) -> list[str] | None:
    """Why a message is proposed for checking, or None when it is not."""
    signs = alarm_signs(message.text)
    urgent = enrichment is not None and enrichment.urgency in ALARMING_URGENCY
    if authors < MIN_AUTHORS or not (signs or urgent) or cites_official_source(message.text):
        return None
    hours = int(SPREAD_WINDOW.total_seconds() // 3600)
    reasons = [f"быстро расходится: {authors} разных авторов, {channels} каналов за {hours} ч"]
    if signs:
        reasons.append("тревожное утверждение: " + ", ".join(signs))
    if urgent and enrichment is not None:
        reasons.append(f"срочность по оценке текста: {enrichment.urgency}")
    reasons.append("нет ссылки на официальный источник")
    return reasons


def _original(message: Message, enrichment: MessageEnrichment | None) -> int:
    """The message whose near-copies a message's spread counts: the enrichment's duplicate
    link, else the message itself."""
    if enrichment is not None and enrichment.duplicate_of_id:
        return int(enrichment.duplicate_of_id)
    return message.id


def propose_suspects(session: Session, messages: Sequence[Message]) -> int:
    """Suspects among messages that matched no fake; returns how many were added."""
    repo = FakeRepository(session)
    enrichments = repo.enrichments([m.id for m in messages])
    since = utcnow() - SPREAD_WINDOW
    alarming = [m for m in messages if alarm_signs(m.text) or (
        (e := enrichments.get(m.id)) is not None and e.urgency in ALARMING_URGENCY)]
    # the cheap test first: most messages alarm nobody; the spread of the rest in one query
    spreads = repo.spreads([(m.id, _original(m, enrichments.get(m.id)),
                             min(since, m.created_at)) for m in alarming])
    added = 0
    for message in alarming:
        enrichment = enrichments.get(message.id)
        authors, channels = spreads[message.id]
        reasons = suspect_reasons(message, enrichment, authors, channels)
        if reasons is None:
            continue
        key = text_hash(message.text)
        suspect = repo.suspect_by_hash(key)
        if suspect is None:
            repo.add(FakeSuspect(region_code=message.region_code, message_id=message.id,
                                 text=message.text[:5000], text_hash=key, source="stream",
                                 score=float(authors), reasons=reasons, authors=authors))
            added += 1
        elif suspect.status == "new" and authors > suspect.authors:
            suspect.authors, suspect.reasons, suspect.updated_at = authors, reasons, utcnow()
    return added


def record_check_suspect(session: Session, text: str, region_code: str | None) -> FakeSuspect:
    """A text a resident sent to the check service and the registry does not know: proposed
    for checking (once per text; ``asked`` counts how often, never who)."""
    repo = FakeRepository(session)
    key = text_hash(text)
    suspect = repo.suspect_by_hash(key)
    if suspect is None:
        reasons = ["прислано жителем на проверку"]
        signs = alarm_signs(text)
        if signs:
            reasons.append("тревожное утверждение: " + ", ".join(signs))
        if not cites_official_source(text):
            reasons.append("нет ссылки на официальный источник")
        suspect = repo.add(FakeSuspect(region_code=region_code, text=text[:5000],
                                       text_hash=key, source="check", reasons=reasons,
                                       asked=1))
    else:
        suspect.asked += 1
        suspect.updated_at = utcnow()
    return suspect


def rematch_all(session: Session, batch: int = 2_000) -> tuple[int, int]:
    """Every stored message compared with the registry again (after the registry grew);
    (new copies, new refutations seen). Idempotent, no suspects."""
    copies = refutations = 0
    after = 0
    repo = FakeRepository(session)
    while True:
        ids = repo.message_ids_after(after, batch)
        if not ids:
            return copies, refutations
        done = match_messages(session, ids, suspects=False)
        copies, refutations = copies + done.copies, refutations + done.refutations
        after = ids[-1]
        session.flush()
