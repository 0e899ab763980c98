"""The weekly learning loop: a challenger from the operators' corrections, compared with the
champion on the newest corrections, activated only when it is better by a margin.

``otklik models retrain`` (cron, nightly) calls :func:`retrain` for each label field. A run is
*due* when ``retrain_min_corrections`` new corrections of the field arrived since the last
run, or ``retrain_every_days`` days passed and there is at least one new correction
(``--force`` runs anyway). Then:

1. the corrected history (:func:`otklik.language.registry.history`) is split in time: the
   newest operator corrections (``retrain_holdout`` of them, at least ``retrain_min_holdout``)
   are held out; everything older (and the cases closed without correction) trains;
2. the challenger is the recipe of ``otklik train`` (:mod:`otklik.nlp.training`: text +
   lemmas + the shipped rubricator's lexicon scores) fitted on the training part;
3. the challenger and the champion (the active model; with none, the shipped lexicon for
   ``topic``/``subtopic``, else the commonest label) label the held-out slice; the score is
   the mean of macro-F1 and weighted-F1 (what the recipe's own tuning maximizes);
4. the challenger is activated when its score beats the champion's by ``retrain_margin``;
   either way it is registered with both figures and the reason (``model_version.decision``,
   ``reason``, ``evaluation``). A challenger that fails to train is registered as
   ``failed`` with the error; the champion stays active.

The model that is activated is exactly the one that was measured (it has not seen the
held-out corrections); the next run learns from them.
"""

from __future__ import annotations

import math
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.db.base import utcnow
from otklik.language import registry
from otklik.models.case import Label, ModelVersion

DECISIONS = ("activated", "kept", "failed")


@dataclass
class RetrainSettings:
    """When a retraining is due and what a challenger must beat (``OTKLIK_RETRAIN_*``)."""

    margin: float = 0.01
    min_corrections: int = 200
    every_days: int = 7
    holdout: float = 0.2
    min_holdout: int = 20
    models_dir: Path = Path("var") / "models"
    folds: int = 3

    @classmethod
    def from_settings(cls) -> RetrainSettings:
        """The values of the process settings (:mod:`otklik.config`)."""
        from otklik.config import get_settings

        s = get_settings()
        return cls(margin=s.retrain_margin, min_corrections=s.retrain_min_corrections,
                   every_days=s.retrain_every_days, holdout=s.retrain_holdout,
                   min_holdout=s.retrain_min_holdout, models_dir=Path(s.models_dir))


@dataclass
class Figures:
    """A model's figures on the held-out slice."""

    accuracy: float
    macro_f1: float
    weighted_f1: float

    @property
    def score(self) -> float:
        """What is compared: the mean of macro-F1 and weighted-F1."""
        return (self.macro_f1 + self.weighted_f1) / 2

    def to_dict(self) -> dict[str, float]:
        return {"accuracy": round(self.accuracy, 4), "macro_f1": round(self.macro_f1, 4),
                "weighted_f1": round(self.weighted_f1, 4), "score": round(self.score, 4)}


@dataclass
class RetrainOutcome:
    """What a run did: nothing (not due), or a registered challenger and its decision."""

    label_field: str
    due: bool
    why: str
    row: ModelVersion | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def decision(self) -> str | None:
        return self.row.decision if self.row is not None else None


def corrected_fields(session: Session) -> list[str]:
    """The label fields operators have corrected at least once."""
    stored = set(session.scalars(select(Label.field).distinct()))
    return [f for f in registry.DB_FIELDS if registry.label_column(f) in stored]


def _last_run(session: Session, label_field: str) -> ModelVersion | None:
    return session.scalar(
        select(ModelVersion).where(ModelVersion.label_field == label_field,
                                   ModelVersion.decision.is_not(None))
        .order_by(ModelVersion.id.desc()).limit(1))


def _newest_label_id(session: Session, label_field: str) -> int:
    return int(session.scalar(select(func.max(Label.id)).where(
        Label.field == registry.label_column(label_field))) or 0)


def new_corrections(session: Session, label_field: str) -> int:
    """Corrections of a label field since the last retraining run saw them."""
    last = _last_run(session, label_field)
    query = select(func.count(Label.id)).where(
        Label.field == registry.label_column(label_field), Label.message_id.is_not(None))
    if last is not None and last.last_label_id is not None:
        query = query.where(Label.id > last.last_label_id)
    return int(session.scalar(query) or 0)


def is_due(session: Session, label_field: str, now: datetime, settings: RetrainSettings
           ) -> tuple[bool, str]:
    """Whether a retraining of this field is due now, and why (or why not)."""
    new = new_corrections(session, label_field)
    last = _last_run(session, label_field)
    if new == 0:
        return False, "нет новых исправлений операторов"
    if new >= settings.min_corrections:
        return True, f"новых исправлений: {new} (порог {settings.min_corrections})"
    if last is None:
        return True, f"первое переобучение ({new} исправлений)"
    if now - last.created_at >= timedelta(days=settings.every_days):
        return True, f"прошло {settings.every_days} дн. с прошлого переобучения ({new} новых)"
    return False, (f"новых исправлений {new} < {settings.min_corrections}, "
                   f"и {settings.every_days} дн. с прошлого переобучения не прошло")


def split_history(examples: Sequence[registry.Example], settings: RetrainSettings
                  ) -> tuple[list[registry.Example], list[registry.Example]]:
    """(training, held out): the newest operator corrections are held out."""
    corrected = sorted((e for e in examples if e.label_id is not None),
                       key=lambda e: e.label_id or 0)
    size = max(settings.min_holdout, math.ceil(len(corrected) * settings.holdout))
    if len(corrected) < 2 * settings.min_holdout:
        return list(examples), []
    held = corrected[-size:]
    held_ids = {e.message_id for e in held}
    return [e for e in examples if e.message_id not in held_ids], held


def figures(truth: Sequence[str], predicted: Sequence[str]) -> Figures:
    """Accuracy, macro- and weighted-F1 over the labels of the held-out slice."""
    from sklearn.metrics import accuracy_score, f1_score

    labels = sorted(set(truth))
    return Figures(
        float(accuracy_score(truth, predicted)),
        float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)),
        float(f1_score(truth, predicted, labels=labels, average="weighted", zero_division=0)))


def lexicon_predict(texts: Sequence[str], label_field: str) -> list[str]:
    """What the shipped rubricator's lexicon alone says (the champion when no model is active):
    the best topic, or the best subtopic; "other" when it matches nothing."""
    from otklik.nlp.training import lexicon_index, prepare_text

    index = lexicon_index()
    out: list[str] = []
    for text in texts:
        prepared = prepare_text(text)
        match = index.match(prepared.lemmas)
        if label_field == "topic":
            scores = index.topic_scores(match)
        else:
            scores = {c: v for c, v in match.scores.items() if "." in c}
        out.append(max(scores, key=lambda c: scores[c]) if scores else "other")
    return out


Trainer = Callable[[list[tuple[str, str]], str, Path, int], Any]


def _train_challenger(pairs: list[tuple[str, str]], label_field: str, out: Path,
                      folds: int) -> Any:
    """Fit the recipe of ``otklik train`` and save it; returns the fitted model."""
    from otklik.nlp.training import TrainOptions, save_model, train

    result = train(pairs, TrainOptions(folds=folds), evaluate=True, label_field=label_field)
    # Two runs on the same history in one second would share a version: make it unique.
    result.model.version = f"{result.model.version}-{uuid.uuid4().hex[:6]}"
    save_model(result.model, out, result.report, extra={"data": "retraining"})
    return result.model


def retrain(session: Session, actor: Actor, label_field: str, *,
            settings: RetrainSettings | None = None, now: datetime | None = None,
            force: bool = False, trainer: Trainer | None = None) -> RetrainOutcome:
    """One run of the loop for a label field (see the module's docstring). Never commits.

    ``trainer`` replaces the recipe (tests make it fail); a failure of any kind is recorded
    as a ``failed`` challenger and leaves the champion active.
    """
    actor.require("admin")
    settings = settings or RetrainSettings.from_settings()
    now = now or utcnow()
    due, why = is_due(session, label_field, now, settings)
    if not due and not force:
        return RetrainOutcome(label_field, False, why)
    if not due:
        why = f"принудительно ({why})"
    newest = _newest_label_id(session, label_field)
    examples = registry.history(session, label_field)
    train_part, held = split_history(examples, settings)
    champion = registry.active_row(session, label_field)
    stamp = now.strftime("%Y%m%d%H%M%S")
    started = time.perf_counter()

    def record(decision: str, reason: str, version: str, path: str = "",
               evaluation: dict[str, Any] | None = None, metrics: dict[str, Any] | None = None
               ) -> RetrainOutcome:
        # the run is dated by the moment it decided at (``now``), which the next is_due
        # measures from
        row = ModelVersion(label_field=label_field, version=version, path=path,
                           created_at=now, metrics=metrics or {},
                           accuracy=(metrics or {}).get("accuracy"), decision=decision,
                           reason=reason[:1000],
                           compared_with=champion.version if champion is not None else None,
                           evaluation=evaluation, trained_on=len(train_part),
                           last_label_id=newest)
        session.add(row)
        session.flush()
        audit.record(session, actor, "model.retrain", "model", row.id,
                     details={"version": version, "label_field": label_field,
                              "decision": decision, "reason": reason[:300]})
        if decision == "activated":
            registry.activate_version(session, actor, version)
        return RetrainOutcome(label_field, True, why, row)

    failed_version = f"{label_field}-failed-{stamp}-{uuid.uuid4().hex[:6]}"
    if not held:
        corrected = sum(1 for e in examples if e.label_id is not None)
        return record("failed", f"мало исправлений для проверки: {corrected}, нужно не меньше "
                                f"{2 * settings.min_holdout} (половина — на проверку)",
                      failed_version)
    counts = Counter(e.label for e in train_part)
    if len(counts) < 2:
        return record("failed", "в обучающей части меньше двух разных меток", failed_version)
    out = Path(settings.models_dir) / f"{label_field}-retrain-{stamp}-{newest}"
    pairs = [(e.text, e.label) for e in train_part if counts[e.label] >= 2]
    try:
        model = (trainer or _train_challenger)(pairs, label_field, out, settings.folds)
    except Exception as exc:  # noqa: BLE001 - any failure leaves the champion and is shown
        shutil.rmtree(out, ignore_errors=True)
        return record("failed", f"обучение не удалось: {type(exc).__name__}: {exc}",
                      failed_version)
    texts = [e.text for e in held]
    truth = [e.label for e in held]
    mine = figures(truth, [str(p) for p in model.predict(texts)])
    notes: list[str] = []
    if champion is not None:
        reference_name = f"активная модель {champion.version}"
        try:
            from otklik.nlp.training import load_model

            reference = figures(truth, [str(p) for p in load_model(champion.path).predict(texts)])
        except Exception as exc:  # noqa: BLE001 - an unusable champion cannot win
            notes.append(f"активную модель не удалось загрузить ({exc}); она считается нулевой")
            reference = Figures(0.0, 0.0, 0.0)
    elif label_field in registry.TOPIC_MODEL_FIELDS:
        reference_name = "словарь рубрикатора (активной модели нет)"
        reference = figures(truth, lexicon_predict(texts, label_field))
    else:
        reference_name = "самая частая метка (активной модели нет)"
        common = counts.most_common(1)[0][0]
        reference = figures(truth, [common] * len(texts))
    gain = mine.score - reference.score
    evaluation = {"held_out": len(held), "margin": settings.margin,
                  "challenger": mine.to_dict(), "champion": reference.to_dict(),
                  "champion_name": reference_name, "gain": round(gain, 4),
                  "seconds": round(time.perf_counter() - started, 1), "notes": notes}
    summary = (f"на {len(held)} последних исправлениях: претендент {mine.score:.3f} "
               f"(macro-F1 {mine.macro_f1:.3f}, weighted-F1 {mine.weighted_f1:.3f}), "
               f"{reference_name} {reference.score:.3f} (macro-F1 {reference.macro_f1:.3f}, "
               f"weighted-F1 {reference.weighted_f1:.3f}); разница {gain:+.3f}")
    version = str(model.version)
    if gain >= settings.margin:
        reason = f"активирована: лучше на {gain:+.3f} ≥ порога {settings.margin:.3f}; {summary}"
        decision = "activated"
    else:
        reason = (f"не активирована: выигрыш {gain:+.3f} меньше порога {settings.margin:.3f}; "
                  f"{summary}")
        decision = "kept"
    metrics = {"accuracy": mine.accuracy, "macro_f1": mine.macro_f1,
               "weighted_f1": mine.weighted_f1}
    outcome = record(decision, reason, version, str(out.resolve()), evaluation, metrics)
    outcome.notes = notes
    return outcome
