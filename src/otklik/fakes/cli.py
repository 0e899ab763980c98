"""``otklik fakes match``: the matcher over files, offline (JSONL of matches out, no database)."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from otklik.console import err, fail

SCHEMA_FILE = Path(__file__).with_name("match_schema.json")
#: Lines that could not be read are named in the warning, at most this many.
MAX_NAMED = 20

fakes_app = typer.Typer(help="Фейки: реестр ложных утверждений и поиск их копий.",
                        no_args_is_help=True)


class RecordError(ValueError):
    """A file that cannot be read at all (its lines' errors are reported one by one)."""


def read_records(path: Path, fields: tuple[str, str]
                 ) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line number, record) for every line of a CSV or JSONL file with the two fields, or
    (line number, what is wrong) for a line that cannot be read. The format is told by the
    extension (.csv, .jsonl/.json) or, failing that, by the first character."""
    key, value = fields
    try:
        handle = open(path, encoding="utf-8-sig", errors="replace", newline="")
    except OSError as exc:
        raise RecordError(f"{path}: {exc.strerror or exc}") from None
    with handle:
        suffix = path.suffix.lower()
        head = handle.read(1)
        handle.seek(0)
        if suffix == ".csv" or (suffix not in (".jsonl", ".json", ".ndjson") and head != "{"):
            yield from _csv(handle, key, value)
        else:
            yield from _jsonl(handle, key, value)


def _text(record: dict[str, object], key: str, value: str) -> dict[str, Any] | str:
    """The record's id (a JSON number stays a number, so the output names it as the input
    did; a string is stripped) and text, or what is wrong with it."""
    ident = record.get(key)
    text = record.get(value)
    if ident is None or (isinstance(ident, str) and not ident.strip()):
        return f"нет поля {key!r}"
    if not isinstance(ident, str | int) or isinstance(ident, bool):
        return f"поле {key!r} должно быть строкой или числом"
    if text is None:
        text = ""
    if not isinstance(text, str):
        return f"поле {value!r} должно быть строкой"
    return {key: ident.strip() if isinstance(ident, str) else ident,
            value: text.replace("\ufffd", " ")}


def _jsonl(handle: TextIO, key: str, value: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    for number, line in enumerate(handle, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, f"не JSON ({exc.msg})"
            continue
        except ValueError as exc:  # e.g. a number too long to read
            yield number, f"не JSON ({exc})"
            continue
        yield number, (_text(record, key, value) if isinstance(record, dict)
                       else "ожидался объект JSON")


def _csv(handle: TextIO, key: str, value: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    csv.field_size_limit(sys.maxsize)
    # strict: a quote left open is an error named by its lines, not the rest of the file
    # swallowed into one field; a stray quote after a closed one is a broken line too.
    reader = csv.DictReader(handle, strict=True)
    try:
        columns = reader.fieldnames or []
    except csv.Error as exc:
        raise RecordError(f"заголовок CSV не читается ({exc})") from None
    if key not in columns or value not in columns:
        shown = ", ".join(columns)
        if "\ufffd" in shown or not shown.isprintable():
            raise RecordError("не похоже на CSV или JSONL в UTF-8: в первой строке двоичные "
                              "данные")
        raise RecordError(f"в заголовке CSV нужны столбцы {key!r} и {value!r}, "
                          f"есть: {shown[:200] or 'ничего'}")
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            why = ("кавычка не закрыта до конца файла" if "end of data" in str(exc)
                   else str(exc))
            yield start, f"строка CSV не читается ({why})"
            continue
        if None in row:
            yield reader.line_num, "лишние столбцы"
            continue
        yield reader.line_num, _text(dict(row), key, value)


def _warn(path: Path, errors: list[tuple[int, str]]) -> None:
    if errors:
        named = "; ".join(f"строка {n}: {why}" for n, why in errors[:MAX_NAMED])
        more = f" и ещё {len(errors) - MAX_NAMED}" if len(errors) > MAX_NAMED else ""
        err.print(f"[yellow]{path}: пропущено строк {len(errors)}[/yellow] — {named}{more}",
                  highlight=False)


@fakes_app.command("match")
def match_command(
    registry: Annotated[Path, typer.Option(
        "--registry", help="реестр фейков: CSV или JSONL с полями id, claim")],
    data: Annotated[Path, typer.Option(
        "--data", help="сообщения: CSV или JSONL с полями id, text")],
    out: Annotated[Path, typer.Option("--out", help="куда писать результат (JSONL)")],
    threshold: Annotated[float | None, typer.Option(
        "--threshold", min=0.0, max=1.0, help="порог совпадения (по умолчанию 0.6)")] = None,
) -> None:
    """Сопоставить сообщения с реестром фейков: на каждую строку --data одна строка JSON
    (id, fake_id или null, score, explain, refutes); база не нужна."""
    from otklik.fakes.matcher import THRESHOLD, Fake, FakeMatcher

    fakes: list[Fake] = []
    given: dict[str, object] = {}  # the registry's ids as written (numbers stay numbers)
    errors: list[tuple[int, str]] = []
    try:
        for number, record in read_records(registry, ("id", "claim")):
            if isinstance(record, str):
                errors.append((number, record))
            elif not record["claim"].strip():
                errors.append((number, "пустое поле 'claim'"))
            else:
                given[str(record["id"])] = record["id"]
                fakes.append(Fake(str(record["id"]), record["claim"]))
    except RecordError as exc:
        raise fail(f"--registry {exc}") from None
    _warn(registry, errors)
    if not fakes:
        raise fail(f"--registry {registry}: ни одного фейка (нужны поля id и claim)")
    matcher = FakeMatcher(fakes, THRESHOLD if threshold is None else threshold)
    errors = []
    matched = total = 0
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "w", encoding="utf-8") as handle:
            for number, record in read_records(data, ("id", "text")):
                if isinstance(record, str):
                    errors.append((number, record))
                    continue
                result = matcher.match(record["text"])
                total += 1
                matched += result.fake_id is not None
                line = result.as_dict(record["id"])
                for name in ("fake_id", "refutes"):
                    if line[name] is not None:
                        line[name] = given.get(str(line[name]), line[name])
                handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    except RecordError as exc:
        raise fail(f"--data {exc}") from None
    except OSError as exc:
        raise fail(f"--out {out}: {exc.strerror or exc}") from None
    _warn(data, errors)
    typer.echo(f"{total} сообщений, копий фейков {matched} (реестр {len(fakes)}) → {out}")


@fakes_app.command("bot")
def bot_command(
    connector: Annotated[str, typer.Option(
        "--connector", help="имя Telegram-коннектора бота проверки")] = "fakes-bot",
    once: Annotated[bool, typer.Option(
        "--once", help="один опрос getUpdates и выйти")] = False,
    timeout: Annotated[int, typer.Option(
        "--timeout", min=0, max=50, help="секунд ожидания обновлений (long polling)")] = 25,
) -> None:
    """Телеграм-бот «миф или правда»: /check <текст> или пересланный пост — ответ с
    опровержением, если это известный фейк."""
    from otklik.db.session import session_scope
    from otklik.errors import OtklikError
    from otklik.fakes.bot import poll_once

    while True:
        try:
            with session_scope() as session:
                run = poll_once(session, connector, 0 if once else timeout)
        except OtklikError as exc:
            raise fail(exc.message) from None
        typer.echo(f"обновлений {run.updates}, ответов {run.answered} "
                   f"(с опровержением {run.refuted}), ошибок {run.errors}")
        if once:
            return


@fakes_app.command("rematch")
def rematch_command(
    batch: Annotated[int, typer.Option("--batch", min=1, max=10_000)] = 2_000,
) -> None:
    """Сопоставить все сохранённые сообщения с реестром фейков заново (после пополнения
    реестра); связи не удваиваются."""
    from otklik.db.session import session_scope
    from otklik.fakes.live import rematch_all

    with session_scope() as session:
        copies, refutations = rematch_all(session, batch)
    typer.echo(f"новых копий {copies}, опровержений {refutations}")


def register(app: typer.Typer) -> None:
    """Add ``otklik fakes …`` to the CLI."""
    app.add_typer(fakes_app, name="fakes")
