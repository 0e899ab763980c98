"""Background jobs of intake: enrich stored messages (and re-enrich them after the models or
the rubricator change, see :mod:`otklik.intake.reenrich`). Jobs take ids, reload, are
idempotent."""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

import dramatiq
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from otklik import events
from otklik.db.base import utcnow
from otklik.db.session import session_scope
from otklik.events import MessagesEnriched
from otklik.intake.channel_places import places_for
from otklik.intake.direct_sources import relevance_from_source
from otklik.intake.place_context import (
    place_from_channel,
    place_from_form,
    place_from_thread,
    settlement_text,
    settlement_value,
    stated_settlement,
    town_of,
    village_to_street,
)
from otklik.intake.repository import MessageRepository, ToEnrich
from otklik.language.registry import TOPIC_MODEL_FIELDS, active_row
from otklik.models.case import ModelVersion
from otklik.models.message import Message, MessageEnrichment
from otklik.models.territory import Territory
from otklik.nlp.dedup import DedupStage
from otklik.queue import broker
from otklik.territories.repository import TerritoryRepository

log = logging.getLogger(__name__)

#: A message as enrichment takes it: an ORM object, or a row of its columns.
M = TypeVar("M", bound=ToEnrich)


_lock = threading.Lock()


def active_pipeline(session: Session) -> Any:
    """The language pipeline: the active rubricator and, when one is active in the model
    registry, the active topic model (see :func:`otklik.language.taxonomy_service.pipeline_for`)."""
    from otklik.language.taxonomy_service import pipeline_for

    return pipeline_for(session, model=active_topic_model(session))


def active_topic_model(session: Session) -> ModelVersion | None:
    """The registry's active model that classifies topics (``topic``, else ``subtopic``)."""
    try:
        return active_row(session, *TOPIC_MODEL_FIELDS)
    except SQLAlchemyError:
        return None


#: The near-duplicate memory of a worker: the signatures of the last this many enriched
#: messages (by id), loaded at its first batch; older ones are forgotten as new ones come.
#: About 0.8 KB and 9 µs each: 100,000 (two to six months of a large region) take ~80 MB
#: and ~1 s at a worker's start.
DEDUP_WINDOW = 100_000
#: Enrichments other workers committed slightly out of order are caught by re-reading this
#: much before the last one seen (ids already held are skipped). An enrichment transaction
#: is one batch (seconds); the rest covers clocks of hosts that differ. Each look re-reads
#: the ids enriched within it: ~1 µs each, so a bulk load at 500 messages/s adds ~2%.
DEDUP_OVERLAP = timedelta(minutes=2)


@dataclass
class _DedupMemory:
    """What one pipeline's near-duplicate stage has read, from which database."""

    database: str
    watermark: datetime | None = None
    #: The smallest id of a full window, and the watermark when it was loaded: older
    #: messages are taken in only if enriched after that (late originals, not the window's
    #: neighbours that a bulk load enriched within the overlap).
    floor: int | None = None
    loaded: datetime | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


# Near-duplicate stage -> its memory; pipelines are cached per process and shared by threads.
_memories: weakref.WeakKeyDictionary[DedupStage, _DedupMemory] = weakref.WeakKeyDictionary()


def remember_stored(session: Session, pipeline: Any) -> int:
    """Bring the pipeline's near-duplicate memory up to the database; returns how many
    stored signatures it took in.

    The first time (and on another database) it loads the last :data:`DEDUP_WINDOW` stored
    signatures with their links; after that, those of messages enriched by any process
    since its last look, less :data:`DEDUP_OVERLAP` (the ids are read first, so rows already
    held cost little). So a copy of a message another worker, or this one before a restart,
    enriched is recognised, and its original is the smaller id whatever order the batches
    run in.
    """
    stage = next((s for s in getattr(pipeline, "stages", ()) if isinstance(s, DedupStage)),
                 None)
    if stage is None:
        return 0
    database = session.get_bind().engine.url.render_as_string(hide_password=True)
    with _lock:
        memory = _memories.get(stage)
        if memory is None or memory.database != database:
            if memory is not None:
                stage.clear()
            memory = _memories[stage] = _DedupMemory(database)
    with memory.lock:
        stage.ids_ordered = True
        stage.capacity = DEDUP_WINDOW
        repo = MessageRepository(session)
        watermark = repo.last_enriched_at()
        if memory.watermark is None:
            rows = repo.dedup_window(DEDUP_WINDOW)
            if len(rows) >= DEDUP_WINDOW:
                memory.floor, memory.loaded = rows[0][0], watermark
        else:
            ids = repo.enriched_ids_since(memory.watermark - DEDUP_OVERLAP, memory.floor,
                                          memory.loaded)
            rows = repo.dedup_rows([int(i) for i in stage.missing(map(str, ids))])
        if watermark is not None:
            memory.watermark = watermark
        return stage.seed((str(i), key, duplicate) for i, key, duplicate, _ in rows)


def pipeline_versions(pipeline: Any) -> tuple[str | None, str]:
    """(model version, rubricator version) a pipeline stamps on what it decides."""
    model = getattr(pipeline, "model", None)
    return getattr(model, "version", None) or None, str(pipeline.taxonomy.version)


@dramatiq.actor(broker=broker, queue_name="enrich", max_retries=5, time_limit=600_000)
def enrich_messages(message_ids: list[int]) -> None:
    """Run the language stages over these messages and store what they decided; the batch
    is announced (:class:`otklik.events.MessagesEnriched`) once it commits."""
    with session_scope() as session:
        enrich_now(session, message_ids)


@dramatiq.actor(broker=broker, queue_name="enrich", max_retries=5, time_limit=600_000)
def reenrich_messages(message_ids: list[int], run_id: str) -> None:
    """Re-enrich stored messages with the active pipeline (``otklik enrich --from-db
    --queue``); what equals the stored result is not written, so a retry changes nothing."""
    from otklik.audit import service as audit
    from otklik.audit.actor import Actor
    from otklik.intake.reenrich import reenrich_batch

    actor = Actor.system("reenrich")
    with session_scope() as session:
        summary = reenrich_batch(session, actor, message_ids, run_id=run_id)
        audit.record(session, actor, "message.reenrich.batch", "reenrich_run", run_id,
                     details=summary.as_dict())


def enrich_now(session: Session, message_ids: Sequence[int], *, force: bool = False,
               live: bool = True) -> int:
    """Enrich messages in this unit of work; already enriched ones are skipped unless forced.

    What was enriched is announced after the commit (:class:`otklik.events.MessagesEnriched`,
    ``live`` as given: False for a bulk load whose caller builds its own cases)."""
    repo = MessageRepository(session)
    loaded, fields = repo.to_enrich(message_ids)
    messages = [m for m in loaded if force or m.enrich_status != "done"]
    if not messages:
        return 0
    # the batch's stored rows (a forced or an edited message) and its posts', in one read
    known = repo.enrichments([m.id for m in messages]
                             + [m.parent_id for m in messages if m.parent_id is not None])
    late: list[tuple[ToEnrich, list[int]]] = []
    decided = decide(session, messages, form_settlements=fields, known=known)
    for message, values in decided:
        if values is None:
            continue
        newer = _newer_copies(message, values)
        if newer and values["duplicate_of_id"] is None:
            late.append((message, newer))
    repo.set_enrich_status([m for m, values in decided if values is None], "failed")
    store_all(session, [(m, values) for m, values in decided if values is not None],
              stored=known)
    if late:
        _originals_seen_late(session, late)
    events.announce(session, MessagesEnriched(
        message_ids=[m.id for m in messages], live=live,
        originals_seen_late={m.id: newer for m, newer in late}))
    return len(messages)


def _newer_copies(message: ToEnrich, values: dict[str, Any]) -> list[int]:
    """Ids of stored near-copies of a message that are newer than it, named by the
    near-duplicate stage when the message reached it after them."""
    explain = (values.get("result") or {}).get("explain") or {}
    named = (explain.get("dedup") or {}).get("newer") or ()
    return [int(i) for i in named if str(i).isdigit() and int(i) > message.id]


def _originals_seen_late(session: Session, late: Sequence[tuple[ToEnrich, list[int]]]
                         ) -> None:
    """Originals enriched after copies of them (another worker was faster): the copies
    now name the original. A copy already linked to an even earlier message keeps that
    link. (The cases follow: see :func:`otklik.cases.builder.originals_seen_late`.)"""
    # the copies' rows read at once (a read per original flushed the batch's rows
    # piecemeal), then linked in the originals' order as before
    rows = MessageRepository(session).enrichments([i for _, newer in late for i in newer])
    for message, newer in late:
        for row in (rows[i] for i in sorted(set(newer)) if i in rows):
            if row.duplicate_of_id is None or row.duplicate_of_id > message.id:
                row.duplicate_of_id = message.id
                row.result = {**(row.result or {}), "duplicate_of": str(message.id)}


def decide(session: Session, messages: Sequence[M],
           form_settlements: Mapping[int, Any] | None = None,
           known: Mapping[int, MessageEnrichment] | None = None
           ) -> list[tuple[M, dict[str, Any] | None]]:
    """What the language stages decide about these messages, as the columns of their
    enrichment (None: the stages failed on it); nothing is stored. Posts come before their
    comments, so a comment can take the place its post was just given.

    ``form_settlements``: each message's ``raw.fields.settlement`` as read already (see
    :meth:`MessageRepository.to_enrich`); without it ``raw`` is read from the messages.
    ``known``: the stored enrichments of (at least) the messages' posts, as read already."""
    pipeline = active_pipeline(session)
    remember_stored(session, pipeline)
    model_version, taxonomy_version = pipeline_versions(pipeline)
    records = [{"id": str(m.id), "text": m.text, "region": m.region_code} for m in messages]
    try:
        results: list[dict[str, Any] | None] = list(pipeline.process(records))
    except Exception:
        # One poisoned text must not block the batch: retry one by one, mark the failures.
        log.exception("enrichment batch failed; retrying message by message")
        results = [_process_one(pipeline, record) for record in records]
    for result in results:
        if result is not None:  # which model and rubricator decided (re-enrichment filters)
            result.setdefault("model_version", model_version)
            result["taxonomy_version"] = taxonomy_version
    territories = TerritoryRepository(session)
    places = places_for(session, [m.channel for m in messages])
    stated = _stated_places(pipeline, territories, messages, form_settlements)
    ids = territories.ids_by_keys(_territory_key(((r or {}).get("territory") or {}).get(level))
                                  for r in results for level in ("municipality", "settlement"))
    saved: dict[int, dict[str, Any]] = {}
    parents = known if known is not None else MessageRepository(session).enrichments(
        [m.parent_id for m in messages if m.parent_id is not None])
    pairs = sorted(zip(messages, results, strict=True), key=lambda p: p[0].parent_id is not None)
    _drop_unknown_duplicates(session, results)
    _drop_later_duplicates(messages, results)
    decided: list[tuple[M, dict[str, Any] | None]] = []
    for message, result in pairs:
        if result is None:
            decided.append((message, None))
            continue
        parent = (saved.get(message.parent_id) or parents.get(message.parent_id)
                  if message.parent_id is not None else None)
        saved[message.id] = _values(ids, message, result, parent,
                                    places.get(message.channel) if message.channel else None,
                                    stated.get(message.id))
        decided.append((message, saved[message.id]))
    return decided


def _stated_places(pipeline: Any, territories: TerritoryRepository,
                   messages: Sequence[ToEnrich],
                   form_settlements: Mapping[int, Any] | None = None) -> dict[int, Territory]:
    """Message id -> the settlement its sender gave in a form's field, found by the territory
    stage in the message's region (see place_context.stated_settlement); messages without
    one, or whose field names no settlement of their region, are left out."""
    stage = next((s for s in pipeline.stages if s.name == "territory"), None)
    if stage is None:
        return {}
    # the names recognized once each, then their territories read in two queries (a query
    # or two per name before)
    named: dict[tuple[str, str], str | None] = {}
    asked: list[tuple[ToEnrich, tuple[str, str]]] = []
    for message in messages:
        name = (stated_settlement(cast(Message, message).raw) if form_settlements is None
                else settlement_value(form_settlements.get(message.id)))
        if not name or not message.region_code:
            continue
        key = (message.region_code, name)
        asked.append((message, key))
        if key not in named:
            value = stage.recognize(settlement_text(name), message.region_code).value
            named[key] = _territory_key(value.get("settlement") or value.get("municipality"))
    if not named:
        return {}
    ids = territories.ids_by_keys(named.values())
    rows = territories.many(ids.values())
    out: dict[int, Territory] = {}
    for message, key in asked:
        node_key = named[key]
        place = ids.get(node_key) if node_key else None
        territory = rows.get(place) if place is not None else None
        if territory is not None and territory.region_code == message.region_code:
            out[message.id] = territory
    return out


def _process_one(pipeline: Any, record: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return dict(pipeline.process([record])[0])
    except Exception:
        log.exception("enrichment failed for message %s", record["id"])
        return None


def enrich_pending(progress: Callable[[int], None] | None = None, batch: int = 500) -> int:
    """Enrich every pending message now, batch by batch, each batch committed (a bulk load:
    announced as not ``live``, its caller builds the cases it wants)."""
    done = 0
    while True:
        with session_scope() as session:
            ids = MessageRepository(session).pending_ids(batch)
            if not ids:
                return done
            enrich_now(session, ids, live=False)
        done += len(ids)
        if progress:
            progress(len(ids))


def _drop_unknown_duplicates(session: Session, results: Sequence[dict[str, Any] | None]) -> None:
    """Forget ``duplicate_of`` answers that name no stored message.

    The near-duplicate stage also remembers what this process indexed itself; after a
    database reset (or a rolled-back transaction) it may point at an id that is not there
    any more.
    """
    wanted = {i for i in map(_duplicate_id, results) if i is not None}
    if not wanted:
        return
    known = MessageRepository(session).existing_ids(sorted(wanted))
    for result in results:
        duplicate = _duplicate_id(result)
        if result and duplicate is not None and duplicate not in known:
            result["duplicate_of"] = None


def _drop_later_duplicates(messages: Sequence[ToEnrich],
                           results: Sequence[dict[str, Any] | None]) -> None:
    """A copy is of an earlier message (ids are given in arrival order): never of itself or
    of a later one (the stage orders by id; this holds whatever stage answered)."""
    for message, result in zip(messages, results, strict=True):
        duplicate = _duplicate_id(result)
        if result and duplicate is not None and duplicate >= message.id:
            result["duplicate_of"] = None


def _duplicate_id(result: dict[str, Any] | None) -> int | None:
    """The message id a stage result names as the original, if it names one."""
    duplicate = result.get("duplicate_of") if result else None
    return int(duplicate) if duplicate and str(duplicate).isdigit() else None


def _territory_key(node: dict[str, Any] | None) -> str | None:
    """The stable key of a territory the stages named (its key, else its OKTMO)."""
    if not isinstance(node, dict):
        return None
    return node.get("key") or node.get("oktmo") or None


def _territory_id(ids: Mapping[str, int], node: dict[str, Any] | None) -> int | None:
    """The stored id of a territory the stages named, from the batch's ids by key."""
    key = _territory_key(node)
    return ids.get(key) if key else None


def _value(field: Any) -> Any:
    """A stage's answer whether given plainly or as {value, confidence}."""
    return field.get("value") if isinstance(field, dict) else field


def _values(territory_ids: Mapping[str, int], message: ToEnrich, result: dict[str, Any],
            parent: MessageEnrichment | dict[str, Any] | None = None,
            channel_place: Territory | None = None,
            stated_place: Territory | None = None) -> dict[str, Any]:
    """The enrichment columns of what the stages decided; the place falls back to the thread,
    then the channel."""
    territory = result.get("territory") or {}
    topic = result.get("topic") or {}
    subtopic = result.get("subtopic") or {}
    sentiment = result.get("sentiment") or {}
    urgency = result.get("urgency")
    region = territory.get("region")
    values = {
        "relevant": bool(result.get("relevant")),
        "kind": _value(result.get("kind")),
        "language": result.get("language"),
        "topic": topic.get("code"),
        "subtopic": subtopic.get("code") if isinstance(subtopic, dict) else None,
        "topic_confidence": topic.get("confidence"),
        "sentiment": sentiment.get("value"),
        "urgency": urgency.get("level") if isinstance(urgency, dict) else urgency,
        "region_code": (region.get("code") if isinstance(region, dict) else region)
        or message.region_code,
        "municipality_id": _territory_id(territory_ids, territory.get("municipality")),
        "settlement_id": _territory_id(territory_ids, territory.get("settlement")),
        "street": territory.get("street"),
        "house": territory.get("house"),
        "dedup_key": result.get("dedup_key") or (result.get("dedup") or {}).get("key"),
        "duplicate_of_id": _duplicate_id(result),
        "model_version": result.get("model_version"),
        "result": result,
        "enriched_at": utcnow(),
    }
    village_to_street(values, message.text or "", result, town_of(parent, channel_place))
    place_from_thread(values, parent, message.parent_source_id, result)
    place_from_form(values, stated_place, result)
    place_from_channel(values, channel_place, message.channel, result)
    relevance_from_source(values, message.source, message.text or "", result)
    return values


#: What an enrichment row keeps of a stage's explanation: the parts a reader uses (the
#: message card's reasons, :func:`otklik.web.workspace_common.decisions`; the detector's
#: urgency words; the thread's place, :func:`otklik.intake.place_context.street_over_village`;
#: the copies named newer) and the sentences written for a person. The rest (scores, the
#: language's letter counts, the gazetteer's version, the shingles …) is read by nothing;
#: running the stages over the text gives it again. Left out with the dedup key, it was a
#: third of a row's ``result`` (1.9 KB of JSON on the demo stream, compressed at every
#: insert: docs/performance.md, session 14).
STORED_EXPLAIN: dict[str, tuple[str, ...]] = {
    "topic": ("matched",),
    "territory": ("mentions", "why"),
    "urgency": ("matched",),
    "sentiment": ("matches",),
    "kind": ("cues",),
    "relevance": ("cues", "direct_source"),
    "dedup": ("newer",),
}


def stored_result(result: dict[str, Any]) -> dict[str, Any]:
    """The record an enrichment row keeps: the stages' answer with the part of their
    explanation a reader uses (:data:`STORED_EXPLAIN`), without the near-duplicate key (the
    row's ``dedup_key`` column holds it: 171 characters twice before); ``result`` itself is
    not changed."""
    kept = dict(result)
    kept.pop("dedup_key", None)
    explain = result.get("explain")
    if isinstance(explain, dict):
        reasons: dict[str, Any] = {}
        for stage, reason in explain.items():
            if isinstance(reason, str):
                reasons[stage] = reason  # a sentence for a person (the thread's place, …)
            elif stage in STORED_EXPLAIN and isinstance(reason, dict):
                parts = {k: reason[k] for k in STORED_EXPLAIN[stage] if k in reason}
                if parts:
                    reasons[stage] = parts
        kept["explain"] = reasons
    return kept


def store_all(session: Session, decided: Sequence[tuple[ToEnrich, dict[str, Any]]], *,
              stored: Mapping[int, MessageEnrichment] | None = None) -> None:
    """Write these messages' enrichments (insert or overwrite) and mark the messages done.

    A batch's stored rows are read at once and overwritten as ORM objects (a forced or a
    re-enrichment); the messages are marked in one UPDATE (the ORM objects stay as the ORM
    would have left them) and the new rows go out at the end in one INSERT
    (:meth:`MessageRepository.insert_enrichments`). Each row keeps :func:`stored_result`.
    ``stored``: the messages' stored rows, as read already in this unit of work."""
    if not decided:
        return
    repo = MessageRepository(session)
    if stored is None:
        stored = repo.enrichments([m.id for m, _ in decided])
    new: list[dict[str, Any]] = []
    for message, values in decided:
        row = stored.get(message.id)
        if row is None:
            new.append({"message_id": message.id, **values,
                        "result": stored_result(values["result"])})
        else:
            for name, value in {**values, "result": stored_result(values["result"])}.items():
                setattr(row, name, value)
    repo.mark_enriched([m for m, _ in decided])
    if new:
        session.flush()  # the messages they name are in first (a test's may not be yet)
        repo.insert_enrichments(new)
