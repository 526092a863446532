"""The search document (see ``records.search``): every searchable record's ``search_text``."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Model

DOCUMENT_MAX_CHARS = 8000
_SEPARATORS = re.compile(r"[\W_]+")


def normalize(text: str) -> str:
    """Case-folded, accent-stripped words separated by single spaces: ``"Crème-Jacket"`` →
    ``"creme jacket"``. Punctuation separates words, as it does for the full text parser."""
    folded = text.casefold()
    if not folded.isascii():  # ASCII has no accents to strip (most catalogue text: fast path)
        folded = "".join(
            c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c)
        )
    return " ".join(word for word in _SEPARATORS.split(folded) if word)


def search_document(parts: Iterable[str | None]) -> str:
    """The ``search_text`` of a record from its searchable values, most important first.

    Repeated values (the same name in several languages) are kept once; the document is cut at
    ``DOCUMENT_MAX_CHARS`` on a word boundary, so giant descriptions keep search fast. It starts
    and ends with a space, so ``' word'`` marks the start of any word and ``' word '`` a whole
    word for plain STRPOS/INSTR and LIKE.
    """
    seen: set[str] = set()
    kept: list[str] = []
    for part in parts:
        text = normalize(part) if part else ""
        if text and text not in seen:
            seen.add(text)
            kept.append(text)
    document = " ".join(kept)
    if len(document) > DOCUMENT_MAX_CHARS:
        document = document[: DOCUMENT_MAX_CHARS + 1].rsplit(" ", 1)[0]
    return f" {document} " if document else ""


def set_column(model: type[Model], column: str, values: Mapping[int, Any]) -> None:
    """``UPDATE … SET column = v`` for many rows by primary key, one statement per 1000 rows.

    Used to (re)fill search documents after set-based writes; ``bulk_update`` would build a
    ``CASE`` per row instead.
    """
    table = connection.ops.quote_name(model._meta.db_table)
    col = connection.ops.quote_name(column)
    items = list(values.items())
    with connection.cursor() as cursor:
        for start in range(0, len(items), 1000):
            batch = items[start : start + 1000]
            rows = ", ".join(["(%s, %s)"] * len(batch))
            if connection.vendor == "postgresql":
                source = f"(VALUES {rows}) AS v (pk, value)"
                value, pk = "v.value", "v.pk::bigint"
            else:
                source = f"(SELECT column1 AS pk, column2 AS value FROM (VALUES {rows})) AS v"
                value, pk = "v.value", "v.pk"
            cursor.execute(
                f"UPDATE {table} SET {col} = {value} FROM {source} WHERE {table}.id = {pk}",
                [p for pair in batch for p in pair],
            )


@dataclass(frozen=True)
class SearchText:
    """What one record type's ``search_text`` is made of: names (default language first), its
    code columns, its source ids, then short descriptions and descriptions in every language.

    ``document`` may be given a historical model in a migration: it reads plain attributes only.
    """

    model: type[Model]
    source_model: type[Model]  # the record's SourceLink model
    owner: str  # the source link's foreign key to the record
    code_columns: tuple[str, ...] = ()

    def document(self, record: Any, source_ids: Iterable[str]) -> str:
        languages = [
            record.language,
            *(code for code in settings.CATALOGUE_LANGUAGES if code != record.language),
        ]
        names = [getattr(record, f"name_{code}", None) for code in languages]
        codes = [getattr(record, column) or None for column in self.code_columns]
        texts = [
            getattr(record, f"{base}_{code}", None)
            for base in _TEXT_BASES[1:]
            for code in languages
        ]
        return search_document([*names, *codes, *source_ids, *texts])

    def source_ids(self, pk: int) -> list[str]:
        return list(
            self.source_model.objects.filter(**{f"{self.owner}_id": pk})
            .order_by("pk")
            .values_list("source_id", flat=True)
        )

    def refresh(self, ids: Iterable[int], *, batch_size: int = 1000) -> int:
        """Recompute ``search_text`` of the given records set-based (bulk writes, rebuilds):
        three statements per ``batch_size`` records. Returns how many rows were rewritten."""
        ids = list(ids)
        columns = ["id", "language", *self.code_columns] + [
            f"{base}_{code}" for base in _TEXT_BASES for code in settings.CATALOGUE_LANGUAGES
        ]
        owner = f"{self.owner}_id"
        rewritten = 0
        for start in range(0, len(ids), batch_size):
            chunk = ids[start : start + batch_size]
            sources: dict[int, list[str]] = {}
            for pk, source_id in (
                self.source_model.objects.filter(**{f"{owner}__in": chunk})
                .order_by("pk")
                .values_list(owner, "source_id")
            ):
                sources.setdefault(pk, []).append(source_id)
            documents = {
                record.pk: self.document(record, sources.get(record.pk, []))
                for record in self.model.objects.filter(pk__in=chunk).only(*columns)
            }
            set_column(self.model, "search_text", documents)
            rewritten += len(documents)
        return rewritten


_TEXT_BASES = ("name", "short_description", "description")
