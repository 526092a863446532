"""Latency of ``POST /v2/products/search`` with a term, next to its plain-SQL floor.

For each term, every round issues, one after the other in the same process:

* ``api``   — the whole request through Django's WSGI handler in-process (no network): bearer
  token check, body validation, filters, term matching, relevance, keyset page, prefetches,
  JSON rendering;
* ``sql``   — the page query alone, exactly as the ORM compiled it, on a plain psycopg
  connection;
* ``all``   — every statement the search ran (typo lookup, page query, prefetches), raw, on
  that plain connection.

``sql`` is the floor: the database work no implementation of the same query can avoid.
p50/p95 are over ``--rounds`` rounds after ``--warmup`` rounds. The plan of each page query is
printed with ``--explain`` (EXPLAIN ANALYZE; look for Bitmap Index Scan on prod_search_fts).

Usage (a seeded PostgreSQL catalogue; runs with DEBUG off):

    manage.py seed_demo_catalogue --products 100000 --categories 5000
    DATABASE_URL=postgres://… python -m bench.search_latency [--rounds 200] [--explain]
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("RATE_LIMIT_PER_MINUTE", "0")

import django  # noqa: E402

django.setup()

import orjson  # noqa: E402
import psycopg  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from catalogue.api.search import PRODUCT_SEARCH  # noqa: E402
from catalogue.models import Product  # noqa: E402
from config.api.search import run_search, search_query  # noqa: E402
from integrations.oauth import create_api_client  # noqa: E402

TERMS = [
    "jacket",  # one common word (~1 product in 10 per language)
    "storm jacket",  # two common words
    "jakcet",  # the common word with swapped letters
    "forest trouser 4242",  # a precise name
    "SKU-0012345",  # an exact code
]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def token() -> tuple[str, object]:
    application, secret = create_api_client(name="bench-search-latency", scopes=["search:read"])
    basic = base64.b64encode(f"{application.client_id}:{secret}".encode()).decode()
    response = Client().post(
        "/oauth2/token/",
        {"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"], application


def statements(term: str) -> tuple[tuple[str, list], list[tuple[str, list]]]:
    """The page query as the ORM compiles it, and every statement the search runs."""
    body = {"term": term, "pageSize": 50}
    query = search_query(PRODUCT_SEARCH, body)
    sql, params = query.queryset.order_by("-relevance", "id")[:51].query.sql_with_params()
    recorded: list[tuple[str, list]] = []

    def record(execute, statement, values, many, context):
        recorded.append((statement, list(values or [])))
        return execute(statement, values, many, context)

    with connection.execute_wrapper(record):
        run_search(PRODUCT_SEARCH, body)
    return (sql, list(params)), recorded


def raw_connection() -> psycopg.Connection:
    """A plain psycopg connection to the same database, binding parameters client-side like
    Django does."""
    params = {
        key: value
        for key, value in connection.get_connection_params().items()
        if key not in ("cursor_factory", "context")
    }
    return psycopg.connect(**params, autocommit=True, cursor_factory=psycopg.ClientCursor)


def run_raw(raw: psycopg.Connection, statements: list[tuple[str, list]]) -> None:
    with raw.cursor() as cursor:
        for statement, params in statements:
            cursor.execute(statement, params)
            if cursor.description:
                cursor.fetchall()


def explain(term: str) -> str:
    query = search_query(PRODUCT_SEARCH, {"term": term})
    return query.queryset.order_by("-relevance", "id")[:51].explain(analyze=True, buffers=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--terms", nargs="*", default=TERMS)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("Run against PostgreSQL (DATABASE_URL=postgres://…).", file=sys.stderr)
        return 2
    products = Product.objects.count()
    bearer, application = token()
    client = Client(headers={"Authorization": f"Bearer {bearer}"})
    raw = raw_connection()
    print(f"{products} products; {args.rounds} rounds after {args.warmup} warm-up rounds\n")
    print(
        f"{'term':<20} {'hits':>5} | {'api p50':>8} {'api p95':>8} | {'sql p50':>8} "
        f"{'sql p95':>8} | {'all p50':>8} {'all p95':>8} | api/sql p50"
    )
    try:
        for term in args.terms:
            page_sql, every = statements(term)
            body = orjson.dumps({"term": term, "pageSize": 50})
            times: dict[str, list[float]] = {"api": [], "sql": [], "all": []}
            hits = 0
            for round_ in range(args.warmup + args.rounds):
                start = time.perf_counter()
                response = client.post("/v2/products/search", body, content_type="application/json")
                api = time.perf_counter() - start
                assert response.status_code == 200, response.content
                hits = len(response.json()["data"])
                start = time.perf_counter()
                run_raw(raw, [page_sql])
                sql = time.perf_counter() - start
                start = time.perf_counter()
                run_raw(raw, every)
                everything = time.perf_counter() - start
                if round_ >= args.warmup:
                    times["api"].append(api * 1000)
                    times["sql"].append(sql * 1000)
                    times["all"].append(everything * 1000)
            p = {k: (percentile(v, 50), percentile(v, 95)) for k, v in times.items()}
            print(
                f"{term:<20} {hits:>5} | {p['api'][0]:>8.2f} {p['api'][1]:>8.2f} | "
                f"{p['sql'][0]:>8.2f} {p['sql'][1]:>8.2f} | {p['all'][0]:>8.2f} "
                f"{p['all'][1]:>8.2f} | {p['api'][0] / p['sql'][0]:>5.2f}x"
            )
            if args.explain:
                print(explain(term), "\n")
        print(
            "\nms; api = whole request in-process, sql = page query alone (the floor), "
            "all = every statement of the search, raw"
        )
    finally:
        raw.close()
        application.delete()
    return 0


if __name__ == "__main__":
    sys.exit(main())
