"""``export_catalogue --entity products [--format ndjson|csv|json] [--output PATH]`` (SPEC §16).

Streams every record in the API's write shape: what ``import_catalogue`` (and the bulk endpoints)
take back unchanged. Server-owned fields (ids, versions, timestamps) are left out and references
to other records use their source pairs, so an export loaded into another database means the
same catalogue. On PostgreSQL the export reads one consistent snapshot.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from typing import Any, BinaryIO

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from integrations.catalogue_io import write_records
from records.bulk import entities

EXPORT_FORMATS = ("ndjson", "csv", "json")


class Command(BaseCommand):
    help = "Export products or categories as NDJSON, CSV or a JSON array (re-importable)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--entity", required=True, choices=sorted(entities()))
        parser.add_argument("--format", choices=EXPORT_FORMATS, default="ndjson")
        parser.add_argument("--output", default="-", help="File to write, or - for stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self._export(**options)
        except BrokenPipeError:
            # The reader went away (``| head``): stop quietly, like other command-line tools.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())

    def _export(self, **options: Any) -> None:
        entity = entities()[options["entity"]]
        started = time.monotonic()
        with contextlib.ExitStack() as stack:
            out = self._open(options["output"], stack)
            outermost = not connection.in_atomic_block
            with transaction.atomic():
                if outermost and connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                count = write_records(
                    options["format"],
                    entity.export(),
                    out,
                    entity.resource.schema,
                    entity.max_sources() if options["format"] == "csv" else 0,
                )
            out.flush()
        if options["output"] != "-":
            self.stdout.write(
                f"{entity.name}: {count} exported to {options['output']} "
                f"in {time.monotonic() - started:.1f} s"
            )

    def _open(self, path: str, stack: contextlib.ExitStack) -> BinaryIO:
        if path == "-":
            stream = getattr(self.stdout, "_out", sys.stdout)
            return getattr(stream, "buffer", None) or _TextSink(stream)
        try:
            return stack.enter_context(open(path, "wb"))
        except OSError as exc:
            raise CommandError(f"Cannot write {path}: {exc.strerror}") from exc


class _TextSink:
    """A binary front for a text stream (``call_command(stdout=StringIO())``)."""

    def __init__(self, stream) -> None:
        self.stream = stream

    def write(self, data: bytes) -> int:
        self.stream.write(data.decode())
        return len(data)

    def flush(self) -> None:
        self.stream.flush()
