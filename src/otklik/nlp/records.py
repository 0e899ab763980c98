"""Reading training and enrichment input files: CSV, TSV and JSONL, plain or gzip-compressed,
with clear errors that name the line to fix. Apart from :mod:`otklik.nlp.training` so that
the commands that only read files (``otklik enrich``, ``otklik incidents …``) do not load
scikit-learn."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

TEXT_EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


class TrainingDataError(ValueError):
    """A labelled file cannot be used; the message names the line and the problem."""


# --- reading labelled files ---------------------------------------------------------------
#: Compressions a labelled file may come in (by the last extension): read directly.
COMPRESSIONS = {".gz": "gzip"}
#: Compressions recognised by extension or by their first bytes but not read: the user is told
#: to unpack the file (or to gzip it) instead of getting a decoding error.
UNSUPPORTED_COMPRESSIONS = {".bz2": "bzip2", ".xz": "xz", ".lzma": "lzma", ".zip": "zip",
                            ".zst": "zstd", ".7z": "7z", ".rar": "rar", ".lz4": "lz4",
                            ".br": "brotli", ".z": "compress", ".tgz": "tar+gzip"}
_MAGIC = ((b"\x1f\x8b", "gzip"), (b"\xfd7zXZ\x00", "xz"), (b"PK\x03\x04", "zip"),
          (b"\x28\xb5\x2f\xfd", "zstd"), (b"7z\xbc\xaf\x27\x1c", "7z"), (b"Rar!", "rar"),
          (b"\x04\x22\x4d\x18", "lz4"),
          *((b"BZh" + str(level).encode(), "bzip2") for level in range(1, 10)))


def _split_suffix(path: str | Path) -> tuple[str, str | None]:
    """``(format extension, compression)`` of a file name: ``a.jsonl.gz`` → (".jsonl", "gzip").

    Raises :class:`TrainingDataError` for a compression that is not read directly.
    """
    suffixes = [x.lower() for x in Path(path).suffixes]
    last = suffixes[-1] if suffixes else ""
    if last in UNSUPPORTED_COMPRESSIONS:
        raise TrainingDataError(
            f"{path}: сжатие {UNSUPPORTED_COMPRESSIONS[last]} ({last}) не поддерживается; "
            "распакуйте файл или сожмите его gzip (.jsonl.gz, .csv.gz, .tsv.gz)")
    if last in COMPRESSIONS:
        return (suffixes[-2] if len(suffixes) > 1 else ""), COMPRESSIONS[last]
    return last, None


def detect_format(path: str | Path) -> str:
    """Return "csv", "tsv" or "jsonl" from the file extension (``.gz`` after it is allowed)."""
    suffix, compression = _split_suffix(path)
    if suffix not in TEXT_EXTENSIONS:
        known = ", ".join(sorted(TEXT_EXTENSIONS))
        tail = " (и они же со сжатием .gz)" if compression is None else ""
        raise TrainingDataError(f"{path}: неизвестный формат {suffix or '(без расширения)'}"
                                f"{' внутри .gz' if compression else ''}; поддерживаются "
                                f"{known}{tail}")
    return TEXT_EXTENSIONS[suffix]


def _sniff_compression(path: str | Path) -> str | None:
    """The compression a file's first bytes announce, if any (``None`` when unreadable)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError:
        return None
    return next((name for magic, name in _MAGIC if head.startswith(magic)), None)


def _open_text(path: str | Path) -> Any:
    """Open a labelled file for reading text, decompressing a ``.gz`` one on the fly."""
    _suffix, compression = _split_suffix(path)
    sniffed = _sniff_compression(path)
    if compression is None and sniffed is not None:
        hint = (f"переименуйте его в {Path(path).name}.gz" if sniffed == "gzip"
                else "распакуйте его или сожмите gzip (.jsonl.gz, .csv.gz, .tsv.gz)")
        raise TrainingDataError(f"{path}: файл сжат ({sniffed}), а расширение — как у "
                                f"несжатого; {hint}")
    if compression == "gzip" and sniffed not in (None, "gzip"):
        raise TrainingDataError(f"{path}: расширение .gz, но файл сжат {sniffed}; "
                                "распакуйте его или сожмите gzip")
    try:
        if compression == "gzip":
            return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
        return open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115
    except OSError as exc:
        raise TrainingDataError(f"{path}: не удаётся открыть файл ({exc.strerror})") from exc


def iter_records(
    path: str | Path, columns: Sequence[str] | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Stream ``(line_number, record)`` from a CSV/TSV (header row unless ``columns``) or JSONL,
    plain or gzip-compressed (``.jsonl.gz``, ``.csv.gz``, ``.tsv.gz``).

    Reads lazily, so a file of any size can be processed. Raises
    :class:`TrainingDataError` naming the line of a malformed record.
    """
    fmt = detect_format(path)
    handle = _open_text(path)
    with handle:
        try:
            if fmt == "jsonl":
                yield from _iter_jsonl(handle, path)
            else:
                yield from _iter_csv(handle, path, columns, "\t" if fmt == "tsv" else ",")
        except UnicodeDecodeError as exc:
            raise TrainingDataError(f"{path}: файл не в кодировке UTF-8 ({exc.reason})") from exc
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise TrainingDataError(f"{path}: повреждённый или обрезанный gzip ({exc})") from exc


def _iter_jsonl(handle: Any, path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    for lineno, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TrainingDataError(f"{path}, строка {lineno}: не JSON ({exc.msg})") from exc
        if not isinstance(record, dict):
            raise TrainingDataError(f"{path}, строка {lineno}: ожидался JSON-объект {{...}}")
        yield lineno, record


def _iter_csv(
    handle: Any, path: str | Path, columns: Sequence[str] | None, delimiter: str
) -> Iterator[tuple[int, dict[str, Any]]]:
    csv.field_size_limit(16 * 1024 * 1024)
    reader = csv.reader(handle, delimiter=delimiter)
    header = list(columns) if columns else None
    line = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise TrainingDataError(
                f"{path}, строка {reader.line_num}: ошибка CSV ({exc})"
            ) from exc
        start, line = line + 1, reader.line_num
        if not row or not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = [h.strip() for h in row]
            continue
        if len(row) != len(header):
            raise TrainingDataError(
                f"{path}, строка {start}: {len(row)} полей вместо {len(header)} "
                f"({', '.join(header)})"
            )
        yield start, dict(zip(header, row, strict=True))


#: How many line numbers an error about several lines lists before "…".
_LINES_SHOWN = 20


def _line_list(lines: Sequence[int]) -> str:
    shown = ", ".join(map(str, lines[:_LINES_SHOWN]))
    return shown + (f" … (всего {len(lines)})" if len(lines) > _LINES_SHOWN else "")


def read_labelled_lines(
    path: str | Path,
    text_field: str = "text",
    label_field: str = "label",
    columns: Sequence[str] | None = None,
) -> list[tuple[int, str, str]]:
    """Read ``(line, text, label)`` triples.

    A malformed record fails on its line; records without a label (the field absent on that
    line, or empty) are all collected first and named together by line, so one run tells the
    user every line to fix.
    """
    triples: list[tuple[int, str, str]] = []
    unlabelled: list[int] = []
    checked_fields = False
    for lineno, record in iter_records(path, columns):
        if not checked_fields:
            missing = [f for f in (text_field, label_field) if f not in record]
            if missing:
                hint = (" Если у файла нет строки заголовка, укажите имена колонок: "
                        "--columns id,text,label" if detect_format(path) != "jsonl" else "")
                raise TrainingDataError(
                    f"{path}, строка {lineno}: нет пол{'я' if len(missing) == 1 else 'ей'} "
                    f"{', '.join(missing)}; есть: {', '.join(map(str, record))}.{hint}"
                )
            checked_fields = True
        text, label = record.get(text_field), record.get(label_field)
        if text is None:
            raise TrainingDataError(f"{path}, строка {lineno}: нет поля {text_field}")
        label = "" if label is None else str(label).strip()
        if not label:
            unlabelled.append(lineno)
            continue
        triples.append((lineno, str(text), label))
    if unlabelled:
        many = len(unlabelled) > 1
        raise TrainingDataError(
            f"{path}, строк{'и' if many else 'а'} {_line_list(unlabelled)}: "
            f"нет метки {label_field} (поле пустое или его нет) "
            f"({len(unlabelled)} из {len(unlabelled) + len(triples)} записей); "
            "заполните метку или удалите эти строки"
        )
    if not triples:
        raise TrainingDataError(f"{path}: нет ни одной размеченной записи")
    return triples


def read_labelled(
    path: str | Path,
    text_field: str = "text",
    label_field: str = "label",
    columns: Sequence[str] | None = None,
) -> list[tuple[str, str]]:
    """Read ``(text, label)`` pairs (see :func:`read_labelled_lines`)."""
    return [(text, label) for _line, text, label in
            read_labelled_lines(path, text_field, label_field, columns)]


def single_example_labels(triples: Sequence[tuple[int, str, str]]) -> dict[str, int]:
    """Labels that occur on one line only → that line (such a label can be neither learnt
    nor checked: cross-validation never has it in a training fold)."""
    counts = Counter(label for _line, _text, label in triples)
    return {label: line for line, _text, label in triples if counts[label] == 1}


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file (recorded in the model metadata)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
