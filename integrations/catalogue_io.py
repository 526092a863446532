"""File formats of ``import_catalogue`` / ``export_catalogue`` (SPEC §16), read and written as
streams: a reader yields one record at a time with the line it starts on, a writer takes one
record at a time, so memory does not depend on the size of the file.

Formats
-------
``ndjson``  one JSON object per line (the API's shape); blank lines are skipped.
``json``    one JSON array of objects, parsed incrementally (never loaded whole).
``csv``     one record per row, with a header naming the columns:

============================  ========================================================
Column                        Meaning
============================  ========================================================
``sku``, ``eanCode``, …       a field of the API body, by its API name; integers and
                              ``true``/``false`` are converted for integer and boolean
                              fields
``names.EN``, ``slugs.NL``…   one language of a localized field (``<field>.<LANG>``)
``sources.0.source``,         the ``sources`` list, numbered from 0
``sources.0.sourceId``, …
``source``, ``sourceId``      the flat source pair (the ``sourceId`` lookup key)
``parent.id`` or              the parent reference
``parent.source`` +
``parent.sourceId``
``attributes``                the whole attribute list as JSON
                              (``[{"name": "COLOR", "value": "red"}]``)
``attributes.COLOR``, …       one attribute; a cell that is a JSON number, ``true``,
                              ``false`` or array is taken as such, anything else as text
``clusterConfig``,            any other object or array field (clusters: the config
``products``, ``options``     reference, nested products and options) as one JSON cell
``id``, ``version``,          the lookup key ``id``, an optimistic version, ``remove``
``action``
============================  ========================================================

An empty cell means "not sent" (CSV cannot tell an empty string from a missing value), so a CSV
import never clears a field; use NDJSON with ``null`` for that. Export writes every column of
the entity, ``sources.N`` as many times as the record with the most sources needs, and
``attributes`` as JSON so that a CSV export reads back exactly.

Formulas (CSV injection): a spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return as a formula (``=HYPERLINK(…)`` in a product name). Export writes
such a text value with a ``'`` in front (OWASP's advice: the spreadsheet shows the text), and one
``'`` more in front of a text that already starts with quotes before such a character
(``'=x`` → ``''=x``); import takes that one ``'`` off again, so an export reads back identical.
Only text is neutralised: numbers (``priority`` ``-5``), ``true``/``false`` and JSON cells
(``attributes``, which start with ``[``) are written as they are, as no formula can be made of
them. A cell that starts with ``'`` before anything else (``'t Hoekje``) is always plain text.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import orjson
from django.conf import settings

from records.localized import Localized
from records.validation import Bool, Field, Int, Obj


@dataclass(frozen=True)
class BadRecord:
    """A line that is not a record at all (it does not parse)."""

    message: str


Record = tuple[int, Any]  # (line number, record or BadRecord)
FORMATS = ("ndjson", "json", "csv")


def guess_format(path: str) -> str:
    lower = path.lower()
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith(".json"):
        return "json"
    return "ndjson"


# --- readers -----------------------------------------------------------------------------------


def read_ndjson(stream: BinaryIO) -> Iterator[Record]:
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            yield number, orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield number, BadRecord(f"Invalid JSON: {exc}")


_OUTSIDE = re.compile(rb'[\[\]{},"\n]')
_INSIDE = re.compile(rb'[\\"\n]')
_SPACE = b" \t\r\n"


class JsonArrayError(ValueError):
    pass


def read_json_array(stream: BinaryIO, chunk_size: int = 1 << 16) -> Iterator[Record]:
    """The elements of a top-level JSON array, one at a time, with the line each starts on.

    A small scanner finds where each element ends (brackets outside strings) and hands that
    slice to orjson; only the element being read is held in memory.
    """
    phase = "start"  # start → items → end
    depth, in_string, escaped = 0, False, False
    element, element_line, line = bytearray(), 0, 1

    def flush() -> Record | None:
        nonlocal element
        if not element.strip():
            element = bytearray()
            return None
        raw, element = bytes(element), bytearray()
        try:
            return element_line, orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            return element_line, BadRecord(f"Invalid JSON: {exc}")

    while chunk := stream.read(chunk_size):
        i, n = 0, len(chunk)
        while i < n:
            if phase != "items":
                byte = chunk[i : i + 1]
                if byte == b"\n":
                    line += 1
                elif byte in (b" ", b"\t", b"\r"):
                    pass
                elif phase == "start" and byte == b"[":
                    phase = "items"
                else:
                    raise JsonArrayError(f"line {line}: expected a JSON array of records")
                i += 1
                continue
            if escaped:
                element += chunk[i : i + 1]
                escaped, i = False, i + 1
                continue
            if in_string:
                match = _INSIDE.search(chunk, i)
                if match is None:
                    element += chunk[i:]
                    break
                j = match.start()
                element += chunk[i : j + 1]
                char = chunk[j]
                if char == 0x5C:  # backslash: the next byte is escaped
                    escaped = True
                elif char == 0x22:
                    in_string = False
                else:
                    line += 1
                i = j + 1
                continue
            match = _OUTSIDE.search(chunk, i)
            end = match.start() if match else n
            segment = chunk[i:end]
            if segment.strip(_SPACE):
                if not element:
                    element_line = line
                    segment = segment.lstrip(_SPACE)
                element += segment
            elif element:
                element += segment
            if match is None:
                break
            char = chunk[end : end + 1]
            i = end + 1
            if char == b"\n":
                line += 1
                if element:
                    element += char
            elif char == b",":
                if depth:
                    element += char
                else:
                    record = flush()
                    if record is None:
                        raise JsonArrayError(f"line {line}: empty element in the array")
                    yield record
            elif char == b"]" and depth == 0:
                record = flush()
                if record is not None:
                    yield record
                phase = "end"
            else:
                if not element:
                    element_line = line
                element += char
                if char == b'"':
                    in_string = True
                elif char in (b"{", b"["):
                    depth += 1
                elif char in (b"}", b"]"):
                    depth -= 1
    if phase != "end":
        raise JsonArrayError(f"line {line}: the JSON array is not closed")


def read_csv(stream: BinaryIO, schema: Obj) -> Iterator[Record]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.DictReader(text)
    mapping = CsvMapping(schema)
    last = 1  # the header
    for row in reader:
        start, last = last + 1, reader.line_num
        if None in row:
            yield start, BadRecord("More cells than header columns.")
            continue
        try:
            yield start, mapping.record(row)
        except ValueError as exc:
            yield start, BadRecord(str(exc))


def reader(fmt: str, stream: BinaryIO, schema: Obj) -> Iterator[Record]:
    if fmt == "ndjson":
        return read_ndjson(stream)
    if fmt == "json":
        return read_json_array(stream)
    return read_csv(stream, schema)


class RecordPreparer:
    """Records of a file as bulk items (``import_catalogue`` and import jobs alike): fields a
    write does not take (``id``, ``version``, ``createdAt``…) are dropped, except the ``id`` of
    an ``id``-keyed import; with the ``sourceId`` key a record without a flat ``source`` /
    ``sourceId`` is keyed by the first pair of its ``sources``."""

    def __init__(self, schema: Obj, key: str) -> None:
        self.key = key
        self.read_only = {name for name, f in schema.fields.items() if f.read_only} - (
            {"id"} if key == "id" else set()
        )

    def __call__(self, record: Any) -> Any:
        if not isinstance(record, dict):
            return record
        record = {k: v for k, v in record.items() if k not in self.read_only}
        if self.key == "sourceId" and "sourceId" not in record and "source" not in record:
            sources = record.get("sources")
            if isinstance(sources, list) and sources and isinstance(sources[0], dict):
                record["sourceId"] = sources[0].get("sourceId")
                record["source"] = sources[0].get("source")
        return record


def format_for_content_type(content_type: str) -> str | None:
    """The reader for an upload's media type (``application/x-ndjson``, ``text/csv``)."""
    kind = content_type.split(";")[0].strip().lower()
    if kind in ("application/x-ndjson", "application/ndjson", "application/jsonl"):
        return "ndjson"
    if kind == "text/csv":
        return "csv"
    return None


# --- CSV column mapping ------------------------------------------------------------------------


class CsvMapping:
    """Between flat CSV columns and the API's nested JSON shape (the table above)."""

    def __init__(self, schema: Obj) -> None:
        self.schema = schema

    def _field(self, name: str) -> Field | None:
        return self.schema.fields.get(name)

    def record(self, row: dict[str, str]) -> dict[str, Any]:
        record: dict[str, Any] = {}
        sources: dict[int, dict[str, str]] = {}
        attributes: list[dict[str, Any]] = []
        for column, cell in row.items():
            if cell is None or cell == "":
                continue
            head, _, rest = column.partition(".")
            field = self._field(head)
            if rest and isinstance(field, Localized):
                record.setdefault(head, []).append({"language": rest, "value": restore(cell)})
            elif head == "sources" and rest:
                number, _, key = rest.partition(".")
                if not number.isdigit() or key not in ("source", "sourceId"):
                    raise ValueError(f"Unknown column '{column}'.")
                sources.setdefault(int(number), {})[key] = restore(cell)
            elif head == "parent" and rest:
                parent = record.setdefault("parent", {})
                parent[rest] = int(cell) if rest == "id" and cell.isdigit() else restore(cell)
            elif head == "attributes" and rest:
                attributes.append({"name": rest, "value": _attribute_value(cell)})
            elif head == "attributes":
                try:
                    record["attributes"] = orjson.loads(cell)
                except orjson.JSONDecodeError as exc:
                    raise ValueError(f"Column 'attributes' is not JSON: {exc}") from exc
            else:
                text = restore(cell)
                record[column] = _typed(field, text) if column in self.schema.fields else text
        if sources:
            record["sources"] = [sources[n] for n in sorted(sources)]
        if attributes:
            record.setdefault("attributes", []).extend(attributes)
        return record

    def columns(self, max_sources: int) -> list[str]:
        columns: list[str] = []
        for name, field in self.schema.fields.items():
            if field.read_only or name in ("source", "sourceId"):
                continue
            if isinstance(field, Localized):
                columns += [f"{name}.{lang.upper()}" for lang in settings.CATALOGUE_LANGUAGES]
            elif name == "sources":
                for n in range(max_sources):
                    columns += [f"sources.{n}.source", f"sources.{n}.sourceId"]
            elif name == "parent":
                columns += ["parent.id", "parent.source", "parent.sourceId"]
            else:
                columns.append(name)
        return columns

    def row(self, record: dict[str, Any], columns: list[str]) -> list[str]:
        flat: dict[str, Any] = {}
        for name, value in record.items():
            field = self._field(name)
            if isinstance(field, Localized):
                for entry in value or ():
                    flat[f"{name}.{entry['language'].upper()}"] = entry["value"]
            elif name == "sources":
                for n, pair in enumerate(value or ()):
                    flat[f"sources.{n}.source"] = pair["source"]
                    flat[f"sources.{n}.sourceId"] = pair["sourceId"]
            elif name == "parent":
                for key, ref in (value or {}).items():
                    flat[f"parent.{key}"] = ref
            elif name == "attributes":
                flat[name] = orjson.dumps(value).decode() if value else ""
            else:
                flat[name] = value
        return [_cell(flat.get(column)) for column in columns]


#: a text a spreadsheet would run as a formula, after any quotes already in front of it
_FORMULA = re.compile(r"'*[=+\-@\t\r]")


def neutralise(text: str) -> str:
    """``text`` as a CSV cell no spreadsheet runs as a formula (the module docstring)."""
    return "'" + text if _FORMULA.match(text) else text


def restore(cell: str) -> str:
    """The text ``neutralise`` wrote as ``cell``; any other cell as it is."""
    return cell[1:] if cell.startswith("'") and _FORMULA.match(cell, 1) else cell


def _typed(field: Field | None, cell: str) -> Any:
    if isinstance(field, Bool) and cell in ("true", "false"):
        return cell == "true"
    if isinstance(field, Int) and re.fullmatch(r"-?\d+", cell):
        return int(cell)
    if field is not None and field.json_type in ("object", "array") and cell[:1] in ("{", "["):
        # Other structured columns (clusterConfig, nested products/options) are JSON cells.
        try:
            return orjson.loads(cell)
        except orjson.JSONDecodeError:
            return cell
    return cell


def _attribute_value(cell: str) -> Any:
    try:
        value = orjson.loads(cell)
    except orjson.JSONDecodeError:
        return restore(cell)
    return value if isinstance(value, int | float | bool | list) else restore(cell)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return orjson.dumps(value).decode()
    return neutralise(value) if isinstance(value, str) else str(value)


# --- writers -----------------------------------------------------------------------------------


def write_records(
    fmt: str, records: Iterable[dict[str, Any]], out: BinaryIO, schema: Obj, max_sources: int
) -> int:
    """Stream ``records`` to ``out``; returns how many were written."""
    count = 0
    if fmt == "csv":
        mapping = CsvMapping(schema)
        columns = mapping.columns(max_sources)
        buffer = io.StringIO()
        # RFC 4180's CRLF: the writer quotes a cell holding either character then; with "\n" a
        # text holding a carriage return was written bare and split its row on import
        writer = csv.writer(buffer, lineterminator="\r\n")

        def emit(values: list[str]) -> None:
            writer.writerow(values)
            out.write(buffer.getvalue().encode())
            buffer.seek(0)
            buffer.truncate()

        emit(columns)
        for record in records:
            emit(mapping.row(record, columns))
            count += 1
        return count
    if fmt == "json":
        out.write(b"[")
        for record in records:
            out.write(b"\n" if count == 0 else b",\n")
            out.write(orjson.dumps(record))
            count += 1
        out.write(b"\n]\n")
        return count
    for record in records:
        out.write(orjson.dumps(record) + b"\n")
        count += 1
    return count
