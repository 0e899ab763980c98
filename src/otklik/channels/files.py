"""Streaming readers of CSV, JSONL and XLSX exports with a column mapping.

Each reader yields one :class:`RowResult` per data row, never holding the file
in memory. A row that cannot be read becomes an error with a reason (in
Russian: it is shown to the operator) and the rest go on.

``mapping`` maps our field to the file's column, e.g. ``{"text": "Текст",
"created_at": "Дата"}``; unmapped fields are found by common column names
(:data:`DEFAULT_COLUMNS`). Without an id column the source id is a stable hash of
the row, so importing the same file twice yields the same ids.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from otklik.channels.connectors.normalize import (
    clean_text,
    escape_surrogates,
    from_unix,
    has_surrogates,
    limit_text,
    moscow_tz,
)
from otklik.channels.schemas import Attachment, IncomingMessage, Reach, Source

FORMATS = ("csv", "jsonl", "xlsx")
_SOURCES = frozenset(s.value for s in Source)
_EMPTY: tuple[Any, ...] = (None, "")
_ID_FIELDS = frozenset({"parent_source_id", "owner_id", "post_id", "comment_id", "author_id"})
_STR_FIELDS = frozenset({"author_name", "url", "region", "channel"})
_REACH_FIELDS = frozenset({"reach", *Reach.model_fields})

# Our field -> column names tried in order (compared case-insensitively).
DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "source": ("source", "источник"),
    "source_id": ("source_id", "id", "ид", "номер", "message_id", "№"),
    "parent_source_id": ("parent_source_id", "parent_id", "parent", "родитель"),
    "text": ("text", "текст", "message", "сообщение", "body", "content", "содержание"),
    "created_at": (
        "created_at",
        "date",
        "дата",
        "datetime",
        "дата и время",
        "время",
        "timestamp",
        "дата создания",
        "created",
    ),
    "author_id": ("author_id", "user_id", "id автора"),
    "author_name": ("author_name", "author", "автор", "фио", "name", "имя"),
    "url": ("url", "link", "ссылка"),
    "owner_id": ("owner_id",),
    "post_id": ("post_id",),
    "comment_id": ("comment_id",),
    "lat": ("lat", "latitude", "широта"),
    "lon": ("lon", "lng", "longitude", "долгота"),
    "region": ("region", "регион"),
    "channel": ("channel", "канал", "площадка"),
    "views": ("views", "просмотры"),
    "likes": ("likes", "лайки"),
    "reposts": ("reposts", "репосты"),
    "comments": ("comments", "комментарии"),
    "attachments": ("attachments", "вложения"),
    "reach": ("reach",),
    "deleted": ("deleted",),
    "edited_at": ("edited_at",),
    "raw": ("raw",),
}

_MONTHS = {
    "январ": 1,
    "феврал": 2,
    "март": 3,
    "апрел": 4,
    "ма": 5,
    "июн": 6,
    "июл": 7,
    "август": 8,
    "сентябр": 9,
    "октябр": 10,
    "ноябр": 11,
    "декабр": 12,
}
_RU_DATE = re.compile(
    r"^(\d{1,2})[./-](\d{1,2})[./-](\d{2,4})(?:[ ,T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$"
)
_RU_WORDS = re.compile(
    r"^(\d{1,2})\s+([а-яё]+)\.?\s+(\d{4})(?:\s*г\.?)?(?:[ ,в]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$"
)


@dataclass(frozen=True, slots=True)
class RowResult:
    """One data row: a message, or an error with the reason; ``row_number`` as in the file."""

    row_number: int
    message: IncomingMessage | None
    error: str | None = None


class RowError(ValueError):
    """A row that cannot become a message; the text is the reason shown to the operator."""


def parse_datetime(value: Any, tz: tzinfo | None = None) -> datetime:
    """A timezone-aware datetime from the formats exports use.

    Accepts datetime/date objects (XLSX), unix seconds or milliseconds, ISO 8601,
    ``29.11.2026 14:05[:33]``, ``29.11.26``, ``29 ноября 2026 г. 14:05``. Naive
    values are taken in ``tz`` (Moscow by default).
    """
    zone = tz or moscow_tz()
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    if isinstance(value, date):
        return datetime.combine(value, time(), zone)
    if isinstance(value, bool) or value is None:
        raise RowError("нет даты")
    if isinstance(value, int | float):
        return from_unix(value)
    text = str(value).strip()
    if not text:
        raise RowError("нет даты")
    if re.fullmatch(r"\d{9,13}(\.\d+)?", text):
        return from_unix(text)
    match = _RU_DATE.match(text)
    if match:
        day, month, year, hh, mm, ss = match.groups()
        year_n = int(year) + (2000 if len(year) == 2 else 0)
        try:
            return datetime(
                year_n,
                int(month),
                int(day),
                int(hh or 0),
                int(mm or 0),
                int(ss or 0),
                tzinfo=zone,
            )
        except ValueError:
            raise RowError(f"неверная дата: {text[:40]}") from None
    match = _RU_WORDS.match(text.lower())
    if match:
        day, word, year, hh, mm, ss = match.groups()
        month = next((n for stem, n in _MONTHS.items() if word.startswith(stem)), None)
        if month is not None:
            try:
                return datetime(
                    int(year),
                    month,
                    int(day),
                    int(hh or 0),
                    int(mm or 0),
                    int(ss or 0),
                    tzinfo=zone,
                )
            except ValueError:
                pass
        raise RowError(f"неверная дата: {text[:40]}")
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise RowError(f"неверная дата: {text[:40]}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


class RowMapper:
    """Turns a row (dict of column -> value) into an :class:`IncomingMessage`."""

    def __init__(
        self,
        *,
        source: str | Source = Source.import_,
        mapping: Mapping[str, str] | None = None,
        channel: str | None = None,
        region: str | None = None,
        tz: tzinfo | None = None,
    ) -> None:
        unknown = set(mapping or {}) - set(DEFAULT_COLUMNS)
        if unknown:
            raise ValueError(f"unknown fields in mapping: {', '.join(sorted(unknown))}")
        self.source, self.channel = _source_and_channel(source, channel)
        self.region = region
        self.mapping = dict(mapping or {})
        self.tz = tz or moscow_tz()
        self._resolved: dict[tuple[str, ...], dict[str, str]] = {}

    def resolve(self, columns: Iterable[str]) -> dict[str, str]:
        """Our field -> the column holding it, for a header (cached)."""
        key = tuple(columns)
        found = self._resolved.get(key)
        if found is not None:
            return found
        lower = {c.strip().lower(): c for c in key if isinstance(c, str)}
        found = {}
        for field, names in DEFAULT_COLUMNS.items():
            if field in self.mapping:
                wanted = self.mapping[field]
                column = wanted if wanted in key else lower.get(wanted.strip().lower())
                if column is not None:
                    found[field] = column
                continue
            column = next((lower[n] for n in names if n in lower), None)
            if column is not None:
                found[field] = column
        self._resolved[key] = found
        return found

    def missing_required(self, columns: Iterable[str]) -> str | None:
        """Reason why no row of this header can be read, or None."""
        fields = self.resolve(columns)
        for need in ("text", "created_at"):
            if need not in fields:
                wanted = self.mapping.get(need, " / ".join(DEFAULT_COLUMNS[need][:3]))
                return f"нет колонки «{wanted}» для поля {need}"
        return None

    def to_message(self, row: Mapping[str, Any], raw: dict[str, Any]) -> IncomingMessage:
        """Build the message; raise :class:`RowError` with a reason on bad data."""
        # Only the fields this header has, empty cells dropped: the loop runs per row.
        values = {
            f: v for f, c in self.resolve(row.keys()).items() if (v := row.get(c)) not in _EMPTY
        }
        text_value = values.get("text")
        if text_value is None or not str(text_value).strip():
            raise RowError("нет текста")
        text = limit_text(clean_text(str(text_value)), raw)
        if not text:
            raise RowError("пустой текст после очистки")
        data: dict[str, Any] = {
            "source": self.source,
            "source_id": _as_id(values.get("source_id")) or _row_hash(row),
            "text": text,
            "created_at": parse_datetime(values.get("created_at"), self.tz),
            "region": self.region,
            "channel": self.channel,
            "raw": raw,
        }
        for field, value in values.items():
            if field in _ID_FIELDS:
                data[field] = _as_id(value)
            elif field in _STR_FIELDS:
                data[field] = _as_str(value) or data.get(field)
            elif field in ("lat", "lon"):
                data[field] = _as_float(value, field)
            elif field == "edited_at":
                data[field] = parse_datetime(value, self.tz)
            elif field == "attachments":
                data[field] = _attachments(value)
            elif field == "deleted":
                data[field] = str(value).lower() in ("1", "true", "да", "yes")
            elif field == "source" and str(value) in _SOURCES:
                data[field] = Source(str(value))
        if _REACH_FIELDS & values.keys():
            data["reach"] = _reach(
                values.get("reach"), {k: values.get(k) for k in Reach.model_fields}
            )
        try:
            return IncomingMessage.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise RowError(f"поле {where}: {first['msg']}") from None

    def row_result(self, number: int, row: Mapping[str, Any], *, clean: bool = False) -> RowResult:
        """RowResult for one row, catching every row-level failure.

        ``clean=True`` says the row is plain decoded JSON/text with no undecodable
        bytes, so the raw copy can skip the walk that makes it JSON-safe.
        """
        raw = dict(row) if clean else _raw_row(row)
        try:
            return RowResult(number, self.to_message(row, raw))
        except RowError as exc:
            return RowResult(number, None, str(exc))


@dataclass(frozen=True, slots=True)
class SheetRow:
    """One row of a CSV or XLSX file as cells: the header (``header`` set), a data row
    (``cells``) or a row that cannot be read (``error``); ``number`` as in the file.

    The message readers below and other domains' imports (official pages) read files through
    :func:`csv_rows` and :func:`xlsx_rows` and map the cells their own way.
    """

    number: int
    cells: dict[str, Any] | None = None
    header: list[str] | None = None
    error: str | None = None
    clean: bool = True


def csv_rows(path: str | Path, *, encoding: str | None = None, delimiter: str | None = None
             ) -> Iterator[SheetRow]:
    """Stream a CSV as rows of cells: delimiter sniffed from the header, UTF-8 (BOM or not)
    or cp1251; the first non-empty row is the header."""
    # Texts of 20,000+ characters are legal here; the csv default limit is 131,072.
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))
    with open(path, "rb") as binary:
        head = binary.read(1 << 16)
        binary.seek(0)
        enc = encoding or _detect_encoding(head)
        stream = io.TextIOWrapper(binary, encoding=enc, errors="surrogateescape", newline="")
        first_line = head.decode(enc, "replace").splitlines()[0] if head else ""
        sep = delimiter or _sniff_delimiter(first_line)
        reader = csv.reader(stream, delimiter=sep)
        header: list[str] | None = None
        start = 1
        while True:
            start = reader.line_num + 1
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield SheetRow(start, error=f"ошибка CSV: {exc}")
                continue
            if header is None:
                if not any(cell.strip() for cell in record):
                    continue
                header = [escape_surrogates(c).strip() for c in record]
                yield SheetRow(start, header=header)
                continue
            if not any(cell.strip() for cell in record):
                continue
            if len(record) > len(header):
                yield SheetRow(start, error=f"лишние поля: {len(record)} вместо {len(header)}")
                continue
            yield SheetRow(start, cells=dict(zip(header, record, strict=False)),
                           clean=not has_surrogates("".join(record)))


def xlsx_rows(path: str | Path, *, sheet: str | None = None) -> Iterator[SheetRow]:
    """Stream the first (or named) sheet of a workbook as rows of cells; the first non-empty
    row is the header, empty cells are left out."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
        header: list[str] | None = None
        for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            if header is None:
                header = [
                    str(v).strip() if v is not None else f"_col{i}" for i, v in enumerate(values)
                ]
                yield SheetRow(number, header=header)
                continue
            yield SheetRow(number, cells={h: v for h, v in zip(header, values, strict=False)
                                          if v is not None})
    finally:
        workbook.close()


def _mapped(rows: Iterator[SheetRow], mapper: RowMapper, *, keep_clean: bool
            ) -> Iterator[RowResult]:
    for row in rows:
        if row.error is not None:
            yield RowResult(row.number, None, row.error)
        elif row.header is not None:
            problem = mapper.missing_required(row.header)
            if problem:
                yield RowResult(row.number, None, problem)
                return
        elif row.cells is not None:
            if keep_clean:
                yield mapper.row_result(row.number, row.cells, clean=row.clean)
            else:
                yield mapper.row_result(row.number, row.cells)


def read_csv(
    path: str | Path,
    *,
    mapping: Mapping[str, str] | None = None,
    source: str | Source = Source.import_,
    channel: str | None = None,
    region: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    tz: tzinfo | None = None,
) -> Iterator[RowResult]:
    """Stream a CSV: delimiter sniffed from the header, UTF-8 (BOM or not) or cp1251."""
    mapper = RowMapper(source=source, mapping=mapping, channel=channel, region=region, tz=tz)
    yield from _mapped(csv_rows(path, encoding=encoding, delimiter=delimiter), mapper,
                       keep_clean=True)


def read_jsonl(
    path: str | Path,
    *,
    mapping: Mapping[str, str] | None = None,
    source: str | Source = Source.import_,
    channel: str | None = None,
    region: str | None = None,
    tz: tzinfo | None = None,
) -> Iterator[RowResult]:
    """Stream a JSON Lines file: one object per line, blank lines skipped."""
    mapper = RowMapper(source=source, mapping=mapping, channel=channel, region=region, tz=tz)
    with open(path, "rb") as binary:
        for number, line in enumerate(binary, start=1):
            if number == 1 and line.startswith(codecs.BOM_UTF8):
                line = line[len(codecs.BOM_UTF8) :]
            if not line.strip():
                continue
            try:
                text, clean = line.decode("utf-8"), True
            except UnicodeDecodeError:
                text, clean = line.decode("utf-8", "surrogateescape"), False
            try:
                row = json.loads(text)
            except json.JSONDecodeError as exc:
                yield RowResult(number, None, f"неверный JSON: {exc.msg} (позиция {exc.pos})")
                continue
            if not isinstance(row, dict):
                yield RowResult(number, None, "строка не является JSON-объектом")
                continue
            yield mapper.row_result(number, row, clean=clean)


def read_xlsx(
    path: str | Path,
    *,
    mapping: Mapping[str, str] | None = None,
    source: str | Source = Source.import_,
    channel: str | None = None,
    region: str | None = None,
    sheet: str | None = None,
    tz: tzinfo | None = None,
) -> Iterator[RowResult]:
    """Stream the first (or named) sheet of a workbook; the first non-empty row is the header."""
    mapper = RowMapper(source=source, mapping=mapping, channel=channel, region=region, tz=tz)
    yield from _mapped(xlsx_rows(path, sheet=sheet), mapper, keep_clean=False)


def read_file(
    path: str | Path, *, format: str | None = None, **options: Any
) -> Iterator[RowResult]:
    """Dispatch on ``format`` or the file's suffix (.csv, .tsv, .jsonl/.ndjson, .xlsx, .json).

    A ``.json`` file is taken for a Telegram Desktop export (``result.json``).
    """
    suffix = Path(path).suffix.lower().lstrip(".")
    kind = (format or suffix).lower()
    if kind in ("csv", "tsv", "txt"):
        if kind == "tsv":
            options.setdefault("delimiter", "\t")
        return read_csv(path, **options)
    if kind in ("jsonl", "ndjson"):
        return read_jsonl(path, **options)
    if kind in ("xlsx", "xlsm"):
        return read_xlsx(path, **options)
    if kind == "json":
        from otklik.channels.connectors.telegram_export import read_telegram_export

        options.pop("mapping", None)
        return read_telegram_export(path, **options)
    raise ValueError(f"unknown file format: {kind!r} (csv, jsonl, xlsx, json)")


def read_records(path: str | Path, *, format: str | None = None
                 ) -> Iterator[tuple[int, dict[str, Any]]]:
    """Plain rows of a CSV or XLSX table as ``(row number, {header: value})`` (empty rows
    skipped), for imports that are not messages (contest applications); the same encoding,
    delimiter and header rules as :func:`read_csv` and :func:`read_xlsx`."""
    kind = (format or Path(path).suffix.lower().lstrip(".")).lower()
    if kind in ("xlsx", "xlsm"):
        from openpyxl import load_workbook

        workbook = load_workbook(path, read_only=True, data_only=True)
        try:
            header: list[str] | None = None
            for number, values in enumerate(workbook.worksheets[0].iter_rows(values_only=True),
                                            start=1):
                if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                    continue
                if header is None:
                    header = [str(v).strip() if v is not None else f"_col{i}"
                              for i, v in enumerate(values)]
                    continue
                yield number, {h: v for h, v in zip(header, values, strict=False)
                               if v is not None}
        finally:
            workbook.close()
        return
    if kind not in ("csv", "tsv", "txt"):
        raise ValueError(f"unknown table format: {kind!r} (csv, xlsx)")
    with open(path, "rb") as binary:
        head = binary.read(1 << 16)
        binary.seek(0)
        enc = _detect_encoding(head)
        first_line = head.decode(enc, "replace").splitlines()[0] if head else ""
        sep = "\t" if kind == "tsv" else _sniff_delimiter(first_line)
        stream = io.TextIOWrapper(binary, encoding=enc, errors="replace", newline="")
        reader = csv.reader(stream, delimiter=sep)
        columns: list[str] | None = None
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if columns is None:
                columns = [c.strip() for c in record]
                continue
            yield reader.line_num, dict(zip(columns, record, strict=False))


# -- helpers ----------------------------------------------------------------


def _source_and_channel(source: str | Source, channel: str | None) -> tuple[Source, str | None]:
    """``--source vk`` sets the source; any other name is a channel of source 'import'."""
    value = str(source.value if isinstance(source, Source) else source)
    if value in _SOURCES:
        return Source(value), channel
    return Source.import_, channel or value


def _detect_encoding(head: bytes) -> str:
    """utf-8-sig when the sample decodes as UTF-8 (a cut last character allowed), else cp1251."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=False)
        return "utf-8-sig"
    except UnicodeDecodeError:
        pass
    # A few bad bytes in a UTF-8 file must not turn all Cyrillic into mojibake.
    bad = head.decode("utf-8", "replace").count("\ufffd")
    cyrillic_utf8 = len(re.findall(rb"[\xd0\xd1][\x80-\xbf]", head))
    return "utf-8-sig" if cyrillic_utf8 > bad * 10 else "cp1251"


def _sniff_delimiter(header_line: str) -> str:
    """The most frequent of , ; TAB | in the header line (outside quotes)."""
    unquoted = re.sub(r'"[^"]*"', "", header_line)
    counts = {sep: unquoted.count(sep) for sep in (",", ";", "\t", "|")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


def _json_safe(value: Any, flags: list[bool]) -> Any:
    """``value`` with undecodable bytes escaped (noted in ``flags``) and dates as ISO."""
    if isinstance(value, str):
        if has_surrogates(value):
            flags.append(True)
            return escape_surrogates(value)
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, dict):
        return {_json_safe(str(k), flags): _json_safe(v, flags) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v, flags) for v in value]
    return value


def _raw_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """The row as received, JSON-safe; ``_invalid_utf8`` marks rows with bad bytes."""
    flags: list[bool] = []
    raw: dict[str, Any] = _json_safe(dict(row), flags)
    if flags:
        raw["_invalid_utf8"] = True
    return raw


def _row_hash(row: Mapping[str, Any]) -> str:
    """A stable id from the row's content, so re-importing the same file is idempotent."""
    canonical = json.dumps(
        {str(k): str(v) for k, v in row.items() if v not in (None, "")},
        ensure_ascii=False,
        sort_keys=True,
    )
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogateescape")).hexdigest()
    return f"row-{digest[:32]}"


def _as_id(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # XLSX stores 12345 as 12345.0
    text = escape_surrogates(str(value)).strip()
    return text[:255] or None


def _as_str(value: Any) -> str | None:
    if value is None:
        return None
    return clean_text(str(value)) or None


def _as_float(value: Any, name: str) -> float | None:
    if value is None:
        return None
    try:
        return float(str(value).replace(",", "."))
    except ValueError:
        raise RowError(f"поле {name}: не число «{str(value)[:20]}»") from None


def _as_int(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return int(float(str(value).replace(" ", "").replace(",", ".")))
    except ValueError:
        return None


def _reach(nested: Any, flat: Mapping[str, Any]) -> Reach | None:
    values = dict(nested) if isinstance(nested, dict) else {}
    for key, value in flat.items():
        if value is not None:
            values[key] = value
    figures = {k: _as_int(values.get(k)) for k in Reach.model_fields}
    return Reach(**figures) if any(v is not None for v in figures.values()) else None


def _attachments(value: Any) -> list[Attachment]:
    """A list of dicts (JSONL) or URLs separated by spaces, commas or semicolons."""
    if value is None:
        return []
    if isinstance(value, list):
        items: list[Attachment] = []
        for item in value:
            if isinstance(item, dict) and item.get("url"):
                items.append(Attachment.model_validate(item))
            elif isinstance(item, str) and item.strip():
                items.append(Attachment(url=item.strip()))
        return items
    return [Attachment(url=u) for u in re.split(r"[\s,;]+", str(value)) if u.startswith("http")]
