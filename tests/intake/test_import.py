"""Importing files: twice changes nothing, broken rows are reported and the rest kept."""

import json
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from otklik.db.session import session_scope
from otklik.intake.importer import import_rows, parse_mapping, rows_of
from otklik.models.message import Message

TEXTS = [
    "Во дворе дома 5 по ул. Советской не вывозят мусор уже неделю",
    "Когда отремонтируют дорогу на Лаврова? Одни ямы",
    "Спасибо коммунальщикам, быстро починили трубу!",
]


def _write_jsonl(path: Path, rows: int, broken_every: int, tag: str) -> int:
    broken = 0
    with path.open("w", encoding="utf-8") as fh:
        for i in range(rows):
            if broken_every and i % broken_every == broken_every - 1:
                fh.write('{"id": "broken", "text": \n' if broken % 2 else '{"id": "x"}\n')
                broken += 1
                continue
            fh.write(json.dumps({"id": f"{tag}-{i}", "text": f"{TEXTS[i % 3]} ({i})",
                                 "created_at": "2026-11-20T10:00:00+03:00", "region": "68"},
                                ensure_ascii=False) + "\n")
    return broken


def _count(tag: str) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count(Message.id)).where(
            Message.source_id.like(f"{tag}-%"))) or 0


def test_same_file_twice_and_broken_rows(settings_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "stream.jsonl"
    broken = _write_jsonl(path, 300, 100, "imp1")
    assert broken == 3
    rows = rows_of(path, source="import", mapping={}, region=None, channel=None, format=None)
    first = import_rows(rows, enqueue=False)
    assert (first.read, first.stored, first.rejected) == (300, 297, 3)
    assert [n for n, _ in first.rejects] == [100, 200, 300]
    assert all(reason for _, reason in first.rejects)
    rows = rows_of(path, source="import", mapping={}, region=None, channel=None, format=None)
    second = import_rows(rows, enqueue=False)
    assert (second.stored, second.duplicates, second.rejected) == (0, 297, 3)
    assert _count("imp1") == 297


def test_cli_import_with_column_mapping(settings_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from otklik.cli import app

    path = tmp_path / "export.csv"
    path.write_text("Номер;Текст;Дата\n"
                    "imp2-1;Нет горячей воды в доме 12;20.11.2026 14:05\n"
                    "imp2-2;;20.11.2026 15:00\n"
                    "imp2-3;Сугробы по пояс во дворе;21.11.2026 08:10\n", encoding="utf-8")
    runner = CliRunner()
    args = ["import", str(path), "--source", "import", "--map", "text=Текст",
            "--map", "source_id=Номер", "--map", "created_at=Дата", "--defer"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert _count("imp2") == 2
    assert "row 3" in result.output  # the empty text is rejected with its row number
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and _count("imp2") == 2


def test_bad_mapping_and_missing_file_are_clear_errors(tmp_path: Path) -> None:
    import pytest

    from otklik.errors import InvalidInput

    with pytest.raises(InvalidInput, match="field=Column"):
        parse_mapping(["text"])
    with pytest.raises(InvalidInput, match="no such file"):
        rows_of(tmp_path / "nope.csv", source="import", mapping={}, region=None, channel=None,
                format=None)
