"""`otklik signals` end to end on a small generated stream; output checked by its schema."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
import typer
from typer.testing import CliRunner

from otklik.incidents import cli as incidents_cli
from otklik.incidents.synthetic import Stream, generate

SCHEMA = json.loads(incidents_cli.SCHEMA_FILE.read_text(encoding="utf-8"))
runner = CliRunner()


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    root = typer.Typer()
    incidents_cli.register(root)
    root.command("noop")(lambda: None)  # two commands: `signals` stays a subcommand
    return root


@pytest.fixture(scope="module")
def stream() -> Stream:
    """Three days of Kalmykia with a water outage of 25 messages and a spam flood."""
    return generate(region="85", days=3, seed=4, low=80, high=160, emergencies=(25,), spam=40)


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def run(app: typer.Typer, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["signals", *args])
    return result.exit_code, result.output


def read(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_water_outage_is_caught_and_the_spam_flood_is_not(
        app: typer.Typer, stream: Stream, tmp_path: Path) -> None:
    [outage] = stream.emergencies
    assert outage.hazard == "no_water" and len(set(stream.spam_ids)) == 40
    data = write_jsonl(tmp_path / "stream.jsonl", stream.messages)
    out = tmp_path / "signals.jsonl"
    code, output = run(app, "--data", str(data), "--out", str(out), "--region", "Калмыкия")
    assert code == 0, output
    signals = read(out)
    for signal in signals:
        jsonschema.validate(signal, SCHEMA)
    caught = [s for s in signals if set(s["message_ids"]) & set(outage.message_ids)]
    assert caught, signals
    first = min(caught, key=lambda s: s["fired_at"])
    assert first["kind"] in ("hazard", "spike", "burst")
    assert first["territory"]["region"]["code"] == "85"
    place = first["territory"]["settlement"] or first["territory"]["municipality"]
    assert place is not None and place["name"]
    assert first["people_affected"] and first["people_affected"] > 0
    # many of the outage's messages are tied to it, the later ones included
    tied = set(first["message_ids"]) & set(outage.message_ids)
    assert len(tied) >= 10 and outage.message_ids[-1] in tied
    fired = datetime.fromisoformat(first["fired_at"])
    assert fired <= outage.times[4] + timedelta(minutes=30)
    spam = set(stream.spam_ids)
    assert not [s for s in signals if set(s["message_ids"]) <= spam]
    others = [s for s in signals if not set(s["message_ids"]) & set(outage.message_ids)]
    assert len(others) <= 1  # three days of background: at most one false alarm


def test_bad_input_gives_a_result_never_an_exception(
        app: typer.Typer, tmp_path: Path) -> None:
    rows = [
        {"id": "3", "text": "В Яшкуле нет воды с утра", "created_at": "2026-10-12T09:20:00+03:00",
         "author": "a"},
        {"id": "1", "text": "Яшкуль: нет воды!", "created_at": "2026-10-12T09:00:00+03:00",
         "author": "b"},
        {"id": "1", "text": "Яшкуль: нет воды!", "created_at": "2026-10-12T09:00:00+03:00",
         "author": "b"},
        {"id": "2", "text": "нет воды", "created_at": "2026-10-12 06:10:00", "author": "c"},
        {"id": "4", "text": "Яшкуль, нет воды, сидим без воды", "created_at":
         "2026-10-12T06:30:00Z", "author": "d"},
        {"id": "5", "text": "", "created_at": "2026-10-12T06:31:00Z"},
    ]
    data = tmp_path / "odd.csv"
    with open(data, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "text", "created_at", "author"])
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path / "signals.jsonl"
    code, output = run(app, "--data", str(data), "--out", str(out), "--region", "85")
    assert code == 0, output
    signals = read(out)
    for signal in signals:
        jsonschema.validate(signal, SCHEMA)
    assert [s["message_ids"] for s in signals] == [["1", "3", "4"]]  # time order, once each
    assert signals[0]["first_message_id"] == "1"


@pytest.mark.parametrize(("content", "suffix", "expected"), [
    ('{"id": 1, "text": "a", "created_at": "2026-10-12T09:00:00Z"}\n{"id": 2, "text": \n',
     ".jsonl", "строка 2: не JSON"),
    ('{"id": 1, "text": "a", "created_at": "2026-10-12T09:00:00Z"}\n[1, 2]\n', ".jsonl",
     "строка 2: ожидался JSON-объект"),
    ('{"id": 1, "text": "a", "created_at": "вчера"}\n', ".jsonl", "строка 1: created_at"),
    ('{"id": 1, "created_at": "2026-10-12T09:00:00Z"}\n', ".jsonl", "строка 1: нет поля text"),
    ("id,text,created_at\n1,a\n", ".csv", "строка 2: 2 полей вместо 3"),
    ("id,text\n1,a\n", ".xml", "неизвестный формат .xml"),
])
def test_a_bad_file_gives_a_clear_error_naming_the_line(
        app: typer.Typer, tmp_path: Path, content: str, suffix: str, expected: str) -> None:
    data = tmp_path / f"bad{suffix}"
    data.write_text(content, encoding="utf-8")
    code, output = run(app, "--data", str(data), "--out", str(tmp_path / "s.jsonl"))
    assert code == 2
    assert expected in " ".join(output.split()), output


def test_an_unknown_region_or_bad_settings_are_refused(app: typer.Typer, tmp_path: Path
                                                       ) -> None:
    data = write_jsonl(tmp_path / "s.jsonl", [{"id": "1", "text": "a",
                                               "created_at": "2026-10-12T09:00:00Z"}])
    code, output = run(app, "--data", str(data), "--out", str(tmp_path / "o.jsonl"),
                       "--region", "Атлантида")
    assert code == 2 and "неизвестный регион" in output
    settings = tmp_path / "settings.json"
    settings.write_text('{"default": {"windw": 5}}', encoding="utf-8")
    code, output = run(app, "--data", str(data), "--out", str(tmp_path / "o.jsonl"),
                       "--settings", str(settings))
    assert code == 2 and "unknown threshold" in output
