"""The weekly learning loop (otklik.language.retraining), SQLite and PostgreSQL: operators'
corrections → a challenger → compared with the champion on the newest corrections →
activated, or kept when it is not better by the margin, or failed with the reason (the
champion stays active); when a run is due; the models page shows the decision and why."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session
from tests.builders import PASSWORD, make_user
from tests.conftest import jobs_database, login, own_database
from typer.testing import CliRunner

from otklik.audit.actor import Actor
from otklik.cli import app
from otklik.errors import InvalidInput
from otklik.language import registry
from otklik.language.retraining import RetrainSettings, is_due, retrain, split_history
from otklik.models.account import Role
from otklik.models.audit import AuditEntry
from otklik.models.case import Label, ModelVersion
from otklik.models.message import Message
from otklik.nlp.training import TrainOptions, save_model, train

SYSTEM = Actor.system("tests")
NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
_ids = count(1)

VOCAB = {
    "roads": ["яма", "асфальт", "выбоина", "дорога", "колея", "обочина", "разметка", "бордюр"],
    "waste": ["мусор", "контейнер", "свалка", "бак", "мусоровоз", "отходы", "урна", "пакеты"],
    "heat": ["батарея", "отопление", "холодно", "радиатор", "котельная", "теплосеть", "стояк",
             "градусов"],
}
FILLER = ["во", "дворе", "у", "дома", "на", "улице", "снова", "опять", "уже", "неделю", "прошу",
          "помочь", "жители", "давно"]


def _text(rng: random.Random, label: str) -> str:
    words = rng.sample(VOCAB[label], 3) + rng.sample(FILLER, 4)
    rng.shuffle(words)
    return " ".join(words).capitalize()


def _corrections(session: Session, n: int, *, seed: int, noisy_older_than: int | None = None
                 ) -> list[Label]:
    """``n`` messages, each corrected by an operator (the newest last). With
    ``noisy_older_than``: every correction but the last ``noisy_older_than`` gets a random
    label (an operator pressing the wrong button), the newest are right."""
    rng = random.Random(seed)
    labels = list(VOCAB)
    out: list[Label] = []
    for i in range(n):
        k = next(_ids)
        true = labels[i % len(labels)]
        at = NOW - timedelta(days=30) + timedelta(minutes=i)
        text = _text(rng, true)
        message = Message(source="vk", source_id=f"learning-{k}", region_code="68", text=text,
                          text_length=len(text), content_hash=f"learning{k}", created_at=at,
                          received_at=at, enrich_status="done", attachments=[], raw={})
        session.add(message)
        session.flush()
        given = true
        if noisy_older_than is not None and i < n - noisy_older_than:
            given = rng.choice(labels)
        label = Label(message_id=message.id, field="topic", value=given, previous="other",
                      created_at=at)
        session.add(label)
        out.append(label)
    session.flush()
    return out


def _settings(tmp_path: Path, **changes: Any) -> RetrainSettings:
    return RetrainSettings(models_dir=tmp_path / "models", **{"min_holdout": 10, **changes})


def _champion(session: Session, tmp_path: Path) -> ModelVersion:
    """A good model trained on other clean texts, registered and active."""
    rng = random.Random(99)
    pairs = [(_text(rng, label), label) for _ in range(20) for label in VOCAB]
    result = train(pairs, TrainOptions(folds=3), evaluate=False, label_field="topic")
    folder = save_model(result.model, tmp_path / "champion")
    return registry.register(session, SYSTEM, folder, activate=True)


def test_a_better_challenger_is_activated(session: Session, tmp_path: Path) -> None:
    _corrections(session, 90, seed=1)
    settings = _settings(tmp_path)
    due, why = is_due(session, "topic", NOW, settings)
    assert due and "первое" in why  # 90 < 200, but no run yet

    outcome = retrain(session, SYSTEM, "topic", settings=settings, now=NOW)

    row = outcome.row
    assert row is not None and row.decision == "activated" and row.active
    assert registry.active_row(session, "topic") is row
    evaluation = row.evaluation or {}
    assert evaluation["held_out"] == 18  # the newest 20 % of 90 corrections
    assert evaluation["champion_name"].startswith("словарь рубрикатора")  # no model yet
    assert evaluation["challenger"]["weighted_f1"] > 0.8
    assert evaluation["gain"] >= settings.margin
    assert row.trained_on == 72 and row.compared_with is None
    assert "активирована" in (row.reason or "")
    assert (Path(row.path) / "model.json").exists()
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "model.retrain",
                                                   AuditEntry.object_id == str(row.id)))
    # The run saw every correction: nothing is due until new ones arrive.
    assert is_due(session, "topic", NOW, settings) == (False, "нет новых исправлений операторов")
    assert retrain(session, SYSTEM, "topic", settings=settings, now=NOW).row is None


def test_a_worse_challenger_is_kept_out(session: Session, tmp_path: Path) -> None:
    champion = _champion(session, tmp_path)
    # 100 corrections: the older 80 carry random labels, the newest 20 (held out) are right.
    _corrections(session, 100, seed=2, noisy_older_than=20)

    outcome = retrain(session, SYSTEM, "topic", settings=_settings(tmp_path), now=NOW)

    row = outcome.row
    assert row is not None and row.decision == "kept" and not row.active
    assert registry.active_row(session, "topic") is champion and champion.active
    evaluation = row.evaluation or {}
    assert row.compared_with == champion.version
    assert evaluation["champion"]["weighted_f1"] > evaluation["challenger"]["weighted_f1"]
    assert evaluation["gain"] < 0 and "не активирована" in (row.reason or "")
    # It stays a challenger an admin may still activate by hand, and roll back from.
    registry.activate_version(session, SYSTEM, row.version)
    assert registry.rollback(session, SYSTEM, "topic").version == champion.version


def test_not_better_by_the_margin_is_kept(session: Session, tmp_path: Path) -> None:
    _corrections(session, 60, seed=3)
    outcome = retrain(session, SYSTEM, "topic", settings=_settings(tmp_path, margin=1.0),
                      now=NOW)
    assert outcome.row is not None and outcome.row.decision == "kept"
    assert "меньше порога 1.000" in (outcome.row.reason or "")
    assert registry.active_row(session, "topic") is None


def test_a_failed_challenger_leaves_the_champion(session: Session, tmp_path: Path) -> None:
    champion = _champion(session, tmp_path)
    _corrections(session, 60, seed=4)

    def broken(*_args: Any) -> Any:
        raise MemoryError("не хватило памяти")

    outcome = retrain(session, SYSTEM, "topic", settings=_settings(tmp_path), now=NOW,
                      trainer=broken)
    row = outcome.row
    assert row is not None and row.decision == "failed" and not row.active and row.path == ""
    assert "обучение не удалось: MemoryError: не хватило памяти" in (row.reason or "")
    assert registry.active_row(session, "topic") is champion
    with pytest.raises(InvalidInput, match="failed to train"):
        registry.activate_version(session, SYSTEM, row.version)
    assert not list((tmp_path / "models").glob("*"))  # nothing half-written is left


def test_too_few_corrections_to_check_is_a_failure_with_a_reason(
        session: Session, tmp_path: Path) -> None:
    _corrections(session, 12, seed=5)
    outcome = retrain(session, SYSTEM, "topic", settings=_settings(tmp_path), now=NOW)
    assert outcome.row is not None and outcome.row.decision == "failed"
    assert "мало исправлений для проверки: 12, нужно не меньше 20" in (outcome.row.reason or "")


def test_when_a_run_is_due(session: Session, tmp_path: Path) -> None:
    settings = _settings(tmp_path, min_corrections=30, every_days=7)
    assert is_due(session, "topic", NOW, settings)[0] is False
    _corrections(session, 60, seed=6)
    first = retrain(session, SYSTEM, "topic", settings=settings, now=NOW)
    assert first.row is not None
    _corrections(session, 5, seed=7)
    due, why = is_due(session, "topic", NOW + timedelta(days=1), settings)
    assert not due and "5 < 30" in why
    assert is_due(session, "topic", NOW + timedelta(days=8), settings)[0]  # a week passed
    _corrections(session, 25, seed=8)
    assert is_due(session, "topic", NOW + timedelta(days=1), settings) == (
        True, "новых исправлений: 30 (порог 30)")


def test_the_newest_corrections_are_held_out(session: Session) -> None:
    labels = _corrections(session, 50, seed=9)
    examples = registry.history(session, "topic")
    train_part, held = split_history(examples, RetrainSettings(holdout=0.2, min_holdout=5))
    newest = {label.message_id for label in labels[-10:]}
    assert {e.message_id for e in held} == newest
    assert not newest & {e.message_id for e in train_part} and len(train_part) == 40


def test_the_models_page_shows_champion_challengers_and_why(
        session: Session, client: Any, tmp_path: Path) -> None:
    champion = _champion(session, tmp_path)
    _corrections(session, 60, seed=10)

    def broken(*_args: Any) -> Any:
        raise RuntimeError("диск переполнен")

    failed = retrain(session, SYSTEM, "topic", settings=_settings(tmp_path), now=NOW,
                     trainer=broken).row
    kept = retrain(session, SYSTEM, "topic", settings=_settings(tmp_path, margin=1.0),
                   now=NOW, force=True).row
    assert failed is not None and kept is not None
    admin = make_user(session, Role.admin, ["68"])
    login(client, admin.username, PASSWORD)
    page = client.get("/admin/models")
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", page.text)
    assert "обучение не удалось: RuntimeError: диск переполнен" in text
    assert f'id="model-{failed.id}" data-decision="failed"' in text
    assert f'id="model-{kept.id}" data-decision="kept"' in text
    assert "не активирован" in text and "чемпион" in text and "претендент" in text
    assert f"сравнение с {champion.version}" in text
    failed_row = text.split(f'id="model-{failed.id}"')[1].split("</tr>")[0]
    assert "/admin/models/activate" not in failed_row  # a failed one cannot be activated
    kept_row = text.split(f'id="model-{kept.id}"')[1].split("</tr>")[0]
    assert "/admin/models/activate" in kept_row and "macro-F1" in kept_row
    assert "Откатить: topic" in text  # rollback in one click stays


# -- end to end through the command cron runs --------------------------------------------------

own_url = own_database("learning")
runner = CliRunner()


@pytest.fixture
def db(own_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Engine]:
    monkeypatch.setenv("OTKLIK_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("OTKLIK_RETRAIN_MIN_HOLDOUT", "10")
    with jobs_database(own_url, monkeypatch, empty=(
            delete(Label), delete(ModelVersion), delete(Message))) as engine:
        yield engine


def test_otklik_models_retrain_end_to_end(db: Engine) -> None:
    quiet = runner.invoke(app, ["models", "retrain"])
    assert quiet.exit_code == 0, quiet.output
    assert "исправлений операторов нет" in quiet.output
    with Session(db) as session:
        _corrections(session, 60, seed=11)
        session.commit()

    first = runner.invoke(app, ["models", "retrain"])
    assert first.exit_code == 0, first.output
    assert "topic: activated" in first.output
    with Session(db) as session:
        row = session.scalar(select(ModelVersion).where(ModelVersion.active.is_(True)))
        assert row is not None and row.decision == "activated" and row.label_field == "topic"
        version = row.version

    again = runner.invoke(app, ["models", "retrain", "--label-field", "topic"])
    assert again.exit_code == 0 and "topic: не нужно — нет новых исправлений" in again.output
    forced = runner.invoke(app, ["models", "retrain", "--label-field", "topic", "--force"])
    assert forced.exit_code == 0, forced.output
    assert "topic: kept" in forced.output or "topic: activated" in forced.output
    listed = runner.invoke(app, ["models", "list"])
    assert listed.exit_code == 0 and "activated" in listed.output and version[:5] in listed.output
    bad = runner.invoke(app, ["models", "retrain", "--label-field", "colour"])
    assert bad.exit_code != 0 and "--label-field: colour" in bad.output


def test_train_from_db_names_a_single_example_label(db: Engine, tmp_path: Path) -> None:
    with Session(db) as session:
        labels = _corrections(session, 30, seed=12)
        lonely = labels[0]
        lonely.value = "bridges"  # one correction only says «bridges»
        session.commit()
        lonely_message = lonely.message_id
    result = runner.invoke(app, ["train", "--from-db", "--label-field", "topic", "--no-eval",
                                 "--out", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert f"«bridges» (сообщение {lonely_message})" in flat
    assert "29 записей, 3 классов" in flat
