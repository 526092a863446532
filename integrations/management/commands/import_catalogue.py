"""``import_catalogue PATH --entity products`` (SPEC §16): a file through the bulk services.

The file is streamed in batches of ``--batch-size`` records; each batch is one bulk request to the
very service behind ``POST /v2/<entity>/bulk/{lookupKey}`` (same validation, outcomes, directives).
Per-item failures go to ``--errors OUT.ndjson`` as ``{"line", "record", "lookupKey", "key",
"error"}``. ``--dry-run`` and ``--atomic`` run the whole file in one transaction (so a record may
refer to one in an earlier batch) that is rolled back at the end, always for a dry run and on any
failure for an atomic import.

Records exported by ``export_catalogue`` (or read from the API) are accepted as they are: fields a
write does not take (``id``, ``version``, ``createdAt``…) are dropped, except the ``id`` of an
``--lookup-key id`` import; with the ``sourceId`` key a record without a flat ``source`` /
``sourceId`` is keyed by the first pair of its ``sources``.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections import Counter
from collections.abc import Iterator
from itertools import islice
from typing import Any, BinaryIO

import orjson
from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, reset_queries, transaction
from tqdm import tqdm

from config.api.errors import ApiError
from config.api.outcomes import error_object
from integrations.catalogue_io import (
    FORMATS,
    BadRecord,
    JsonArrayError,
    RecordPreparer,
    guess_format,
    reader,
)
from records.bulk import ACTIONS, Entity, entities, run_bulk

SHOWN_ERRORS = 20  # printed on stderr when there is no --errors file


class _Rollback(Exception):  # noqa: N818 - control flow
    pass


class Command(BaseCommand):
    help = "Import products or categories from NDJSON, a JSON array or CSV through the bulk API."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="File to read, or - for stdin.")
        parser.add_argument("--entity", required=True, choices=sorted(entities()))
        parser.add_argument("--lookup-key", help="How records are matched (default: sourceId).")
        parser.add_argument("--format", choices=FORMATS, help="Default: from the file name.")
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument("--dry-run", action="store_true", help="Write nothing.")
        parser.add_argument("--atomic", action="store_true", help="All or nothing.")
        parser.add_argument("--errors", metavar="OUT.ndjson", help="Write failed items here.")
        parser.add_argument(
            "--directives",
            help="Bulk directives for every batch, as JSON: '{\"skipCreate\": true}'.",
        )
        parser.add_argument(
            "--progress",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="Show a progress bar (default: when stderr is a terminal).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        entity = entities()[options["entity"]]
        key = options["lookup_key"] or entity.default_key
        try:
            entity.resource.key(key)  # an unknown key fails before anything is read
        except ApiError as exc:
            raise CommandError(exc.message) from exc
        size = options["batch_size"]
        if not 1 <= size <= entity.resource.max_items:
            raise CommandError(f"--batch-size must be 1 to {entity.resource.max_items}.")
        directives = self._directives(options["directives"])
        path = options["path"]
        fmt = options["format"] or ("ndjson" if path == "-" else guess_format(path))
        dry_run, atomic = options["dry_run"], options["atomic"]
        started = time.monotonic()
        totals: Counter[str] = Counter()
        with contextlib.ExitStack() as stack:
            stream = self._open(path, stack)
            errors_out = (
                stack.enter_context(open(options["errors"], "wb")) if options["errors"] else None
            )
            bar = stack.enter_context(
                tqdm(
                    unit=" items",
                    file=self.stderr,
                    disable=None if options["progress"] is None else not options["progress"],
                    mininterval=0.5,
                )
            )
            job = _Job(self, entity, key, directives, errors_out, bar, totals)
            records = reader(fmt, stream, entity.resource.schema)
            try:
                with transaction.atomic() if dry_run or atomic else contextlib.nullcontext():
                    for batch in _batches(records, size):
                        job.run(batch)
                    if dry_run or (atomic and totals["error"]):
                        raise _Rollback
            except _Rollback:
                pass
            except JsonArrayError as exc:
                raise CommandError(f"{path}: {exc}.") from exc
            except UnicodeDecodeError as exc:
                raise CommandError(f"{path}: not UTF-8 text ({exc}).") from exc
        if not dry_run and not (atomic and totals["error"]):
            analyse_catalogue_tables()
        self._summary(entity, totals, time.monotonic() - started, dry_run, atomic)
        if totals["error"]:
            where = f"; see {options['errors']}" if options["errors"] else ""
            raise CommandError(f"{totals['error']} item(s) failed{where}.")

    def _open(self, path: str, stack: contextlib.ExitStack) -> BinaryIO:
        if path == "-":
            return sys.stdin.buffer
        try:
            return stack.enter_context(open(path, "rb"))
        except FileNotFoundError as exc:
            raise CommandError(f"File not found: {path}") from exc
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc

    @staticmethod
    def _directives(raw: str | None) -> Any:
        if raw is None:
            return None
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise CommandError(f"--directives is not JSON: {exc}") from exc

    def _summary(
        self, entity: Entity, totals: Counter[str], seconds: float, dry_run: bool, atomic: bool
    ) -> None:
        total = sum(totals.values())
        self.stdout.write(
            f"{entity.name}: {totals['create']} created, {totals['update']} updated, "
            f"{totals['skip']} skipped, {totals['remove']} removed, {totals['error']} failed "
            f"({total} items in {seconds:.1f} s)"
        )
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
        elif atomic and totals["error"]:
            self.stdout.write("Atomic import: an item failed, so nothing was written.")


class _Job:
    """One import: batches in, outcomes counted, failures written out."""

    def __init__(self, command, entity, key, directives, errors_out, bar, totals) -> None:
        self.command, self.entity, self.key = command, entity, key
        self.directives, self.errors_out, self.bar, self.totals = (
            directives,
            errors_out,
            bar,
            totals,
        )
        self.prepare = RecordPreparer(entity.resource.schema, key)
        self.records = 0
        self.shown = 0

    def run(self, batch: list[tuple[int, Any]]) -> None:
        items, lines = [], []
        for line, record in batch:
            self.records += 1
            if isinstance(record, BadRecord):
                self.fail(line, None, {"code": 10005, "type": "InvalidJSONPayload",
                                       "messages": [record.message]})  # fmt: skip
                continue
            items.append(self.prepare(record))
            lines.append((line, self.records))
        if items:
            body = {self.entity.name: items}
            if self.directives is not None:
                body["directives"] = self.directives
            try:
                result = run_bulk(self.entity.resource, body, lookup_key=self.key)
            except ApiError as exc:  # a request-level problem (directives): stop here
                raise CommandError(exc.message + _fields(exc)) from exc
            for item, (line, number) in zip(result.items, lines, strict=True):
                outcome = result.outcome(item, error_object)
                if item.error is not None:
                    self.fail(line, outcome, outcome["error"], number)
                else:
                    self.totals[outcome["action"]] += 1
        reset_queries()  # DEBUG keeps every statement otherwise
        self.bar.update(len(batch))
        self.bar.set_postfix({a: self.totals[a] for a in (*ACTIONS, "error")}, refresh=False)

    def fail(self, line: int, outcome: dict | None, error: dict, number: int | None = None) -> None:
        self.totals["error"] += 1
        entry = {
            "line": line,
            "record": number if number is not None else self.records,
            "lookupKey": self.key,
            "key": outcome["key"] if outcome else None,
            "error": error,
        }
        if self.errors_out is not None:
            self.errors_out.write(orjson.dumps(entry) + b"\n")
        elif self.shown < SHOWN_ERRORS:
            self.shown += 1
            key = f" {self.key} [{entry['key']}]" if entry["key"] is not None else ""
            message = "; ".join(error.get("messages", []))
            fields = error.get("fields")
            if fields:
                message += " " + "; ".join(f"{k}: {' '.join(v)}" for k, v in fields.items())
            self.command.stderr.write(f"line {line}:{key} {error.get('code')} {message}")


def _batches(records: Iterator[tuple[int, Any]], size: int) -> Iterator[list[tuple[int, Any]]]:
    while batch := list(islice(records, size)):
        yield batch


def _fields(exc: ApiError) -> str:
    if not exc.fields:
        return ""
    return " " + "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items())


#: the apps whose tables a bulk import writes (records, source links, attributes, memberships)
CATALOGUE_APPS = ("taxonomy", "catalogue", "clusters")


def analyse_catalogue_tables() -> None:
    """PostgreSQL: ``ANALYZE`` what an import filled, so that the planner sees the new rows now
    rather than whenever autovacuum gets to them (off on some machines)."""
    if connection.vendor != "postgresql":
        return
    tables = [
        model._meta.db_table
        for label in CATALOGUE_APPS
        for model in apps.get_app_config(label).get_models()
    ]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in tables))
