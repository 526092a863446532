"""Related rows as one JSON column of their owner's query: a page of records with their sources
and attributes in a single statement (no prefetch round trips, no model instances).

``related_rows(ProductSource, "product", ("pk", "source", "source_id"))`` annotates each product
with ``[[pk, source, source_id], …]`` (NULL without related rows); ``decoded_rows`` turns it back
into lists sorted by their first column, so the order never depends on the aggregate.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from django.db.models import Aggregate, Func, JSONField, Model, OuterRef, Subquery, TextField

from config.api.bulk_records import plain


class JsonRows(Aggregate):
    """``[[col, …], …]`` of the group's rows, as JSON text."""

    contains_aggregate = True
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra):
        parts, params = self._compiled(compiler, connection)
        return f"json_agg(json_build_array({', '.join(parts)}))::text", params

    def as_sqlite(self, compiler, connection, **extra):
        parts, params = self._compiled(compiler, connection)
        # JSON columns are stored as text there: json() embeds them as values, not strings
        wrapped = [
            f"json({sql})" if isinstance(expr.output_field, JSONField) else sql
            for expr, sql in zip(self._columns(), parts, strict=True)
        ]
        return f"json_group_array(json_array({', '.join(wrapped)}))", params

    def _columns(self) -> list:
        # the columns only: an Aggregate's own source expressions end with filter and ordering
        return Func.get_source_expressions(self)

    def _compiled(self, compiler, connection) -> tuple[list[str], list[Any]]:
        parts, params = [], []
        for expression in self._columns():
            sql, expression_params = compiler.compile(expression)
            parts.append(sql)
            params.extend(expression_params)
        return parts, params


def related_rows(model: type[Model], owner: str, columns: Sequence[str]) -> Subquery:
    """The ``columns`` of ``model``'s rows whose ``owner`` is the outer row, as one JSON value;
    the first column orders them (see ``decoded_rows``)."""
    inner = (
        plain(model)
        .filter(**{owner: OuterRef("pk")})
        .order_by()
        .values(owner)
        .annotate(rows=JsonRows(*columns))
        .values("rows")
    )
    return Subquery(inner, output_field=TextField())


def decoded_rows(value: str | None) -> list[list[Any]]:
    """A ``related_rows`` value as lists, in the order of their first column."""
    if not value:
        return []
    return sorted(orjson.loads(value), key=lambda row: row[0])
