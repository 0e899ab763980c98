"""The model registry: trained models with their metrics, activated and rolled back.

Operators' corrections are stored as labels (``label`` table); ``otklik train --from-db``
builds training pairs from them and from the cases' final routing, saves a model, and
registers it here. One model per label field is active at a time.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.db.base import utcnow
from otklik.errors import InvalidInput, NotFound
from otklik.models.case import Case, CaseMessage, CaseStatus, Label, ModelVersion
from otklik.models.message import Message, MessageEnrichment

_cache: dict[int, Any] = {}
_lock = threading.Lock()

#: Label fields the database can provide training pairs for.
#: Label fields whose active model in the registry classifies topics (the first one wins).
TOPIC_MODEL_FIELDS = ("topic", "subtopic")
DB_FIELDS = ("topic", "subtopic", "executor", "urgency", "kind", "sentiment")


@dataclass
class LoadedModel:
    """A registered model ready to predict."""

    version: str
    label_field: str
    classifier: Any

    def predict_one(self, text: str) -> tuple[str, float]:
        """The most likely label of one text and its probability."""
        probabilities = self.classifier.predict_proba([text])[0]
        best = max(range(len(probabilities)), key=lambda i: probabilities[i])
        return str(self.classifier.classes[best]), float(probabilities[best])


def register(session: Session, actor: Actor, directory: Path, *, activate: bool = False
             ) -> ModelVersion:
    """Record a saved model (its folder holds model.json) in the registry."""
    actor.require("admin")
    meta_path = directory / "model.json"
    if not meta_path.exists():
        raise InvalidInput(f"{directory}: no model.json — not a model folder")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    metrics = meta.get("metrics") or {}
    row = ModelVersion(label_field=meta.get("label_field") or "label", version=meta["version"],
                       path=str(directory.resolve()), metrics=metrics,
                       accuracy=metrics.get("accuracy"))
    session.add(row)
    session.flush()
    audit.record(session, actor, "model.register", "model", row.id,
                 details={"version": row.version, "label_field": row.label_field})
    if activate:
        activate_version(session, actor, row.version)
    return row


def activate_version(session: Session, actor: Actor, version: str) -> ModelVersion:
    """Make a registered model the active one for its label field."""
    actor.require("admin")
    row = session.scalar(select(ModelVersion).where(ModelVersion.version == version))
    if row is None:
        raise NotFound(f"model {version} is not registered: see otklik models list")
    if row.decision == "failed" or not row.path:
        raise InvalidInput(f"model {version} failed to train: there is nothing to activate")
    session.execute(update(ModelVersion).where(ModelVersion.label_field == row.label_field)
                    .values(active=False))
    row.active = True
    row.activated_at = utcnow()
    audit.record(session, actor, "model.activate", "model", row.id,
                 details={"version": version, "label_field": row.label_field})
    return row


def rollback(session: Session, actor: Actor, label_field: str) -> ModelVersion:
    """Activate the model that was active before the current one."""
    actor.require("admin")
    rows = session.scalars(
        select(ModelVersion).where(ModelVersion.label_field == label_field,
                                   ModelVersion.activated_at.is_not(None))
        .order_by(ModelVersion.activated_at.desc())
    ).all()
    current = next((r for r in rows if r.active), None)
    previous = next((r for r in rows if not r.active), None)
    if current is None or previous is None:
        raise InvalidInput(f"no earlier {label_field} model to roll back to")
    return activate_version(session, actor, previous.version)


def versions(session: Session, label_field: str | None = None) -> Sequence[ModelVersion]:
    """Registered models, newest first."""
    query = select(ModelVersion).order_by(ModelVersion.id.desc())
    if label_field:
        query = query.where(ModelVersion.label_field == label_field)
    return session.scalars(query).all()


def active_row(session: Session, *label_fields: str) -> ModelVersion | None:
    """The active registered model of the first of these label fields that has one."""
    rows = session.scalars(select(ModelVersion).where(ModelVersion.active.is_(True),
                                                      ModelVersion.label_field.in_(label_fields)))
    by_field = {row.label_field: row for row in rows}
    return next((by_field[f] for f in label_fields if f in by_field), None)


def active_model(session: Session, label_field: str) -> LoadedModel | None:
    """The active model of a label field, loaded once per process."""
    row = active_row(session, label_field)
    return None if row is None else model_of(row)


def model_of(row: ModelVersion) -> LoadedModel:
    """The model of a registered version, loaded once per process."""
    with _lock:
        if row.id not in _cache:
            from otklik.nlp.training import load_model

            _cache[row.id] = LoadedModel(row.version, row.label_field, load_model(row.path))
        return _cache[row.id]  # type: ignore[no-any-return]


@dataclass
class Example:
    """One training example from the corrected history.

    ``label_id`` is the operator's correction (``label.id``) that set the label, None when it
    comes from a case closed without correction (or the stored sentiment).
    """

    message_id: int
    text: str
    label: str
    label_id: int | None = None


def label_column(label_field: str) -> str:
    """The ``label.field`` an operator's correction of this label field is stored under."""
    return "executor_id" if label_field == "executor" else label_field


def history(session: Session, label_field: str) -> list[Example]:
    """The corrected history of a label field, by message id.

    An operator's latest correction wins; otherwise, for ``executor``, the organization a
    closed or answered case ended with, and for the others what was confirmed on cases that
    were closed without correction.
    """
    if label_field not in DB_FIELDS:
        raise InvalidInput(f"--label-field for --from-db must be one of {', '.join(DB_FIELDS)}")
    labels: dict[int, tuple[str, int | None]] = {}
    corrections = session.execute(
        select(Label.id, Label.message_id, Label.value).where(
            Label.field == label_column(label_field),
            Label.message_id.is_not(None)).order_by(Label.id)
    ).all()
    for label_id, message_id, value in corrections:
        if message_id is not None and value:
            labels[message_id] = (value, label_id)
    done = [CaseStatus.answered, CaseStatus.closed]
    column = Case.executor_id if label_field == "executor" else getattr(Case, label_field)
    confirmed = session.execute(
        select(CaseMessage.message_id, column).join(Case, Case.id == CaseMessage.case_id)
        .where(Case.status.in_(done), CaseMessage.is_primary.is_(True), column.is_not(None))
    ).all()
    for message_id, value in confirmed:
        labels.setdefault(message_id, (str(value), None))
    if label_field == "sentiment":
        rows = session.execute(select(MessageEnrichment.message_id, MessageEnrichment.sentiment)
                               .where(MessageEnrichment.sentiment.is_not(None))).all()
        for message_id, sentiment in rows:
            if sentiment is not None:
                labels.setdefault(message_id, (sentiment, None))
    if not labels:
        return []
    texts = dict(session.execute(
        select(Message.id, Message.text).where(Message.id.in_(sorted(labels)))).all())
    return [Example(i, texts[i], labels[i][0], labels[i][1])
            for i in sorted(labels) if texts.get(i)]


def training_pairs(session: Session, label_field: str) -> list[tuple[str, str]]:
    """(text, label) pairs from the corrected history (see :func:`history`)."""
    return [(e.text, e.label) for e in history(session, label_field)]
