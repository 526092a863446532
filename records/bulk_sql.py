"""Set-based SQL for the bulk path: one statement per kind of write, whatever the number of rows.

The rows of a write travel as ONE JSON parameter that the database expands into a row set
(PostgreSQL ``json_array_elements``, SQLite ``json_each``). A 2000-row insert is therefore one
statement with one parameter on both backends, where ``bulk_create`` splits into 999-parameter
batches on SQLite (about 16 product rows per statement) and the per-row placeholders of a
VALUES list dominate planning time on PostgreSQL.

Callers pass plain dicts keyed by attribute name (``parent_id``, ``name_en``) and say which
columns to write; values are adapted per field the way Django stores them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import CASCADE, SET_NULL, Field, ForeignObject, Lookup, Model

Row = Mapping[str, Any]


def _fields(model: type[Model], columns: Sequence[str]) -> list[Field]:
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    return [by_attname[c] for c in columns]


def _adapter(field: Field) -> Any:
    """How a Python value of ``field`` goes into the JSON row document (None: as it is)."""
    internal = field.get_internal_type()
    if internal == "JSONField":
        # PostgreSQL reads the nested JSON as jsonb; SQLite stores the JSON text as Django does.
        return None if connection.vendor == "postgresql" else json.dumps
    if internal == "DateTimeField":
        if connection.vendor == "postgresql":
            return lambda value: value.isoformat()
        return connection.ops.adapt_datetimefield_value
    return None


def _document(fields: Sequence[Field], rows: Iterable[Row], extra: Sequence[str] = ()) -> bytes:
    """The rows as one JSON array of arrays (columns in ``fields`` order, then ``extra``)."""
    names = [f.attname for f in fields] + list(extra)
    adapters = [(i, a) for i, a in enumerate(map(_adapter, fields)) if a is not None]
    out = []
    for row in rows:
        values = [row[name] for name in names]
        for i, adapt in adapters:
            if values[i] is not None:
                values[i] = adapt(values[i])
        out.append(values)
    return orjson.dumps(out)


def _pg_type(field: Field) -> str:
    # Lengths are dropped (``varchar`` not ``varchar(255)``): a cast to varchar(n) would truncate
    # silently, where the column itself refuses an over-long value.
    return field.db_type(connection).split("(")[0]


def _select_list(fields: Sequence[Field], extra: Sequence[tuple[str, str]] = ()) -> str:
    """``SELECT`` expressions reading position i of each row array, aliased by column name."""
    qn = connection.ops.quote_name
    columns = [(f.column, f) for f in fields]
    parts = []
    if connection.vendor == "postgresql":
        for i, (column, field) in enumerate(columns):
            if field.get_internal_type() == "JSONField":
                parts.append(f"NULLIF(e.r->{i}, 'null'::jsonb) AS {qn(column)}")
            else:
                parts.append(f"(e.r->>{i})::{_pg_type(field)} AS {qn(column)}")
        for j, (name, sql_type) in enumerate(extra, start=len(columns)):
            parts.append(f"(e.r->>{j})::{sql_type} AS {qn(name)}")
    else:
        for i, (column, _field) in enumerate(columns):
            parts.append(f"json_extract(e.value, '$[{i}]') AS {qn(column)}")
        for j, (name, _sql_type) in enumerate(extra, start=len(columns)):
            parts.append(f"json_extract(e.value, '$[{j}]') AS {qn(name)}")
    return ", ".join(parts)


def _row_source() -> str:
    if connection.vendor == "postgresql":
        # jsonb: ``e.r->>i`` is then an indexed read, where on json it re-parses the row each time.
        return "jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS e(r, n)"
    return "json_each(%s) AS e"


def _row_order() -> str:
    return "e.n" if connection.vendor == "postgresql" else "e.key"


class InJsonList(Lookup):
    """``column__oneof=[…]``: membership in a list sent as ONE JSON parameter.

    Django's ``__in`` compiles and binds one placeholder per value; for the thousands of keys of
    a bulk request that costs more than running the query.
    """

    lookup_name = "oneof"

    def get_prep_lookup(self):
        return list(self.rhs)

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        values = sorted(set(self.rhs))
        if not values:
            raise EmptyResultSet
        if connection.vendor == "postgresql":
            cast = self.lhs.output_field.db_type(connection).split("(")[0]
            sql = f"{lhs} = ANY(ARRAY(SELECT jsonb_array_elements_text(%s::jsonb)::{cast}))"
        else:
            sql = f"{lhs} IN (SELECT value FROM json_each(%s))"
        return sql, [*params, orjson.dumps(values).decode()]


Field.register_lookup(InJsonList)
ForeignObject.register_lookup(InJsonList)  # foreign keys resolve lookups on their own class


def rows_by_pairs(
    model: type[Model],
    key: tuple[str, str],
    pairs: Iterable[tuple[str, str]],
    fields: Sequence[str],
) -> list[tuple]:
    """Rows whose two-column ``key`` is one of ``pairs`` (``(source, source_id)``), as tuples of
    ``fields``: a join against the pairs, one index probe each. (``a IN (…) AND b IN (…)`` uses
    the index on the first column only and then compares every row with every value.)"""
    pairs = sorted(set(pairs))
    if not pairs:
        return []
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    by_attname = {f.attname: f.column for f in model._meta.concrete_fields}
    first, second = (qn(by_attname[c]) for c in key)
    selected = ", ".join(f"t.{qn(by_attname[f])}" for f in fields)
    if connection.vendor == "postgresql":
        source = "jsonb_array_elements(%s::jsonb) AS p(r)"
        a, b = "p.r->>0", "p.r->>1"
    else:
        source = "json_each(%s) AS p"
        a, b = "json_extract(p.value, '$[0]')", "json_extract(p.value, '$[1]')"
    sql = (
        f"SELECT {selected} FROM {source} JOIN {table} AS t ON t.{first} = {a} AND t.{second} = {b}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [orjson.dumps(pairs).decode()])
        return cursor.fetchall()


def insert_rows(model: type[Model], columns: Sequence[str], rows: Sequence[Row]) -> list[int]:
    """``INSERT … SELECT`` every row in one statement; returns the new primary keys in row order."""
    if not rows:
        return []
    qn = connection.ops.quote_name
    fields = _fields(model, columns)
    table = qn(model._meta.db_table)
    column_list = ", ".join(qn(f.column) for f in fields)
    sql = (
        f"INSERT INTO {table} ({column_list}) "
        f"SELECT {_select_list(fields)} FROM {_row_source()} ORDER BY {_row_order()} "
        f"RETURNING {qn(model._meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_document(fields, rows).decode()])
        ids = [row[0] for row in cursor.fetchall()]
    if len(ids) != len(rows):  # pragma: no cover - the database broke its promise
        raise RuntimeError(f"Inserted {len(ids)} rows of {len(rows)}.")
    return ids


def reserve_ids(model: type[Model], count: int) -> list[int]:
    """``count`` new primary keys from ``model``'s sequence (PostgreSQL), ascending: rows can
    then be inserted in another order than the one their ids follow."""
    sql = "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)"
    with connection.cursor() as cursor:
        cursor.execute(sql, [model._meta.db_table, model._meta.pk.column, count])
        return sorted(row[0] for row in cursor.fetchall())


def append_rows(model: type[Model], columns: Sequence[str], rows: Sequence[Row]) -> None:
    """Append rows nobody reads back (no ids returned, column defaults fill the rest): one
    ``COPY … FROM STDIN`` on PostgreSQL — half the time of ``insert_rows`` for a bulk's change
    events, which are large JSON documents parsed once instead of twice — ``insert_rows``
    elsewhere. The COPY runs through Django's execute wrappers and query log, so statement
    counts (tests, the bench's ``X-Query-Count``) see it like any other statement."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        insert_rows(model, columns, rows)
        return
    qn = connection.ops.quote_name
    fields = _fields(model, columns)
    sql = f"COPY {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) FROM STDIN"
    names = [f.attname for f in fields]
    json_columns = [i for i, f in enumerate(fields) if f.get_internal_type() == "JSONField"]

    with connection.cursor() as cursor:

        def copy(sql: str, params: Any, many: bool, context: Any) -> None:
            with cursor.cursor.copy(sql) as stream:
                for row in rows:
                    values = [row[name] for name in names]
                    for i in json_columns:
                        if values[i] is not None:
                            values[i] = orjson.dumps(values[i]).decode()
                    stream.write_row(values)

        # Django 5.2's cursor wrapper: the execute wrappers, then (when queries are logged) the log
        log = getattr(cursor, "debug_sql", None)
        if log is None:
            cursor._execute_with_wrappers(sql, None, False, copy)
        else:
            with log(sql):
                cursor._execute_with_wrappers(sql, None, False, copy)


def update_rows(
    model: type[Model],
    columns: Sequence[str],
    rows: Sequence[Row],
    *,
    guard: str | None = None,
) -> set[int]:
    """``UPDATE … FROM`` the rows (matched by primary key) in one statement.

    With ``guard`` (a column such as ``version``) a row is only written while the stored value
    still equals ``row["expected_<guard>"]``: the optimistic check happens inside the write.
    Returns the primary keys actually written.
    """
    if not rows:
        return set()
    qn = connection.ops.quote_name
    pk = model._meta.pk
    table = qn(model._meta.db_table)
    fields = _fields(model, [pk.attname, *columns])
    extra: list[tuple[str, str]] = []
    if guard:
        guard_field = _fields(model, [guard])[0]
        sql_type = _pg_type(guard_field) if connection.vendor == "postgresql" else ""
        extra.append((f"expected_{guard}", sql_type))
    assignments = ", ".join(f"{qn(f.column)} = v.{qn(f.column)}" for f in fields[1:])
    condition = f"{table}.{qn(pk.column)} = v.{qn(pk.column)}"
    if guard:
        guard_column = qn(_fields(model, [guard])[0].column)
        condition += f" AND {table}.{guard_column} = v.{qn(f'expected_{guard}')}"
    # SQLite's RETURNING sees only the target table (and refuses a qualified name there).
    returned = f"{table}.{qn(pk.column)}" if connection.vendor == "postgresql" else qn(pk.column)
    sql = (
        f"UPDATE {table} SET {assignments} "
        f"FROM (SELECT {_select_list(fields, extra)} FROM {_row_source()}) AS v "
        f"WHERE {condition} RETURNING {returned}"
    )
    document = _document(fields, rows, [name for name, _ in extra])
    with connection.cursor() as cursor:
        cursor.execute(sql, [document.decode()])
        return {row[0] for row in cursor.fetchall()}


def _delete_pks(model: type[Model], pks: Sequence[int]) -> None:
    qn = connection.ops.quote_name
    table, pk = qn(model._meta.db_table), qn(model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE {pk} IN ({_id_list()})", [_ids_param(pks)])


def _id_list() -> str:
    if connection.vendor == "postgresql":
        return "SELECT unnest(%s::bigint[])"
    return "SELECT value FROM json_each(%s)"


def _ids_param(pks: Iterable[int]) -> Any:
    pks = sorted(set(pks))
    return pks if connection.vendor == "postgresql" else orjson.dumps(pks).decode()


def delete_records(model: type[Model], pks: Iterable[int]) -> None:
    """Delete rows with what depends on them, one statement per relation, like the ORM would.

    The ORM's collector deletes in chunks of 100 primary keys and loads the rows first; this
    follows the same ``on_delete`` rules (CASCADE recursively, SET_NULL, many-to-many links) for
    the whole set at once. PROTECT and RESTRICT are the caller's business: resources refuse such
    items before writing (a category with products, …), so the database constraint never fires.
    """
    pks = sorted(set(pks))
    if not pks:
        return
    for relation in reverse_relations(model):
        related = relation.related_model
        if relation.many_to_many:
            through = relation.through
            link = next(
                f
                for f in through._meta.concrete_fields
                if f.is_relation and f.related_model is model
            )
            through.objects.filter(**{f"{link.attname}__oneof": pks})._raw_delete(
                through.objects.db
            )
            continue
        fk = relation.field
        on_delete = relation.on_delete
        if on_delete is CASCADE:
            dependants = related.objects.filter(**{f"{fk.attname}__oneof": pks})
            if related._meta.related_objects:
                delete_records(related, list(dependants.values_list("pk", flat=True)))
            else:
                dependants._raw_delete(dependants.db)
        elif on_delete is SET_NULL:
            related.objects.filter(**{f"{fk.attname}__oneof": pks}).update(**{fk.attname: None})
    _delete_pks(model, pks)


def reverse_relations(model: type[Model]) -> list:
    """Every relation pointing at ``model``, including hidden ones (``related_name="+"``, such as
    a cluster's ``default_product``), which ``_meta.related_objects`` leaves out: their
    ``on_delete`` holds all the same (a missed SET_NULL fails the delete on the foreign key)."""
    return [
        f
        for f in model._meta.get_fields(include_hidden=True)
        if f.auto_created
        and not f.concrete
        and (f.many_to_many or not f.related_model._meta.auto_created)
    ]


def advisory_lock(name: str) -> None:
    """A transaction-scoped PostgreSQL advisory lock on a name (no-op on SQLite, whose writers are
    serialised by the database lock anyway)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [name])
