"""The benchmark scenarios of issue 8. Each returns a Result with its targets checked."""

from __future__ import annotations

import itertools
import time

import orjson
import psycopg

from bench.run import Http, Result, median_of_reps, query, ratio_check
from config.api.pagination import encode_cursor

LIST_FILTER = {"status": "A", "hidden": "false", "sort": "name", "pageSize": 100}


def _sample(args, sql: str, params: list | None = None):
    with psycopg.connect(args.database_url) as conn:
        return conn.execute(sql, params or []).fetchone()


def get_by_source(http: Http, args) -> Result:
    (source_id,) = _sample(
        args,
        "SELECT source_id FROM catalogue_productsource WHERE source = 'ERP' "
        "ORDER BY id OFFSET (SELECT count(*) / 2 FROM catalogue_productsource "
        "WHERE source = 'ERP') LIMIT 1",
    )
    ours = median_of_reps(
        lambda: http.timed("GET", f"/v2/products/sourceId/{source_id}?source=ERP")[0], args.reps, 30
    )
    naive = median_of_reps(
        lambda: http.timed("GET", f"/naive/products/by-source/ERP/{source_id}/")[0], args.reps, 30
    )
    floor = median_of_reps(
        lambda: http.timed("GET", f"/floor/products/by-source/ERP/{source_id}", auth=False)[0],
        args.reps,
        30,
    )
    result = Result(
        "GET one product by sourceId",
        ours,
        {"naive": naive, "floor": floor},
        {"naive": "naive/ours >= 1.5", "floor": "ours/floor <= 2"},
    )
    ratio_check(result, "naive/ours", naive / ours, ">=", 1.5)
    ratio_check(result, "ours/floor", ours / floor, "<=", 2.0)
    return result


def product_lists(http: Http, args) -> list[Result]:
    (total,) = _sample(
        args, "SELECT count(*) FROM catalogue_product WHERE status = 'A' AND NOT hidden"
    )
    deep_offset = int(total * 0.9)
    name, pk = _sample(
        args,
        "SELECT sort_name, id FROM catalogue_product WHERE status = 'A' "
        "AND NOT hidden ORDER BY sort_name, id OFFSET %s LIMIT 1",
        [deep_offset],
    )
    cursor = encode_cursor({"s": "sort_name,id", "d": "n", "v": [name, pk]})
    first_q, deep_q = query(LIST_FILTER), query({**LIST_FILTER, "cursor": cursor})
    naive_first = query({"status": "A", "hidden": "false", "ordering": "sort_name,id"})
    naive_deep = query(
        {
            "status": "A",
            "hidden": "false",
            "ordering": "sort_name,id",
            "page": deep_offset // 100 + 1,
        }
    )
    floor_deep = query({"after_name": name, "after_id": pk})

    def measure(path: str, auth: bool = True) -> float:
        return median_of_reps(lambda: http.timed("GET", path, auth=auth)[0], args.reps, 10)

    ours_first, ours_deep = measure("/v2/products" + first_q), measure("/v2/products" + deep_q)
    naive_f, naive_d = (
        measure("/naive/products/" + naive_first),
        measure("/naive/products/" + naive_deep),
    )
    floor_f = measure("/floor/products", auth=False)
    floor_d = measure("/floor/products" + floor_deep, auth=False)
    queries_first = int(http.timed("GET", "/v2/products" + first_q)[1]["X-Query-Count"])
    queries_deep = int(http.timed("GET", "/v2/products" + deep_q)[1]["X-Query-Count"])

    first = Result(
        "List 100 products (2 filters + sort), first page",
        ours_first,
        {"naive": naive_f, "floor": floor_f},
        {"naive": "naive/ours >= 3", "floor": "ours/floor <= 2.5"},
    )
    ratio_check(first, "naive/ours", naive_f / ours_first, ">=", 3)
    ratio_check(first, "ours/floor", ours_first / floor_f, "<=", 2.5)
    deep = Result(
        "List 100 products, page at 90 % depth",
        ours_deep,
        {"naive": naive_d, "floor": floor_d, "ours first": ours_first},
        {"naive": "naive/ours >= 20", "floor": "ours/floor <= 2.5", "first": "deep/first <= 1.5"},
    )
    ratio_check(deep, "naive/ours", naive_d / ours_deep, ">=", 20)
    ratio_check(deep, "ours/floor", ours_deep / floor_d, "<=", 2.5)
    ratio_check(deep, "deep/first", ours_deep / ours_first, "<=", 1.5)
    counts = Result(
        "List query count: first page == deep page",
        float(queries_deep),
        {"first page queries": float(queries_first)},
        {"equal": "same statements at any depth"},
        deterministic=True,
    )
    counts.passed = queries_first == queries_deep
    return [first, deep, counts]


def auth_overhead(http: Http, args) -> Result:
    authed = median_of_reps(lambda: http.timed("GET", "/bench/noop")[0], args.reps, 50)
    bare = median_of_reps(lambda: http.timed("GET", "/floor/noop", auth=False)[0], args.reps, 50)
    result = Result(
        "Token-authenticated request overhead",
        authed,
        {"unauthenticated": bare},
        {"added": "added <= 1 ms"},
    )
    result.ratios["added ms"] = round(authed - bare, 3)
    result.passed = authed - bare <= 1.0
    return result


BULK_SIZE = 2000


def _bulk_items(run: str, version: int, parent_id: int, count: int = BULK_SIZE) -> list[dict]:
    """Odd positions are keys an untimed request created first; even positions are new. Two
    languages, a source, a parent category, three attributes (issue 5)."""
    items = []
    for i in range(count):
        key = f"{run}-{'E' if i % 2 else 'N'}-{i}"
        items.append(
            {
                "source": "BULK",
                "sourceId": key,
                "names": [
                    {"language": "EN", "value": f"Bulk product {key} v{version}"},
                    {"language": "NL", "value": f"Bulkproduct {key} v{version}"},
                ],
                "sku": f"B-{key}",
                "parent": {"id": parent_id},
                "attributes": [
                    {"name": "COLOR", "value": ["red", "blue"][version % 2]},
                    {"name": "SIZE", "value": i % 50},
                    {"name": "ORGANIC", "value": bool(version % 2)},
                ],
            }
        )
    return items


def bulk_upsert(http: Http, args) -> list[Result]:
    """2000 products per request, 1000 new and 1000 changed: ours, the per-item loop of a typical
    project, and the floor (COPY into staging tables + one merge statement per table)."""
    (parent_id,) = _sample(args, "SELECT min(id) FROM taxonomy_category")
    runs = itertools.count()
    tag = f"b{time.time_ns() % 10**9}"

    def timed(path: str, auth: bool = True, count: int = BULK_SIZE) -> float:
        run = f"{tag}-{next(runs)}"
        existing = [item for i, item in enumerate(_bulk_items(run, 1, parent_id, count)) if i % 2]
        http.timed("POST", path, orjson.dumps({"products": existing}), auth=auth)
        body = orjson.dumps({"products": _bulk_items(run, 2, parent_id, count)})
        return http.timed("POST", path, body, auth=auth)[0]

    ours = median_of_reps(lambda: timed("/v2/products/bulk/sourceId"), args.reps, 1)
    floor = median_of_reps(lambda: timed("/floor/products/bulk", auth=False), args.reps, 1)
    naive = median_of_reps(lambda: timed("/naive/products/bulk/"), max(1, args.reps // 2), 1)
    result = Result(
        "Bulk upsert of 2000 products (1000 new, 1000 changed)",
        ours,
        {"naive": naive, "floor": floor},
        {"naive": "naive/ours >= 10", "floor": "ours/floor <= 4"},
    )
    ratio_check(result, "naive/ours", naive / ours, ">=", 10)
    ratio_check(result, "ours/floor", ours / floor, "<=", 4)

    def statements(count: int) -> int:
        run = f"{tag}-q{next(runs)}"
        http.timed("POST", "/v2/products/bulk/sourceId", orjson.dumps({"products": [
            item for i, item in enumerate(_bulk_items(run, 1, parent_id, count)) if i % 2
        ]}))  # fmt: skip
        body = orjson.dumps({"products": _bulk_items(run, 2, parent_id, count)})
        return int(http.timed("POST", "/v2/products/bulk/sourceId", body)[1]["X-Query-Count"])

    small, large = statements(2), statements(BULK_SIZE)
    counts = Result(
        "Bulk statements: 2 items == 2000 items",
        float(large),
        {"2 items": float(small)},
        {"equal": "same statements whatever the item count"},
        deterministic=True,
    )
    counts.passed = small == large
    return [result, counts]


def run_all(http: Http, args) -> list[Result]:
    wanted = set(args.only.split(",")) if args.only else None
    plan = [
        ("get", get_by_source),
        ("lists", product_lists),
        ("auth", auth_overhead),
        ("bulk", bulk_upsert),
    ]
    results: list[Result] = []
    for name, scenario in plan:
        if wanted and name not in wanted:
            continue
        outcome = scenario(http, args)
        results.extend(outcome if isinstance(outcome, list) else [outcome])
    return results
