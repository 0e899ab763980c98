"""`otklik train` and `otklik enrich` end to end; output validated by the JSON schema."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import jsonschema
import pytest
import typer
from typer.testing import CliRunner

import otklik.nlp
from otklik.intake import cli as intake_cli
from otklik.intake import enrich_cli
from otklik.language import cli as nlp_cli

SCHEMA = json.loads(
    (Path(otklik.nlp.__file__).with_name("enrich_schema.json")).read_text(encoding="utf-8")
)
runner = CliRunner()

TRAIN_ROWS = [
    ("Яма на дороге по ул. Ленина", "roads"), ("Разбитый асфальт, колдобины", "roads"),
    ("Дорогу не ремонтируют, ямы", "roads"), ("Выбоины на трассе к селу", "roads"),
    ("Колея и ямы на проезжей части", "roads"), ("Асфальт провалился у моста", "roads"),
    ("Мусор не вывозят неделю", "waste"), ("Контейнеры переполнены", "waste"),
    ("Свалка за гаражами", "waste"), ("Мусорку не убирают", "waste"),
    ("ТКО лежат вокруг баков", "waste"), ("Мусоровоз не приезжает", "waste"),
]
MESSAGES = [
    {"id": "1", "text": "<p>В пос. Кшенский на ул. Советской, д. 3 огромные ямы на дороге</p>"},
    {"id": "2", "text": "Мусорку не вывозят вторую неделю, звоните 8 910 123-45-67"},
    {"id": "3", "text": ""},
    {"id": "4", "text": "😀😀😀"},
    {"id": "5", "text": "Hello, just testing"},
    {"id": "6", "text": "Мусорку не вывозят вторую неделю, звоните 8 910 123-45-67"},
    {"id": "7", "text": "Спасибо администрации Льговского района за освещение!"},
]


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    root = typer.Typer()
    nlp_cli.register(root)
    intake_cli.register(root)
    return root


@pytest.fixture(scope="module")
def model_dir(app: typer.Typer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("train")
    data = folder / "train.csv"
    with open(data, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        for i, (text, label) in enumerate(TRAIN_ROWS):
            writer.writerow([i, text, label])
    out = folder / "model"
    result = runner.invoke(app, ["train", "--data", str(data), "--text-field", "text",
                                 "--label-field", "topic", "--columns", "id,text,topic",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "macro-F1" in result.output and "weighted-F1" in result.output
    assert "простая база" in result.output and "разница" in result.output
    return out


def _messages(tmp_path: Path) -> Path:
    path = tmp_path / "messages.jsonl"
    path.write_text("".join(json.dumps(m, ensure_ascii=False) + "\n" for m in MESSAGES),
                    encoding="utf-8")
    return path


def test_train_saves_a_versioned_model(model_dir: Path) -> None:
    meta = json.loads((model_dir / "model.json").read_text(encoding="utf-8"))
    assert meta["label_field"] == "topic" and meta["classes"] == ["roads", "waste"]
    assert meta["metrics"]["folds"] == 5 and len(meta["data_sha256"]) == 64


def test_enrich_output_validates(app: typer.Typer, model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["enrich", "--data", str(_messages(tmp_path)), "--out", str(out),
                                 "--model", str(model_dir), "--region", "Курская область"])
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(MESSAGES)
    records = [json.loads(line) for line in lines]
    for rec in records:
        jsonschema.validate(rec, SCHEMA)
    by_id = {r["id"]: r for r in records}
    assert by_id["1"]["topic"]["code"] == "roads"
    assert by_id["1"]["label"]["value"] == "roads"
    assert by_id["2"]["label"]["value"] == "waste"
    assert any(p["type"] == "phone" for p in by_id["2"]["pii"])
    assert by_id["6"]["duplicate_of"] == "2"
    for bad in ("3", "4", "5"):
        assert by_id[bad]["relevant"] is False


def test_enrich_csv_without_model(app: typer.Typer, tmp_path: Path) -> None:
    data = tmp_path / "m.csv"
    with open(data, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        writer.writerow(["a", "Не горят фонари на ул. Мира, темно"])
    out = tmp_path / "o.jsonl"
    result = runner.invoke(app, ["enrich", "--data", str(data), "--out", str(out),
                                 "--region", "46"])
    assert result.exit_code == 0, result.output
    [rec] = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    jsonschema.validate(rec, SCHEMA)
    assert rec["label"] is None


def test_enrich_reads_gzip_jsonl(app: typer.Typer, tmp_path: Path) -> None:
    data = tmp_path / "m.jsonl.gz"
    with gzip.open(data, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({"id": "a", "text": "Не горят фонари на ул. Мира"},
                                ensure_ascii=False) + "\n")
    out = tmp_path / "o.jsonl"
    result = runner.invoke(app, ["enrich", "--data", str(data), "--out", str(out)])
    assert result.exit_code == 0, result.output
    [rec] = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    jsonschema.validate(rec, SCHEMA)
    no_text = tmp_path / "n.jsonl.gz"
    with gzip.open(no_text, "wt", encoding="utf-8") as handle:
        handle.write('{"id": "a", "body": "x"}\n')
    result = runner.invoke(app, ["enrich", "--data", str(no_text), "--out", str(out)])
    assert result.exit_code == 2 and "нет поля text" in result.output
    assert "--columns" not in result.output  # JSON has its field names: no header hint


def test_region_forms_resolve_to_one_code() -> None:
    assert {enrich_cli.resolve_region(v) for v in ("Тамбовская область", "Тамбовская", "68")} == {
        "68"}


def test_unknown_region_is_a_clear_error(app: typer.Typer, tmp_path: Path) -> None:
    result = runner.invoke(app, ["enrich", "--data", str(_messages(tmp_path)),
                                 "--out", str(tmp_path / "o.jsonl"), "--region", "Атлантида"])
    assert result.exit_code != 0
    assert "--region" in result.output
    assert "Traceback" not in result.output


def test_malformed_training_file(app: typer.Typer, tmp_path: Path) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text('{"text": "Яма", "topic": "roads"}\n{broken\n', encoding="utf-8")
    result = runner.invoke(app, ["train", "--data", str(data), "--label-field", "topic",
                                 "--out", str(tmp_path / "m")])
    assert result.exit_code != 0
    assert "строка 2" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_train_reads_gzip_and_names_single_example_labels(app: typer.Typer,
                                                          tmp_path: Path) -> None:
    data = tmp_path / "train.jsonl.gz"
    rows = [*TRAIN_ROWS, ("Грубость продавца в магазине", "trade")]
    with gzip.open(data, "wt", encoding="utf-8") as handle:
        for text, label in rows:
            handle.write(json.dumps({"text": text, "topic": label}, ensure_ascii=False) + "\n")
    result = runner.invoke(app, ["train", "--data", str(data), "--label-field", "topic",
                                 "--folds", "3", "--out", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    assert "«trade» (строка 13)" in " ".join(result.output.split())
    meta = json.loads((tmp_path / "m" / "model.json").read_text(encoding="utf-8"))
    assert meta["classes"] == ["roads", "waste"]


def test_train_names_unknown_compression_and_unlabelled_lines(app: typer.Typer,
                                                               tmp_path: Path) -> None:
    packed = tmp_path / "train.jsonl.zst"
    packed.write_bytes(b"\x28\xb5\x2f\xfd")
    result = runner.invoke(app, ["train", "--data", str(packed), "--label-field", "topic",
                                 "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "сжатие zstd (.zst) не поддерживается" in result.output
    data = tmp_path / "train.jsonl"
    data.write_text('{"text": "Яма", "topic": "roads"}\n{"text": "Мусор"}\n'
                    '{"text": "Свалка", "topic": ""}\n', encoding="utf-8")
    result = runner.invoke(app, ["train", "--data", str(data), "--label-field", "topic",
                                 "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "строки 2, 3: нет метки topic" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_missing_label_field_suggests_columns(app: typer.Typer, tmp_path: Path) -> None:
    data = tmp_path / "nohead.csv"
    data.write_text("1,Яма на дороге,roads\n2,Мусор,waste\n", encoding="utf-8")
    result = runner.invoke(app, ["train", "--data", str(data), "--label-field", "topic",
                                 "--out", str(tmp_path / "m")])
    assert result.exit_code != 0
    assert "--columns" in result.output
