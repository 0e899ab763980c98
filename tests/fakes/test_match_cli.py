"""`otklik fakes match` end to end: the output checked by its schema; bad files named by line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import jsonschema
import pytest
import typer
from typer.testing import CliRunner

from otklik.fakes import cli as fakes_cli
from otklik.fakes.synthetic import generate

SCHEMA = json.loads(fakes_cli.SCHEMA_FILE.read_text(encoding="utf-8"))
runner = CliRunner()


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    root = typer.Typer()
    fakes_cli.register(root)
    root.command("noop")(lambda: None)
    return root


def run(app: typer.Typer, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["fakes", "match", *args])
    return result.exit_code, " ".join(result.output.split())  # the console wraps long lines


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    return path


def read(path: Path) -> list[dict[str, object]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for row in rows:
        jsonschema.validate(row, SCHEMA)
    return rows


def test_a_csv_registry_and_jsonl_messages_give_one_valid_line_each(
        app: typer.Typer, tmp_path: Path) -> None:
    data = generate(seed=5, rounds=1, unrelated=40)
    registry = tmp_path / "fakes.csv"
    with open(registry, "w", encoding="utf-8-sig", newline="") as handle:  # as Excel saves
        writer = csv.writer(handle)
        writer.writerow(["id", "claim"])
        writer.writerows(data.claims.items())
    messages = write_jsonl(tmp_path / "messages.jsonl",
                           [{"id": m["id"], "text": m["text"]} for m in data.messages])
    out = tmp_path / "out" / "matches.jsonl"
    code, output = run(app, "--registry", str(registry), "--data", str(messages),
                       "--out", str(out))
    assert code == 0, output
    rows = read(out)
    assert [r["id"] for r in rows] == [m["id"] for m in data.messages]
    truth = {m["id"]: m for m in data.messages}
    copies = [r for r in rows if truth[str(r["id"])]["kind"] == "emoji"]
    assert all(r["fake_id"] == truth[str(r["id"])]["fake_id"] for r in copies)
    denials = [r for r in rows if truth[str(r["id"])]["kind"] == "denial"]
    assert denials and all(r["fake_id"] is None and r["refutes"] for r in denials)
    unrelated = [r for r in rows if truth[str(r["id"])]["kind"] == "unrelated"]
    assert sum(r["fake_id"] is not None for r in unrelated) <= 1


def test_ids_come_back_as_the_files_wrote_them(app: typer.Typer, tmp_path: Path) -> None:
    """JSON numbers stay numbers (a checker comparing ids as numbers finds its own), strings
    stay strings, in the message id and in the fake's."""
    claim = "В Элисте отравлена вода в водопроводе, не пейте воду из-под крана"
    registry = write_jsonl(tmp_path / "fakes.jsonl", [{"id": 7, "claim": claim},
                                                      {"id": "f-2", "claim": "С понедельника "
                                                       "закрывают все школы области"}])
    messages = write_jsonl(tmp_path / "messages.jsonl", [
        {"id": 101, "text": "Срочно! В Элисте отравили воду в водопроводе, воду из-под "
                            "крана не пейте!!! Распространите"},
        {"id": "m-2", "text": "с понедельника закрывают все школы области, говорят"},
        {"id": 103, "text": "Во дворе на Ленина третий день не вывозят мусор"}])
    out = tmp_path / "matches.jsonl"
    code, output = run(app, "--registry", str(registry), "--data", str(messages),
                       "--out", str(out))
    assert code == 0, output
    rows = read(out)
    assert [(r["id"], r["fake_id"]) for r in rows] == [(101, 7), ("m-2", "f-2"), (103, None)]


def test_broken_lines_are_named_and_the_rest_is_matched(
        app: typer.Typer, tmp_path: Path) -> None:
    registry = tmp_path / "fakes.jsonl"
    registry.write_text(
        '{"id": "f1", "claim": "В Элисте в водопровод попали сточные воды, вода заражена"}\n'
        '{"id": "f2", "claim": \n'
        '["not", "an", "object"]\n'
        '{"claim": "без id"}\n', encoding="utf-8")
    messages = tmp_path / "messages.csv"
    messages.write_bytes(
        "id,text\n1,СРОЧНО! В Элисте в водопровод попали сточные воды 😱 вода заражена\n"
        "2,\n3,\x00\x01\xff\xfe binary\n".encode() + b"4,\xff\xfe\x00bytes\n"
        + "5,Нет воды в Элисте третий день\n".encode())
    out = tmp_path / "matches.jsonl"
    code, output = run(app, "--registry", str(registry), "--data", str(messages),
                       "--out", str(out))
    assert code == 0, output
    assert "строка 2" in output and "строка 3" in output and "строка 4" in output
    rows = read(out)
    assert [r["id"] for r in rows] == ["1", "2", "3", "4", "5"]
    assert [r["fake_id"] for r in rows] == ["f1", None, None, None, None]


def test_a_csv_quote_left_open_is_named_not_swallowing_the_rest(
        app: typer.Typer, tmp_path: Path) -> None:
    registry = tmp_path / "fakes.csv"
    registry.write_text(
        'id,claim\n'
        'f1,"В Элисте в водопровод попали сточные воды, вода заражена"\n'
        'f2,"a stray" quote\n'
        'f3,В Лагани закрыли роддом рожениц возят в Элисту\n'
        'f4,"a quote left open\n'
        'f5,С понедельника закрывают все школы\n', encoding="utf-8")
    data = write_jsonl(tmp_path / "m.jsonl", [
        {"id": "1", "text": "В Лагани закрыли роддом, рожениц возят в Элисту!"},
        {"id": "2", "text": "в элисте вода заражена, сточные воды попали в водопровод"}])
    out = tmp_path / "o.jsonl"
    code, output = run(app, "--registry", str(registry), "--data", str(data),
                       "--out", str(out))
    assert code == 0, output
    assert "пропущено строк 2" in output and "строка 3:" in output
    assert "строка 5: строка CSV не читается (кавычка не закрыта до конца файла)" in output
    assert "(реестр 2)" in output  # f1 and f3: f4 did not eat f5 as its claim
    assert [r["fake_id"] for r in read(out)] == ["f3", "f1"]


def test_a_binary_file_is_a_clear_error(app: typer.Typer, tmp_path: Path) -> None:
    registry = tmp_path / "fakes.csv"
    registry.write_bytes(bytes(range(256)) * 8)
    data = write_jsonl(tmp_path / "m.jsonl", [{"id": "1", "text": "вода"}])
    code, output = run(app, "--registry", str(registry), "--data", str(data),
                       "--out", str(tmp_path / "o.jsonl"))
    assert code == 2 and "двоичные данные" in output, output


@pytest.mark.parametrize(("registry", "message"), [
    ("", "ни одного фейка"),
    ("id,text\n1,x\n", "столбцы 'id' и 'claim'"),
    ('{"id": 1}\n', "ни одного фейка"),
])
def test_a_registry_without_fakes_is_a_clear_error(
        app: typer.Typer, tmp_path: Path, registry: str, message: str) -> None:
    path = tmp_path / ("fakes.csv" if registry.startswith("id,") else "fakes.jsonl")
    path.write_text(registry, encoding="utf-8")
    data = write_jsonl(tmp_path / "m.jsonl", [{"id": "1", "text": "вода"}])
    code, output = run(app, "--registry", str(path), "--data", str(data),
                       "--out", str(tmp_path / "o.jsonl"))
    assert code == 2 and message in output, output


def test_a_missing_file_is_a_clear_error(app: typer.Typer, tmp_path: Path) -> None:
    registry = write_jsonl(tmp_path / "f.jsonl", [{"id": "f1", "claim": "вода заражена"}])
    code, output = run(app, "--registry", str(registry), "--data", str(tmp_path / "nope.csv"),
                       "--out", str(tmp_path / "o.jsonl"))
    assert code == 2 and "--data" in output and "nope.csv" in output, output


def test_the_command_is_registered_in_the_cli() -> None:
    from otklik.cli import app as root

    result = runner.invoke(root, ["fakes", "match", "--help"])
    assert result.exit_code == 0 and "--registry" in result.output
