"""The Django internals ``PreparedRows`` and ``RowsIterable`` (config/api/rows.py) rely on, named
one by one.

No public Django API compiles a queryset once and runs its SQL again with other values, or hands
``values()`` rows to a converter without model instances, so rows.py uses the ORM's own pieces.
Each test below pins one of them; when a Django upgrade changes it, the failure says which
internal moved and what rows.py expects of it. Fix rows.py (or drop the prepared path: lookups
then run through the ORM, slower but correct) before upgrading.
"""

from __future__ import annotations

import inspect

import django
import pytest
from django.db import connection
from django.db.models import F, Q
from django.db.models.query import BaseIterable, QuerySet, ValuesIterable
from django.db.models.sql.compiler import SQLCompiler
from django.db.models.sql.query import Query

from catalogue.models import Product
from records.bulk_records import plain
from records.rows import RowsIterable
from tests.catalogue.factories import ProductFactory


def pinned(internal: str, expectation: str, holds: bool, found: object = "") -> None:
    """Fail naming the internal when it no longer behaves as rows.py expects."""
    if not holds:
        pytest.fail(
            f"config/api/rows.py relies on Django's {internal}: {expectation}. "
            f"Django {django.get_version()} no longer does{f' (found {found!r})' if found else ''}; "
            "adapt PreparedRows/RowsIterable before upgrading.",
            pytrace=False,
        )


def parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def values_queryset() -> QuerySet:
    # a field, an annotation and an ordering column outside the selection: every kind of name
    # rows as catalogue.selectors.product_rows reads them: without modeltranslation rewriting
    return plain(Product).values("pk", "hidden", code=F("sku")).order_by("-created_at")


def test_values_iterable_is_the_base_of_rows_iterable():
    pinned(
        "django.db.models.query.ValuesIterable",
        "a BaseIterable whose __iter__ yields one dict per values() row",
        issubclass(ValuesIterable, BaseIterable) and "__iter__" in vars(ValuesIterable),
    )


def test_queryset_iterable_class_is_set_by_values_and_kept_by_clones():
    queryset = values_queryset()
    pinned(
        "QuerySet._iterable_class",
        "values() sets it to ValuesIterable",
        getattr(queryset, "_iterable_class", None) is ValuesIterable,
        getattr(queryset, "_iterable_class", None),
    )

    class Marked(RowsIterable):
        @staticmethod
        def convert(rows):
            return [("converted", row) for row in rows]

    queryset._iterable_class = Marked
    pinned(
        "QuerySet._iterable_class",
        "clones (.all(), .filter()) keep an assigned iterable class",
        queryset.all().filter(pk__gt=0)._iterable_class is Marked,
    )


@pytest.mark.django_db
def test_an_assigned_rows_iterable_converts_the_rows():
    ProductFactory(sku="A-1")
    queryset = values_queryset()

    class Marked(RowsIterable):
        @staticmethod
        def convert(rows):
            return [("converted", row["code"]) for row in rows]

    queryset._iterable_class = Marked
    pinned(
        "QuerySet._iterable_class",
        "iterating a queryset yields what the assigned iterable class yields",
        list(queryset.all()) == [("converted", "A-1")],
        list(queryset.all()),
    )


def test_query_compiler_and_its_sql():
    query = values_queryset().query
    pinned(
        "Query.get_compiler(using)",
        "takes the database alias as `using`",
        parameters(Query.get_compiler)[:2] == ["self", "using"],
        parameters(Query.get_compiler),
    )
    compiler = query.get_compiler(connection.alias)
    pinned("Query.get_compiler(using)", "returns an SQLCompiler", isinstance(compiler, SQLCompiler))
    result = compiler.as_sql()
    pinned(
        "SQLCompiler.as_sql()",
        "returns (sql, params) with no arguments",
        isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], str),
        result,
    )
    select = compiler.select
    pinned(
        "SQLCompiler.select",
        "after as_sql(), a list of (expression, (sql, params), alias) per selected column",
        isinstance(select, list)
        and all(isinstance(item, tuple) and len(item) == 3 for item in select)
        and len(select) >= 3,
        select,
    )
    pinned(
        "SQLCompiler.has_extra_select",
        "after as_sql(), a bool: the ordering added columns past the selected ones",
        isinstance(getattr(compiler, "has_extra_select", None), bool),
        getattr(compiler, "has_extra_select", None),
    )


def test_query_names_its_columns_like_values_iterable():
    query = values_queryset().query
    for name in ("selected", "extra_select", "values_select", "annotation_select"):
        pinned(f"Query.{name}", "exists (the names of the values() columns)", hasattr(query, name))
    names = list(query.selected) if query.selected else [
        *query.extra_select, *query.values_select, *query.annotation_select,
    ]  # fmt: skip
    pinned(
        "Query.selected / extra_select + values_select + annotation_select",
        "name the values() columns as ValuesIterable does",
        sorted(names) == ["code", "hidden", "pk"],
        names,
    )
    pinned(
        "ValuesIterable.__iter__",
        "names its columns from Query.selected, else extra_select + values_select + "
        "annotation_select (PreparedRows names them the same way)",
        all(
            name in inspect.getsource(ValuesIterable.__iter__)
            for name in ("query.selected", "extra_select", "values_select", "annotation_select")
        ),
    )


@pytest.mark.django_db
def test_converters_turn_raw_rows_into_what_values_returns():
    ProductFactory(sku="A-1", hidden=True)
    queryset = values_queryset()
    pinned(
        "SQLCompiler.get_converters / apply_converters",
        "get_converters(expressions) and apply_converters(rows, converters)",
        parameters(SQLCompiler.get_converters) == ["self", "expressions"]
        and parameters(SQLCompiler.apply_converters) == ["self", "rows", "converters"],
        (parameters(SQLCompiler.get_converters), parameters(SQLCompiler.apply_converters)),
    )
    query = queryset.query
    compiler = query.get_compiler(queryset.db)
    sql, params = compiler.as_sql()
    names = list(query.selected) if query.selected else [
        *query.extra_select, *query.values_select, *query.annotation_select,
    ]  # fmt: skip
    converters = compiler.get_converters([item[0] for item in compiler.select[: len(names)]])
    pinned(
        "SQLCompiler.get_converters",
        "returns {column position: (converters, expression)}",
        isinstance(converters, dict) and all(isinstance(k, int) for k in converters),
        converters,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = [row[: len(names)] for row in cursor.fetchall()]
    converted = [
        dict(zip(names, row, strict=True)) for row in compiler.apply_converters(fetched, converters)
    ]
    pinned(
        "SQL from SQLCompiler.as_sql() + apply_converters",
        "give the rows values() gives",
        converted == list(queryset),
        (converted, list(queryset)),
    )


def test_q_children_connector_and_negation_round_trip():
    condition = ~(Q(sku="A") | Q(pk=1, hidden=False))
    pinned(
        "Q.children, Q.connector, Q.negated",
        "a leaf is a (lookup, value) tuple, a branch a Q; ~ and | set negated and connector",
        condition.children[0] == ("sku", "A")
        and isinstance(condition.children[1], Q)
        and condition.children[1].children == [("hidden", False), ("pk", 1)]
        and (condition.connector, condition.negated) == (Q.OR, True),
        (condition.children, condition.connector, condition.negated),
    )
    rebuilt = Q(*condition.children, _connector=condition.connector, _negated=condition.negated)
    pinned(
        "Q(*children, _connector=, _negated=)",
        "rebuilds an equal condition from its children, connector and negation",
        rebuilt == condition,
        rebuilt,
    )
