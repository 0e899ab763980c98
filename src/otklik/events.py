"""Events: what a domain announces once, after its unit of work commits, and who consumes it.

A producer calls :func:`announce` inside its unit of work; nothing leaves before the
transaction commits, and nothing leaves if it rolls back (:func:`otklik.queue.
enqueue_after_commit`). Each consumer is its own Dramatiq job (declared with
:func:`consumer`) that takes the event's ids, reloads, is idempotent, and fails and retries
alone: a failing consumer never stops the others, and the producer never waits for them.

The producer imports none of its consumers: a domain declares its consumers in its own
``consumers.py``, and :mod:`otklik.consumers` lists those modules once (the composition
root, like ``otklik.cli.COMMAND_MODULES``). :func:`announce` loads that list the first time
it runs, so every process that announces (a worker, the web app, a CLI command) has every
consumer. Adding a consumer is a function in the consuming domain and a line in
:mod:`otklik.consumers`; no producer changes.

The events (see docs/architecture.md for who consumes which):

* :class:`MessagesEnriched` — intake enriched a batch of messages;
* :class:`MessagesReenriched` — intake re-enriched stored messages (``otklik enrich
  --from-db``), with what changed;
* :class:`TaxonomyActivated` — language switched the rubricator in use;
* :class:`CaseCreated`, :class:`CaseRouted`, :class:`CaseAnswered`, :class:`CaseClosed`,
  :class:`CaseOverdue`, :class:`CaseDeadlineNear` — cases;
* :class:`IncidentOpened`, :class:`IncidentUpdated`, :class:`IncidentClosed` — incidents;
* :class:`AlertAcknowledged` — the notifier: a person on duty acknowledged an alert;
* :class:`ResidentFilesReleased` — personal data: retention or an erasure deleted the rows
  of residents' photos and contest attachments; their files go after the commit.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import dramatiq
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from otklik.queue import broker, enqueue_after_commit

#: The composition root that imports every ``consumers.py`` (loaded by name on first use).
CONSUMERS_MODULE = "otklik.consumers"


class Event(BaseModel):
    """An announced fact: small, typed, JSON on the queue (ids, never ORM objects)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class MessagesEnriched(Event):
    """A batch of messages was enriched and committed.

    ``live``: from the intake queue as the messages arrived. False for a bulk load that
    catches up on stored messages (the demo's history): consumers that act on new messages
    (build cases, raise alerts) leave such a batch alone; those that count (analytics) take
    it. ``originals_seen_late``: original id -> ids of its stored near-copies that were
    enriched before it (another worker was faster); the copies now name the original."""

    message_ids: list[int]
    live: bool = True
    originals_seen_late: dict[int, list[int]] = {}


class EnrichmentChange(Event):
    """One re-enriched message: its enrichment's answer before and after (the columns of
    ``message_enrichment`` that a re-enrichment compares); ``before`` is None when it had
    none."""

    before: dict[str, Any] | None
    after: dict[str, Any]


class MessagesReenriched(Event):
    """Stored messages were enriched again (``otklik enrich --from-db``) and the new answers
    committed. ``changes``: message id -> what changed, only for rewritten messages;
    ``seen``: every message of the batch (a rewritten message's comments are among them)."""

    run_id: str
    actor: str
    seen: list[int]
    changes: dict[int, EnrichmentChange] = {}


class TaxonomyActivated(Event):
    """Another rubricator version (or the packaged one) became the one in use."""


class CaseCreated(Event):
    """A new case was opened from a message (or by hand)."""

    case_id: int


class CaseRouted(Event):
    """A case was sent to an executor (by a rule, an operator or re-enrichment)."""

    case_id: int
    executor_id: int
    reason: str | None = None


class CaseAnswered(Event):
    """A case was answered (its answer approved, or a problem's answer covering it;
    ``answer_id`` when the step names it)."""

    case_id: int
    answer_id: int | None = None


class CaseClosed(Event):
    """A case was closed (``reason``: the step: close, merge, clarification_expired …)."""

    case_id: int
    reason: str


class CaseOverdue(Event):
    """A case passed its deadline and was escalated (``level``: 2 the curator, 3 the head)."""

    case_id: int
    level: int


class CaseDeadlineNear(Event):
    """A case reached its warning time before the deadline (escalation level 1)."""

    case_id: int


class IncidentOpened(Event):
    """An incident was opened (by the detector or by hand). The fields a notifier needs to
    word an alert without reading the incidents' tables: ``region_id`` and
    ``territory_ids`` choose the duty roster, ``url_path`` is the incident room."""

    incident_id: int
    title: str
    severity: str
    region_id: int | None = None
    territory_ids: list[int] = []
    people_affected: int | None = None
    url_path: str = ""


class IncidentUpdated(Event):
    """Something an alert thread should hear happened to an incident (``kind``: severity,
    update, merged, measure …; ``text`` a short line for the alert thread)."""

    incident_id: int
    kind: str
    text: str = ""


class IncidentClosed(Event):
    """An incident was closed with its summary."""

    incident_id: int
    summary: str = ""


class AlertAcknowledged(Event):
    """A person on duty acknowledged an alert from the alert itself (a Telegram button, an
    e-mail link) or on the admin page. ``subject``/``subject_id`` name what the alert was
    about (``incident``/id, ``case``/id); ``user_id`` is the person when known, ``by`` how
    they are shown on a timeline, ``channel`` where they acknowledged."""

    subject: str
    subject_id: int
    alert_id: int
    user_id: int | None = None
    by: str = ""
    channel: str = ""


class ResidentFilesReleased(Event):
    """Retention or a resident's erasure deleted these files' rows (committed): the photo
    keys, and the contest attachments as (contest id, stored name). The owning domain removes
    each file that no row names any more (idempotent)."""

    photo_keys: list[str] = []
    attachments: list[tuple[int, str]] = []


E = TypeVar("E", bound=Event)
Consumer = dramatiq.Actor[Any, Any]

#: A consumer's guard: asked at :func:`announce`, in the producer's session, whether the job
#: would do anything at all (the webhooks with no subscription); False skips the job.
Wanted = Callable[[Session], bool]

_consumers: dict[type[Event], list[Consumer]] = {}
_wanted: dict[str, Wanted] = {}
_lock = threading.Lock()
_loaded = False


def consumer(event_type: type[E], *, queue_name: str, max_retries: int = 5,
             time_limit: int = 600_000, wanted: Wanted | None = None, **options: Any
             ) -> Callable[[Callable[[E], None]], Consumer]:
    """Declare ``fn(event)`` a consumer of ``event_type``: a Dramatiq job of that name that
    receives the event as JSON and gets it back typed. It must be idempotent (it may run
    twice) and reload what it needs by id. ``wanted(session)``, when given, is asked at
    each announce (cheaply: cache per transaction) and no job is queued when it says no."""

    def declare(fn: Callable[[E], None]) -> Consumer:
        def run(payload: dict[str, Any]) -> None:
            fn(event_type.model_validate(payload))

        run.__name__ = run.__qualname__ = fn.__name__
        run.__module__, run.__doc__ = fn.__module__, fn.__doc__
        job: Consumer = dramatiq.actor(broker=broker, queue_name=queue_name,
                                       max_retries=max_retries, time_limit=time_limit,
                                       **options)(run)
        subscribe(event_type, job)
        if wanted is not None:
            _wanted[job.actor_name] = wanted
        return job

    return declare


def subscribe(event_type: type[Event], job: Consumer) -> None:
    """Add a job to the consumers of ``event_type`` (once)."""
    with _lock:
        jobs = _consumers.setdefault(event_type, [])
        if all(j.actor_name != job.actor_name for j in jobs):
            jobs.append(job)


def unsubscribe(event_type: type[Event], job: Consumer) -> None:
    """Remove a job from the consumers of ``event_type`` (tests)."""
    with _lock:
        jobs = _consumers.get(event_type, [])
        jobs[:] = [j for j in jobs if j.actor_name != job.actor_name]


def consumers_of(event_type: type[Event]) -> list[Consumer]:
    """The jobs that consume ``event_type``, in the order they were declared."""
    _load()
    with _lock:
        return list(_consumers.get(event_type, ()))


def announce(session: Session, event: Event) -> None:
    """Send ``event`` to each of its consumers once ``session`` commits (dropped on
    rollback)."""
    payload: dict[str, Any] | None = None  # dumped once, and only when a job is queued
    for job in consumers_of(type(event)):
        wanted = _wanted.get(job.actor_name)
        if wanted is None or wanted(session):
            if payload is None:
                payload = event.model_dump(mode="json")
            enqueue_after_commit(session, job, payload)


def _load() -> None:
    global _loaded
    if not _loaded:
        importlib.import_module(CONSUMERS_MODULE)
        _loaded = True
