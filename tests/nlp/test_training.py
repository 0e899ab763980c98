"""Training on a small synthetic labelled file, persistence and malformed-file errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from otklik.nlp.training import (
    TrainingDataError,
    TrainOptions,
    load_model,
    read_labelled,
    save_model,
    train,
)

CORPUS = {
    "дороги": [
        "Яма на дороге по ул. Ленина, д. 5", "Разбитый асфальт на перекрёстке",
        "Колдобины на трассе до райцентра", "Ямища у остановки, машины ломаются",
        "Дорогу в мкр Южный не ремонтировали 10 лет", "Провал асфальта на проезжей части",
        "Выбоины на ул. Мира, р-н рынка", "Ямочный ремонт сделали плохо, опять ямы",
    ],
    "жкх": [
        "Батареи холодные, отопления нет", "Нет горячей воды третий день",
        "УК не реагирует на заявки о протечке", "Крыша течёт, заливает квартиру",
        "Свет вырубили по всей улице", "В подъезде не убирают, грязь",
        "Капремонт дома затянули на год", "Канализация засорилась, вонь в подвале",
    ],
    "мусор": [
        "Мусорку не вывозят неделю", "Контейнерка переполнена, мусор на земле",
        "Стихийная свалка за гаражами", "Мусоровоз не приезжал с понедельника",
        "Баки сломаны, крышек нет", "ТКО вывозят раз в две недели",
        "Свалка строительного мусора в лесу", "Мусор у площадки разносит ветер",
    ],
}


def _pairs() -> list[tuple[str, str]]:
    return [(t, label) for label, texts in CORPUS.items() for t in texts]


@pytest.fixture(scope="module")
def trained():
    pairs = _pairs() + [("Грубость продавца в магазине", "торговля")]  # a one-example class
    return train(pairs, TrainOptions(folds=4), label_field="тема")


def test_report_has_every_figure(trained) -> None:
    report = trained.report
    assert report is not None and report.n == 25
    assert 0.0 < report.macro_f1 <= 1.0 and 0.0 < report.weighted_f1 <= 1.0
    assert report.accuracy > 0.6
    assert {c.label for c in report.per_class} == {"дороги", "жкх", "мусор", "торговля"}
    assert any("торговля" in note for note in report.notes)
    assert sum(c.support for c in report.per_class) == 25


def test_model_predicts_and_explains(trained) -> None:
    model = trained.model
    assert model.version.startswith("тема-")
    assert model.predict(["Огромная яма на дороге", "Не вывозят мусор из контейнеров"]) == [
        "дороги", "мусор"]
    proba = model.predict_proba(["Батареи ледяные, отопление не работает"])
    assert proba.shape == (1, 4) and abs(proba.sum() - 1) < 1e-6
    assert model.top_features("Огромная яма на дороге", "дороги")


def test_save_and_load(trained, tmp_path: Path) -> None:
    save_model(trained.model, tmp_path, trained.report, data_sha256="abc")
    meta = json.loads((tmp_path / "model.json").read_text(encoding="utf-8"))
    assert meta["version"] == trained.model.version
    assert meta["classes"] == trained.model.classes
    assert meta["metrics"]["macro_f1"] == trained.report.macro_f1
    assert meta["sklearn_version"] and meta["data_sha256"] == "abc" and meta["created"]
    again = load_model(tmp_path)
    texts = ["Контейнеры переполнены", "Ямы на дороге"]
    assert again.predict(texts) == trained.model.predict(texts)


def test_load_rejects_a_folder_without_model(tmp_path: Path) -> None:
    with pytest.raises(TrainingDataError, match="model.joblib"):
        load_model(tmp_path)


def test_single_class_is_refused() -> None:
    with pytest.raises(TrainingDataError, match="два разных"):
        train([("Яма на дороге", "дороги"), ("Ещё яма", "дороги")])


def _write_csv(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_csv_with_header_and_headerless(tmp_path: Path) -> None:
    rows = [["1", "Яма на дороге", "дороги"], ["2", "Мусор не вывозят", "мусор"]]
    with_header = _write_csv(tmp_path / "a.csv", [["id", "text", "topic"], *rows])
    assert read_labelled(with_header, "text", "topic") == [
        ("Яма на дороге", "дороги"), ("Мусор не вывозят", "мусор")]
    headerless = _write_csv(tmp_path / "b.csv", rows)
    assert len(read_labelled(headerless, "text", "topic", columns=["id", "text", "topic"])) == 2
    with pytest.raises(TrainingDataError, match="--columns"):
        read_labelled(headerless, "text", "topic")


def test_malformed_csv_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("id,text,topic\n1,Яма на дороге,дороги\n2,Мусор,мусор,лишнее\n",
                    encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"строка 3: 4 полей вместо 3"):
        read_labelled(path, "text", "topic")


def test_empty_label_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("text,topic\nЯма,дороги\nМусор,\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"строка 3: пустая метка topic"):
        read_labelled(path, "text", "topic")


def test_malformed_jsonl_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "Яма", "label": "дороги"}\n{"text": "Мусор", "label": \n',
                    encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"строка 2: не JSON"):
        read_labelled(path, "text", "label")


def test_unknown_extension_and_binary_file(tmp_path: Path) -> None:
    with pytest.raises(TrainingDataError, match="неизвестный формат"):
        read_labelled(tmp_path / "data.xlsx")
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"text,label\n\xff\xfe\x00\x81garbage,1\n")
    with pytest.raises(TrainingDataError, match="UTF-8"):
        read_labelled(binary, "text", "label")
