"""Streaming CSV/JSONL/XLSX readers with column mapping."""

from __future__ import annotations

import json
import random
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest

from otklik.channels.files import (
    RowResult,
    parse_datetime,
    read_csv,
    read_file,
    read_jsonl,
    read_xlsx,
)
from otklik.channels.schemas import IncomingMessage, Reach, Source

TEXTS = [
    "Яма на перекрёстке Ленина и Мира, уже третья машина пробила колесо",
    "Во дворе д. 5 по ул. Гагарина не вывозят мусор, контейнеры переполнены!!!",
    "спасибо коммунальщикам, дорогу почистили быстро 👍",
    "Нет горячей воды с понедельника, УК трубку не берёт",
    "Когда отремонтируют путепровод на Лаврова? 22 тыс. машин в день",
]


def messages(rows: list[RowResult]) -> list[IncomingMessage]:
    return [r.message for r in rows if r.message is not None]


def test_csv_semicolon_bom_with_mapping(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    lines = ["№;Дата;Автор;Текст;Ссылка"]
    for i, text in enumerate(TEXTS, start=1):
        lines.append(f'{i};29.11.2026 14:0{i};Житель {i};"{text}";https://vk.com/wall-1_{i}')
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8-sig")

    rows = list(read_csv(path, mapping={"text": "Текст", "created_at": "Дата"}, source="vk"))
    assert [r.error for r in rows] == [None] * 5
    assert [r.row_number for r in rows] == [2, 3, 4, 5, 6]  # as a spreadsheet shows them
    first = rows[0].message
    assert first is not None
    assert first.source == Source.vk and first.source_id == "1"
    assert first.text == TEXTS[0] and first.author_name == "Житель 1"
    assert first.created_at.isoformat() == "2026-11-29T14:01:00+03:00"
    assert first.url == "https://vk.com/wall-1_1"
    assert first.raw["Текст"] == TEXTS[0]


def test_csv_cp1251_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "cp1251.csv"
    body = "Дата,Текст,Автор\n" + "\n".join(
        f'2026-11-2{i}T10:00:00,"{t}",Иван' for i, t in enumerate(TEXTS)
    )
    path.write_bytes(body.encode("cp1251", "replace"))
    rows = list(read_csv(path, source="госпаблик Минздрава"))
    got = messages(rows)
    assert len(got) == 5 and got[3].text == TEXTS[3]
    assert got[0].source == Source.import_ and got[0].channel == "госпаблик Минздрава"


def test_csv_without_required_column_reports_once(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("Когда,Что\n1,2\n", encoding="utf-8")
    (row,) = list(read_csv(path))
    assert row.message is None and row.error is not None
    assert row.error.startswith("нет колонки") and "text" in row.error


def test_hash_ids_are_stable_so_reimport_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "noid.csv"
    path.write_text(
        "text,date\n" + "\n".join(f'"{t}",2026-11-29 1{i}:00' for i, t in enumerate(TEXTS)),
        encoding="utf-8",
    )
    ids_first = [m.source_id for m in messages(list(read_csv(path)))]
    ids_second = [m.source_id for m in messages(list(read_file(path)))]
    assert ids_first == ids_second and len(set(ids_first)) == 5
    assert all(i.startswith("row-") for i in ids_first)


def _jsonl_with_broken_rows(path: Path, total: int, broken_every: int) -> int:
    rng = random.Random(7)
    broken = 0
    with path.open("w", encoding="utf-8") as out:
        for i in range(1, total + 1):
            if i % broken_every == 0:
                broken += 1
                kind = broken % 4
                if kind == 0:
                    out.write('{"id": ' + str(i) + ', "text": "обрыв строки\n')
                elif kind == 1:
                    out.write(json.dumps({"id": i, "date": "2026-11-29"}) + "\n")
                elif kind == 2:
                    out.write(json.dumps({"id": i, "text": "тест", "date": "31.02.2026"}) + "\n")
                else:
                    out.write("[1, 2, 3]\n")
                continue
            row = {
                "id": f"m{i}",
                "text": rng.choice(TEXTS),
                "date": 1764400000 + i,
                "likes": rng.randint(0, 50),
            }
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return broken


def test_jsonl_one_percent_broken_rows_counted_exactly(tmp_path: Path) -> None:
    path = tmp_path / "stream.jsonl"
    broken = _jsonl_with_broken_rows(path, total=3000, broken_every=100)
    rows = list(read_jsonl(path))
    errors = [r for r in rows if r.error]
    assert broken == 30
    assert len(rows) == 3000
    assert len(errors) == 30 and len(messages(rows)) == 2970
    assert [r.row_number for r in errors] == list(range(100, 3001, 100))
    reasons = {r.error.split(":")[0] for r in errors if r.error}
    assert reasons == {
        "неверный JSON",
        "нет текста",
        "неверная дата",
        "строка не является JSON-объектом",
    }
    liked = messages(rows)[0]
    assert liked.reach is not None and liked.reach.likes is not None


def test_huge_text_is_truncated_and_marked(tmp_path: Path) -> None:
    huge = ("Очень длинная жалоба на управляющую компанию. " * 700)[:30_000]
    path = tmp_path / "huge.csv"
    path.write_text(f'id,text,date\n1,"{huge}",29.11.2026 14:05\n', encoding="utf-8")
    (row,) = list(read_csv(path))
    msg = row.message
    assert msg is not None
    assert len(msg.text) == 20_000
    assert msg.raw["_truncated"] is True and msg.raw["_original_length"] == len(huge.strip())
    assert msg.raw["text"] == huge  # the raw payload keeps what arrived


def test_invalid_utf8_and_control_chars(tmp_path: Path) -> None:
    path = tmp_path / "dirty.jsonl"
    good = json.dumps(
        {"id": 1, "text": "Нет\x00 света\x07 на\tулице\r\nСадовой", "date": 1764400000},
        ensure_ascii=False,
    ).encode()
    # "Не" + two bytes that are never UTF-8 + " текст"
    broken_text = "Не".encode() + b"\xff\xfe" + " текст".encode()
    bad_bytes = b'{"id": 2, "text": "' + broken_text + b'", "date": 1764400000}'
    html = json.dumps(
        {"id": 3, "text": "<p>Прорыв трубы&nbsp;на <b>Мира 7</b></p>", "date": 1764400000},
        ensure_ascii=False,
    ).encode()
    path.write_bytes(b"\n".join([good, bad_bytes, html]) + b"\n")
    first, second, third = (r.message for r in read_jsonl(path))
    assert first is not None and first.text == "Нет света на\tулице\nСадовой"
    assert first.raw["text"].startswith("Нет\x00")
    assert second is not None and second.raw["_invalid_utf8"] is True
    assert "\ufffd" in second.text and second.text.endswith("текст")
    assert "\\xff" in second.raw["text"]
    json.dumps(second.raw).encode("utf-8")  # the raw payload stays storable
    assert third is not None and third.text == "Прорыв трубы на Мира 7"


def test_xlsx_with_datetime_cells_and_numeric_ids(tmp_path: Path) -> None:
    from openpyxl import Workbook

    path = tmp_path / "export.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["ID", "Дата", "Сообщение", "Широта", "Долгота"])
    for i, text in enumerate(TEXTS, start=1):
        sheet.append([1000 + i, datetime(2026, 11, 29, 9, i), text, 52.89, 40.49])
    sheet.append([2000, "не дата", "текст", None, None])
    workbook.save(path)

    rows = list(read_xlsx(path))
    got = messages(rows)
    assert [m.source_id for m in got] == ["1001", "1002", "1003", "1004", "1005"]
    assert got[0].created_at.isoformat() == "2026-11-29T09:01:00+03:00"
    assert (got[0].lat, got[0].lon) == (52.89, 40.49)
    assert got[2].text == TEXTS[2]
    assert rows[-1].row_number == 7 and "неверная дата" in (rows[-1].error or "")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("29.11.2026 14:05", "2026-11-29T14:05:00+03:00"),
        ("29.11.2026 14:05:33", "2026-11-29T14:05:33+03:00"),
        ("29.11.2026", "2026-11-29T00:00:00+03:00"),
        ("29.11.26 8:15", "2026-11-29T08:15:00+03:00"),
        ("29 ноября 2026 г. 14:05", "2026-11-29T14:05:00+03:00"),
        ("1 мая 2026", "2026-05-01T00:00:00+03:00"),
        ("2026-11-29T14:05:00Z", "2026-11-29T14:05:00+00:00"),
        ("2026-11-29 14:05:00+05:00", "2026-11-29T14:05:00+05:00"),
        ("2026-11-29", "2026-11-29T00:00:00+03:00"),
        ("1764414300", "2025-11-29T11:05:00+00:00"),
        (1764414300000, "2025-11-29T11:05:00+00:00"),
    ],
)
def test_dates(value: object, expected: str) -> None:
    assert parse_datetime(value).isoformat() == expected


@pytest.mark.parametrize("value", ["", "вчера", "32.01.2026", "31 февраля 2026", "2026-13-01"])
def test_bad_dates_are_rejected(value: str) -> None:
    with pytest.raises(ValueError):
        parse_datetime(value)


def test_demo_style_export_round_trips(tmp_path: Path) -> None:
    original = IncomingMessage(
        source=Source.vk,
        source_id="wall-1_5_9",
        parent_source_id="wall-1_5",
        text="Опять нет воды на Советской",
        created_at=datetime(2026, 11, 29, 11, 5, tzinfo=UTC),
        author_name="Мария",
        reach=Reach(likes=3, views=120),
        region="68",
    )
    path = tmp_path / "demo.jsonl"
    path.write_text(original.model_dump_json() + "\n", encoding="utf-8")
    (row,) = list(read_file(path))
    msg = row.message
    assert msg is not None
    assert (msg.source, msg.source_id, msg.parent_source_id) == (
        Source.vk,
        "wall-1_5_9",
        "wall-1_5",
    )
    assert msg.created_at == original.created_at and msg.reach == original.reach
    assert msg.region == "68"


def test_memory_stays_flat_while_streaming(tmp_path: Path) -> None:
    def peak(lines: int) -> int:
        path = tmp_path / f"n{lines}.jsonl"
        with path.open("w", encoding="utf-8") as out:
            for i in range(lines):
                out.write(
                    json.dumps(
                        {"id": i, "text": TEXTS[i % 5], "date": 1764400000 + i}, ensure_ascii=False
                    )
                    + "\n"
                )
        tracemalloc.start()
        count = sum(1 for r in read_jsonl(path) if r.message)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert count == lines
        return top

    small, large = peak(300), peak(5_000)
    assert large < small * 2  # 16x the rows, not 16x the memory


def test_unknown_mapping_field_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("text,date\nа,2026-01-01\n", encoding="utf-8")
    with pytest.raises(ValueError):
        list(read_csv(path, mapping={"texxt": "Текст"}))
