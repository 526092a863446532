"""The floor: the physical limit on this machine for the same work.

Reads: a plain Django view running the same SQL as the service and encoding rows with orjson.
Writes: JSON parse + COPY into staging tables + one ``INSERT … SELECT … ON CONFLICT`` per table.
"""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from records.search.text import search_document
from taxonomy.services import TREE_LOCK_KEY


def _json(payload) -> HttpResponse:
    return HttpResponse(orjson.dumps(payload), content_type="application/json")


def _rows(cursor) -> list[dict]:
    names = [c.name for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _with_links(cursor, products: list[dict]) -> list[dict]:
    ids = [p["id"] for p in products]
    if not ids:
        return products
    cursor.execute(
        "SELECT product_id, source, source_id FROM catalogue_productsource "
        "WHERE product_id = ANY(%s) ORDER BY id",
        [ids],
    )
    sources: dict[int, list] = {}
    for product_id, source, source_id in cursor.fetchall():
        sources.setdefault(product_id, []).append({"source": source, "sourceId": source_id})
    cursor.execute(
        "SELECT product_id, name, value FROM catalogue_productattribute "
        "WHERE product_id = ANY(%s) ORDER BY position",
        [ids],
    )
    attributes: dict[int, list] = {}
    for product_id, name, value in cursor.fetchall():
        attributes.setdefault(product_id, []).append({"name": name, "value": value})
    for product in products:
        product["sources"] = sources.get(product["id"], [])
        product["attributes"] = attributes.get(product["id"], [])
    return products


def product_by_source(request, source: str, source_id: str):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.* FROM catalogue_product p JOIN catalogue_productsource s "
            "ON s.product_id = p.id WHERE s.source = %s AND s.source_id = %s LIMIT 2",
            [source, source_id],
        )
        return _json({"data": _with_links(cursor, _rows(cursor))[0]})


def product_list(request):
    """``status=A&hidden=false&sort=name``, keyset after (sort_name, id)."""
    after_name = request.GET.get("after_name")
    after_id = int(request.GET.get("after_id", 0))
    size = int(request.GET.get("pageSize", 100))
    with connection.cursor() as cursor:
        if after_name is None:
            cursor.execute(
                "SELECT * FROM catalogue_product WHERE status = 'A' AND NOT hidden "
                "ORDER BY sort_name, id LIMIT %s",
                [size + 1],
            )
        else:
            cursor.execute(
                "SELECT * FROM catalogue_product WHERE status = 'A' AND NOT hidden "
                "AND sort_name >= %s AND (sort_name, id) > (%s, %s) "
                "ORDER BY sort_name, id LIMIT %s",
                [after_name, after_name, after_id, size + 1],
            )
        rows = _rows(cursor)
        return _json({"data": _with_links(cursor, rows[:size])})


@csrf_exempt
def product_bulk(request):
    """Upsert by (source, sourceId): staging tables + one merge statement per table."""
    items = orjson.loads(request.body)["products"]
    merge_products(items)
    return _json({"data": {"count": len(items)}})


def merge_products(items: list[dict]) -> None:
    """The floor's write: COPY into staging tables, one ``INSERT … ON CONFLICT`` per table."""
    languages = settings.CATALOGUE_LANGUAGES
    now = datetime.now(UTC)
    with transaction.atomic(), connection.cursor() as cursor:
        source = items[0]["source"]
        cursor.execute(
            "SELECT source_id, product_id FROM catalogue_productsource "
            "WHERE source = %s AND source_id = ANY(%s)",
            [source, [i["sourceId"] for i in items]],
        )
        existing = dict(cursor.fetchall())
        fresh = [i for i in items if i["sourceId"] not in existing]
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('catalogue_product', 'id')) "
            "FROM generate_series(1, %s)",
            [len(fresh)],
        )
        for item, (new_id,) in zip(fresh, cursor.fetchall(), strict=True):
            existing[item["sourceId"]] = new_id
        name_cols = [f"name_{lang}" for lang in languages]
        cols = ["id", "sku", "parent_id", "sort_name", "search_text", *name_cols]
        cursor.execute(
            "CREATE TEMP TABLE stage_product ON COMMIT DROP AS SELECT "
            + ", ".join(cols)
            + " FROM catalogue_product WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY stage_product ({', '.join(cols)}) FROM STDIN") as copy:
            for item in items:
                names = {n["language"].lower(): n["value"] for n in item["names"]}
                copy.write_row(
                    [
                        existing[item["sourceId"]],
                        item.get("sku", ""),
                        (item.get("parent") or {}).get("id"),
                        (names.get("en") or "").lower(),
                        search_document([*names.values(), item.get("sku", ""), item["sourceId"]]),
                        *[names.get(lang) for lang in languages],
                    ]
                )
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in cols[1:])
        # Unchanged rows are left alone (no new row version, no version bump): what a skip costs.
        changed = " OR ".join(
            f"catalogue_product.{c} IS DISTINCT FROM EXCLUDED.{c}" for c in cols[1:]
        )
        cursor.execute(
            f"INSERT INTO catalogue_product ({', '.join(cols)}, language, hidden, priority, "
            "version, created_at, last_modified_at, ean_code, manufacturer, manufacturer_code, "
            "supplier, supplier_code, status, unit, minimum_quantity, package, tax_code) "
            f"SELECT {', '.join(cols)}, 'en', false, 0, 1, %s, %s, '', '', '', '', '', 'A', 1, 1, "
            f"'', 'H' FROM stage_product ON CONFLICT (id) DO UPDATE SET {updates}, "
            "version = catalogue_product.version + 1, last_modified_at = EXCLUDED.last_modified_at "
            f"WHERE {changed}",
            [now, now],
        )
        cursor.execute(
            "CREATE TEMP TABLE stage_source (product_id bigint, source text, "
            "source_id text) ON COMMIT DROP"
        )
        with cursor.cursor.copy("COPY stage_source FROM STDIN") as copy:
            for item in items:
                copy.write_row([existing[item["sourceId"]], item["source"], item["sourceId"]])
        cursor.execute(
            "INSERT INTO catalogue_productsource (product_id, source, source_id) "
            "SELECT product_id, source, source_id FROM stage_source "
            "ON CONFLICT (source, source_id) DO NOTHING"
        )
        cursor.execute(
            "DELETE FROM catalogue_productattribute WHERE product_id = ANY(%s)",
            [list(existing.values())],
        )
        with cursor.cursor.copy(
            "COPY catalogue_productattribute (product_id, position, name, "
            "value, value_text) FROM STDIN"
        ) as copy:
            for item in items:
                for position, attribute in enumerate(item.get("attributes", [])):
                    copy.write_row(
                        [
                            existing[item["sourceId"]],
                            position,
                            attribute["name"],
                            orjson.dumps(attribute["value"]).decode(),
                            str(attribute["value"]),
                        ]
                    )


_SEARCH_STATEMENTS: dict[str, list[tuple[str, list]]] = {}


def _search_statements(term: str) -> list[tuple[str, list]]:
    """Every statement the service's search runs for ``{"term": term, "pageSize": 50}`` (typo
    lookup, page query, prefetches), recorded once per term from the service itself."""
    if term not in _SEARCH_STATEMENTS:
        from catalogue.api.search import PRODUCT_SEARCH
        from config.api.search import run_search

        recorded: list[tuple[str, list]] = []

        def record(execute, statement, values, many, context):
            recorded.append((statement, list(values or [])))
            return execute(statement, values, many, context)

        with connection.execute_wrapper(record):
            run_search(PRODUCT_SEARCH, {"term": term, "pageSize": 50})
        _SEARCH_STATEMENTS[term] = recorded
    return _SEARCH_STATEMENTS[term]


def product_search(request):
    """The same SQL as ``POST /v2/products/search`` with a term, rows encoded with orjson."""
    results = []
    with connection.cursor() as cursor:
        for statement, params in _search_statements(request.GET["term"]):
            cursor.execute(statement, params)
            if cursor.description:
                results.append(_rows(cursor))
    page = max(results, key=len) if results else []
    return _json({"data": page, "related": results})


def category_tree(request):
    """Every category in tree order (one query + sources), nested in one pass, orjson."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.*, (SELECT count(*) FROM taxonomy_category k WHERE k.parent_id = c.id) "
            "AS child_count FROM taxonomy_category c ORDER BY tree_id, lft"
        )
        rows = _rows(cursor)
        cursor.execute(
            "SELECT category_id, source, source_id FROM taxonomy_categorysource ORDER BY id"
        )
        sources: dict[int, list] = {}
        for category_id, source, source_id in cursor.fetchall():
            sources.setdefault(category_id, []).append({"source": source, "sourceId": source_id})
    tops: list[dict] = []
    by_id: dict[int, dict] = {}
    for row in rows:
        row.pop("search_text", None)
        row["sources"] = sources.get(row["id"], [])
        row["children"] = []
        by_id[row["id"]] = row
        parent = by_id.get(row["parent_id"])
        (parent["children"] if parent else tops).append(row)
    return _json({"data": tops})


@csrf_exempt
def category_move(request, pk: int):
    """Make ``pk`` (with its subtree) the last child of ``target`` in the same tree: lock, read
    both intervals, one UPDATE of the nested sets, bump the version."""
    target_id = orjson.loads(request.body)["target"]["id"]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [TREE_LOCK_KEY])
        cursor.execute(
            "SELECT id, tree_id, lft, rght, level FROM taxonomy_category WHERE id = ANY(%s)",
            [[pk, target_id]],
        )
        found = {row[0]: row for row in cursor.fetchall()}
        _, tree, lft, rght, level = found[pk]
        _, target_tree, t_lft, t_rght, t_level = found[target_id]
        if target_tree != tree or lft <= t_lft <= rght:
            return HttpResponse(status=400)
        width = rght - lft + 1
        if t_rght > rght:  # to the right: the nodes in between shift left
            shift, low, high, others = t_rght - 1 - rght, rght + 1, t_rght - 1, -width
        else:  # to the left: the nodes from the target's rght on shift right
            shift, low, high, others = t_rght - lft, t_rght, lft - 1, width
        cursor.execute(
            "UPDATE taxonomy_category SET "
            "lft = CASE WHEN lft BETWEEN %(l)s AND %(r)s THEN lft + %(d)s "
            "WHEN lft BETWEEN %(a)s AND %(b)s THEN lft + %(s)s ELSE lft END, "
            "rght = CASE WHEN rght BETWEEN %(l)s AND %(r)s THEN rght + %(d)s "
            "WHEN rght BETWEEN %(a)s AND %(b)s THEN rght + %(s)s ELSE rght END, "
            "level = CASE WHEN lft BETWEEN %(l)s AND %(r)s THEN level + %(dl)s ELSE level END, "
            "parent_id = CASE WHEN id = %(pk)s THEN %(target)s ELSE parent_id END, "
            "version = CASE WHEN id = %(pk)s THEN version + 1 ELSE version END, "
            "last_modified_at = CASE WHEN id = %(pk)s THEN now() ELSE last_modified_at END "
            "WHERE tree_id = %(tree)s AND (lft BETWEEN %(lo)s AND %(hi)s "
            "OR rght BETWEEN %(lo)s AND %(hi)s)",
            {
                "l": lft,
                "r": rght,
                "d": shift,
                "a": low,
                "b": high,
                "s": others,
                "dl": t_level + 1 - level,
                "pk": pk,
                "target": target_id,
                "tree": tree,
                "lo": min(lft, low),
                "hi": max(rght, high),
            },
        )
    return _json({"data": {"id": pk}})


def noop(request):
    return _json({"data": {}})
