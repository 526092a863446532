"""Related rows as one JSON column of their owner's query: a page of records with their sources
and attributes in a single statement (no prefetch round trips, no model instances).

``RelatedRows(ProductSource, "product", ("pk", "source", "source_id"))`` annotates each product
with ``[[pk, source, source_id], …]`` (NULL or ``[]`` without related rows); ``decoded_rows``
turns it back into lists sorted by their first column, so the order never depends on the
aggregate. The subquery is written out directly: compiling a Django ``Subquery`` with grouping
for every request cost more than the statement itself on a single-product lookup.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import orjson
from django.db import connection
from django.db.models import Expression, F, JSONField, Model, Q, QuerySet, TextField
from django.db.models.query import ValuesIterable


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


class RowsIterable(ValuesIterable):
    """``values()`` rows handed to ``convert`` as a list (set a subclass as a queryset's
    ``_iterable_class``): the rows of ``PreparedRows`` go through the same ``convert``."""

    @staticmethod
    def convert(rows: list[dict[str, Any]]) -> Iterable[Any]:
        return rows

    def __iter__(self):
        yield from self.convert(list(super().__iter__()))


@dataclass(frozen=True)
class _Compiled:
    compiler: Any
    sql: str
    params: tuple[Any, ...]
    #: where each value of the condition goes in ``params``, in ``_values`` order
    slots: tuple[int, ...]
    names: tuple[str, ...]
    trim: bool
    #: Django's converters of the selected columns (SQLite dates, booleans …), by position
    converters: dict[int, Any]
    convert: Callable[[list[dict[str, Any]]], Iterable[Any]]


def _values(condition: Q) -> list[Any]:
    """The values of a condition's leaves, depth first."""
    found = []
    for child in condition.children:
        found.extend(_values(child) if isinstance(child, Q) else [child[1]])
    return found


def _with_values(condition: Q, values: Iterator[Any]) -> Q:
    children = [
        _with_values(child, values) if isinstance(child, Q) else (child[0], next(values))
        for child in condition.children
    ]
    return Q(*children, _connector=condition.connector, _negated=condition.negated)


def _shape(condition: Q) -> tuple:
    return (
        condition.connector,
        condition.negated,
        *(
            _shape(child) if isinstance(child, Q) else (child[0], type(child[1]))
            for child in condition.children
        ),
    )


class PreparedRows:
    """Compiled SQL of a ``values()`` queryset, per shape, run again with other values.

    Building and compiling the ~55-column product query (with its JSON subqueries) costs more
    than running it on a single-record lookup. The first lookup of a shape (the
    caller's key and the condition's lookups and value types) compiles the query with marker
    values and records where each value lands among the parameters; later ones put their values
    there and execute the same SQL, converting the rows with the same compiler. A shape whose
    values do not land exactly once each (a lookup that transforms its value, a value Django
    inlines) is never prepared: it runs through the ORM as usual.

    This leans on Django internals no public API offers (the compiler, its converters, the
    queryset's iterable class, ``Q`` children); tests/api/test_prepared_rows_internals.py names
    each one and fails saying which when a Django upgrade changes it.
    """

    #: markers by value type; equal to nothing a real query would carry
    MARKERS: ClassVar[dict[type, Callable[[int], Any]]] = {
        str: lambda n: f"\x00prepared-{n}\x00",
        int: lambda n: 2**62 + 7919 * n + 1,
    }

    def __init__(self) -> None:
        self._compiled: dict[Hashable, _Compiled | None] = {}

    def rows(self, key: Hashable, build: Callable[[Q], QuerySet], condition: Q) -> list[Any]:
        """``list(build(condition))``, from the compiled SQL of ``key``'s shape when it has one."""
        values = _values(condition)
        shape = (key, connection.alias, _shape(condition))
        if shape not in self._compiled:
            self._compiled[shape] = self._compile(build, condition, values)
        compiled = self._compiled[shape]
        if compiled is None:
            return list(build(condition))
        params = list(compiled.params)
        for slot, value in zip(compiled.slots, values, strict=True):
            params[slot] = value
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            fetched = cursor.fetchall()
        if compiled.trim:  # ordering columns Django added past the selected ones
            fetched = [row[: len(compiled.names)] for row in fetched]
        if compiled.converters:
            fetched = compiled.compiler.apply_converters(fetched, compiled.converters)
        names = compiled.names
        return list(compiled.convert([dict(zip(names, row, strict=True)) for row in fetched]))

    def _compile(self, build, condition: Q, values: list[Any]) -> _Compiled | None:
        if any(type(value) not in self.MARKERS for value in values):
            return None
        markers = [self.MARKERS[type(value)](n) for n, value in enumerate(values)]
        queryset = build(_with_values(condition, iter(markers)))
        iterable = queryset._iterable_class
        if not issubclass(iterable, ValuesIterable):
            return None
        query = queryset.query
        compiler = query.get_compiler(queryset.db)
        sql, params = compiler.as_sql()
        slots = []
        for marker in markers:
            at = [i for i, p in enumerate(params) if type(p) is type(marker) and p == marker]
            if len(at) != 1:
                return None
            slots.append(at[0])
        # the names ValuesIterable gives the columns, in its order
        if query.selected:
            names = tuple(query.selected)
        else:
            names = (*query.extra_select, *query.values_select, *query.annotation_select)
        if len(names) > len(compiler.select):
            return None
        return _Compiled(
            compiler=compiler,
            sql=sql,
            params=tuple(params),
            slots=tuple(slots),
            names=names,
            trim=compiler.has_extra_select,
            converters=compiler.get_converters([s[0] for s in compiler.select[: len(names)]]),
            convert=iterable.convert if issubclass(iterable, RowsIterable) else list,
        )
