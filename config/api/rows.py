"""Related rows as one JSON column of their owner's query: a page of records with their sources
and attributes in a single statement (no prefetch round trips, no model instances).

``RelatedRows(ProductSource, "product", ("pk", "source", "source_id"))`` annotates each product
with ``[[pk, source, source_id], …]`` (NULL or ``[]`` without related rows); ``decoded_rows``
turns it back into lists sorted by their first column, so the order never depends on the
aggregate. The subquery is written out directly: compiling a Django ``Subquery`` with grouping
for every request cost more than the statement itself on a single-product lookup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from django.db.models import Expression, F, JSONField, Model, TextField


class RelatedRows(Expression):
    """``[[col, …], …]`` of the ``model`` rows whose ``owner`` is the outer row, as JSON text."""

    output_field = TextField()

    def __init__(self, model: type[Model], owner: str, columns: Sequence[str]) -> None:
        super().__init__()
        self.model, self.owner, self.columns = model, owner, tuple(columns)
        self.outer = F("pk")

    def get_source_expressions(self) -> list:
        return [self.outer]

    def set_source_expressions(self, expressions: list) -> None:
        (self.outer,) = expressions

    def as_sql(self, compiler, connection) -> tuple[str, list[Any]]:
        outer, params = compiler.compile(self.outer)
        quote = connection.ops.quote_name
        meta = self.model._meta
        fields = [meta.pk if name == "pk" else meta.get_field(name) for name in self.columns]
        columns = []
        for field in fields:
            column = f"r.{quote(field.column)}"
            if connection.vendor != "postgresql" and isinstance(field, JSONField):
                column = f"json({column})"  # stored as text there: embed it as a JSON value
            columns.append(column)
        owner = quote(meta.get_field(self.owner).column)
        if connection.vendor == "postgresql":
            rows = f"json_agg(json_build_array({', '.join(columns)}))::text"
        else:
            rows = f"json_group_array(json_array({', '.join(columns)}))"
        return f"(SELECT {rows} FROM {quote(meta.db_table)} r WHERE r.{owner} = {outer})", params


def decoded_rows(value: str | None) -> list[list[Any]]:
    """A ``RelatedRows`` value as lists, in the order of their first column."""
    if not value:
        return []
    return sorted(orjson.loads(value), key=lambda row: row[0])
