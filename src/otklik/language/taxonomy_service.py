"""The rubricator an admin edits: versions saved in the database, one of them active.

Saving never changes an existing version: it stores the edited document as the next
number (validated by ``Taxonomy.from_dict``; the errors say what to fix). Activating a
version makes every new pipeline use it; activating an older one is the rollback; with no
version active the packaged taxonomy (``taxonomy.json``) is used. Services never commit.
Any switch also re-titles the problems still in play, after commit (``_problems_follow``).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from otklik import events
from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.errors import InvalidInput, NotFound
from otklik.events import TaxonomyActivated
from otklik.language.taxonomy_repository import TaxonomyRepository
from otklik.models.case import ModelVersion
from otklik.models.taxonomy import TaxonomyVersion
from otklik.nlp.taxonomy.editing import validate
from otklik.nlp.taxonomy.taxonomy import Taxonomy, load_taxonomy

log = logging.getLogger(__name__)

_lock = threading.Lock()
# (version id, created_at) -> taxonomy: saved versions never change.
_parsed: dict[tuple[int, datetime], Taxonomy] = {}
_pipelines: dict[tuple[tuple[int, datetime] | None, str | None, int | None], Any] = {}


def version_label(number: int) -> str:
    """The ``version`` string of a saved document ("r3")."""
    return f"r{number}"


def save_version(
    session: Session,
    actor: Actor,
    document: dict[str, Any],
    comment: str = "",
    *,
    activate: bool = False,
) -> TaxonomyVersion:
    """Store an edited rubricator as the next version (optionally activating it)."""
    actor.require("admin")
    repo = TaxonomyRepository(session)
    number = repo.last_number() + 1
    document = {**document, "version": version_label(number)}
    taxonomy = validate(document)
    content = _content(taxonomy.to_dict())
    if content == _content(current_document(session)):
        raise InvalidInput("рубрикатор не изменился: сохранять нечего")
    latest = repo.by_number(number - 1)
    if latest is not None and content == _content(latest.document):
        raise InvalidInput(f"такой рубрикатор уже сохранён версией {latest.number}: "
                           f"otklik taxonomy activate {latest.number}")
    row = repo.add(TaxonomyVersion(
        number=number, document=taxonomy.to_dict(), author_id=actor.user_id,
        author=actor.label, comment=" ".join((comment or "").split())[:500], active=False,
    ))
    audit.record(session, actor, "taxonomy.save", "taxonomy_version", row.number,
                 details={"comment": row.comment, "nodes": len(taxonomy)})
    if activate:
        activate_version(session, actor, number)
    return row


def _content(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "version"}


def activate_version(session: Session, actor: Actor, number: int) -> TaxonomyVersion:
    """Make version ``number`` the active rubricator (an older number is a rollback)."""
    actor.require("admin")
    repo = TaxonomyRepository(session)
    row = repo.by_number(number)
    if row is None:
        raise NotFound(f"нет версии рубрикатора {number}: см. otklik taxonomy versions")
    previous = repo.active()
    if previous is not None and previous.id == row.id:
        return row
    validate(row.document)  # saved documents are valid; refuse one damaged by hand
    repo.deactivate_all()
    row.active = True
    session.flush()
    audit.record(session, actor, "taxonomy.activate", "taxonomy_version", row.number,
                 details={"previous": previous.number if previous else None})
    _problems_follow(session)
    return row


def use_packaged(session: Session, actor: Actor) -> None:
    """Deactivate every saved version: the packaged taxonomy is used again."""
    actor.require("admin")
    repo = TaxonomyRepository(session)
    previous = repo.active()
    if previous is None:
        return
    repo.deactivate_all()
    audit.record(session, actor, "taxonomy.activate", "taxonomy_version", None,
                 details={"previous": previous.number, "packaged": load_taxonomy().version})
    _problems_follow(session)


def _problems_follow(session: Session) -> None:
    """Once the switch commits, it is announced: problem titles are recomputed with the
    rubricator now in use (its names and lexicon; see otklik.cases.problems.retitle_problems)."""
    events.announce(session, TaxonomyActivated())


def versions(session: Session, actor: Actor, limit: int = 50) -> list[TaxonomyVersion]:
    """Saved versions, newest first."""
    actor.require("admin")
    return list(TaxonomyRepository(session).recent(limit))


def active_taxonomy(session: Session) -> Taxonomy:
    """The active version's taxonomy, or the packaged one (also when the table is missing
    or the stored document no longer validates: enrichment must go on)."""
    try:
        row = TaxonomyRepository(session).active()
    except SQLAlchemyError:
        log.warning("taxonomy_version is not readable; using the packaged taxonomy")
        return load_taxonomy()
    if row is None:
        return load_taxonomy()
    key = (row.id, row.created_at)
    with _lock:
        cached = _parsed.get(key)
    if cached is not None:
        return cached
    try:
        taxonomy = Taxonomy.from_dict(row.document)
    except ValueError:
        log.exception("taxonomy version %s does not validate; using the packaged one",
                      row.number)
        return load_taxonomy()
    with _lock:
        if len(_parsed) > 16:
            _parsed.clear()
        _parsed[key] = taxonomy
    return taxonomy


def current_document(session: Session) -> dict[str, Any]:
    """The JSON document of the taxonomy in use (the starting point of an edit)."""
    return active_taxonomy(session).to_dict()


def pipeline_for(session: Session, region: str | None = None,
                 model: ModelVersion | None = None) -> Any:
    """An enrichment pipeline using the active rubricator and, when given, a registered
    model, built once per (version, region, model) and process (a worker notices an
    activation at its next batch). A model that does not load is logged and left out:
    enrichment goes on with the rubricator's lexicon."""
    from otklik.nlp.pipeline import Pipeline

    try:
        active = TaxonomyRepository(session).active_key()
    except SQLAlchemyError:
        active = None
    key = (active, region, model.id if model is not None else None)
    with _lock:
        pipeline = _pipelines.get(key)
    if pipeline is None:
        taxonomy = active_taxonomy(session)
        try:
            pipeline = Pipeline.default(region=region, taxonomy=taxonomy,
                                        model_dir=model.path if model is not None else None)
        except Exception:  # noqa: BLE001 - a broken model file must not stop enrichment
            if model is None:
                raise
            log.exception("model %s (%s) does not load; topics come from the rubricator",
                          model.version, model.path)
            pipeline = Pipeline.default(region=region, taxonomy=taxonomy)
        with _lock:
            _pipelines.clear()  # only the current pair's pipeline is kept
            _pipelines[key] = pipeline
    return pipeline
