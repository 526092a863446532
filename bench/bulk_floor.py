"""How close is the bulk path to the floor? (issue 5, ARCHITECTURE "The bulk path")

Times, in the same run and on the same PostgreSQL database:

* **bulk**: ``POST /v2/products/bulk/sourceId`` with 2000 products (half new, half existing with
  changed content; 2 languages, a source, a parent category by source pair, 3 attributes),
  through Django's test client: body parsing, auth, validation, planning, writes, rendering;
* **service**: the same request straight into the bulk service (``run_bulk``), no HTTP;
* **floor**: the same 2000 rows COPYed into a temporary staging table, then one
  ``INSERT … ON CONFLICT (source, source_id) DO UPDATE`` into a single denormalised table (no
  separate sources or attributes, no slugs, no parent lookup, no outcomes): the least work that
  stores the same data.

Usage (a dedicated, migrated database; ``--background`` demo products make the tables realistic)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/catalogue_bench DEBUG=0 SECRET_KEY=x \\
        ALLOWED_HOSTS=testserver python bench/bulk_floor.py --runs 7 --background 100000
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("RATE_LIMIT_PER_MINUTE", "0")

import django  # noqa: E402

django.setup()

import orjson  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from catalogue.bulk import PRODUCTS  # noqa: E402
from catalogue.demo import seed_catalogue  # noqa: E402
from catalogue.models import Product  # noqa: E402
from integrations.oauth import create_api_client  # noqa: E402
from records.bulk import run_bulk  # noqa: E402
from taxonomy.bulk import CATEGORIES  # noqa: E402
from taxonomy.models import Category, CategorySource  # noqa: E402

SIZE = 2000
FLOOR_TABLE = "bench_floor_product"


def items(run: str, version: int) -> list[dict]:
    """SIZE items: odd positions are keys that exist (from ``prepare``), even ones are new."""
    out = []
    for i in range(SIZE):
        key = f"{run}-E-{i}" if i % 2 else f"{run}-N-{i}"
        out.append(
            {
                "source": "BENCH",
                "sourceId": key,
                "names": [
                    {"language": "EN", "value": f"Bench product {key} v{version}"},
                    {"language": "NL", "value": f"Testproduct {key} v{version}"},
                ],
                "sku": f"B-{key}",
                "parent": {"source": "BENCH", "sourceId": "PARENT"},
                "attributes": [
                    {"name": "COLOR", "value": ["red", "blue"][version % 2]},
                    {"name": "SIZE", "value": i % 50},
                    {"name": "ORGANIC", "value": bool(version % 2)},
                ],
            }
        )
    return out


def prepare(run: str) -> None:
    """The existing half, with other content (the timed request updates it)."""
    existing = [item for i, item in enumerate(items(run, 1)) if i % 2]
    result = run_bulk(PRODUCTS, {"products": existing}, lookup_key="sourceId")
    assert result.failed == 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {FLOOR_TABLE} (source, source_id, name_en, name_nl, sku, parent_id, "
            "attributes, version, created_at, last_modified_at) "
            "SELECT x.source, x.source_id, x.name_en, x.name_nl, x.sku, x.parent_id, x.attributes,"
            " 1, now(), now() FROM jsonb_to_recordset(%s::jsonb) AS x(source text, "
            "source_id text, name_en text, name_nl text, sku text, parent_id bigint, "
            "attributes jsonb)",
            [orjson.dumps([floor_row(item, parent_id()) for item in existing]).decode()],
        )


_PARENT: list[int] = []


def parent_id() -> int:
    if not _PARENT:
        _PARENT.append(CategorySource.objects.get(source="BENCH", source_id="PARENT").category_id)
    return _PARENT[0]


def floor_row(item: dict, parent: int) -> dict:
    names = {n["language"]: n["value"] for n in item["names"]}
    return {
        "source": item["source"],
        "source_id": item["sourceId"],
        "name_en": names["EN"],
        "name_nl": names["NL"],
        "sku": item["sku"],
        "parent_id": parent,
        "attributes": item["attributes"],
    }


def floor(run: str) -> float:
    rows = [floor_row(item, parent_id()) for item in items(run, 2)]
    now = timezone.now()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE stage ON COMMIT DROP AS SELECT source, source_id, name_en, "
            f"name_nl, sku, parent_id, attributes FROM {FLOOR_TABLE} WITH NO DATA"
        )
        with cursor.cursor.copy(
            "COPY stage (source, source_id, name_en, name_nl, sku, parent_id, attributes) "
            "FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(
                    (
                        row["source"],
                        row["source_id"],
                        row["name_en"],
                        row["name_nl"],
                        row["sku"],
                        row["parent_id"],
                        orjson.dumps(row["attributes"]).decode(),
                    )
                )
        cursor.execute(
            f"INSERT INTO {FLOOR_TABLE} AS t (source, source_id, name_en, name_nl, sku, "
            "parent_id, attributes, version, created_at, last_modified_at) "
            "SELECT source, source_id, name_en, name_nl, sku, parent_id, attributes, 1, %s, %s "
            "FROM stage ON CONFLICT (source, source_id) DO UPDATE SET "
            "name_en = EXCLUDED.name_en, name_nl = EXCLUDED.name_nl, sku = EXCLUDED.sku, "
            "parent_id = EXCLUDED.parent_id, attributes = EXCLUDED.attributes, "
            "version = t.version + 1, last_modified_at = EXCLUDED.last_modified_at",
            [now, now],
        )
    return time.perf_counter() - started


def setup(background: int) -> tuple[Client, str]:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
        cursor.execute(
            f"CREATE TABLE {FLOOR_TABLE} (id bigserial PRIMARY KEY, source varchar(64) NOT NULL, "
            "source_id varchar(255) NOT NULL, name_en varchar(255), name_nl varchar(255), "
            "sku varchar(128) NOT NULL, parent_id bigint, attributes jsonb NOT NULL, "
            "version integer NOT NULL, created_at timestamptz NOT NULL, "
            "last_modified_at timestamptz NOT NULL, UNIQUE (source, source_id))"
        )
    missing = background - Product.objects.count()
    if missing > 0:
        print(f"seeding {missing} background products…", flush=True)
        seed_catalogue(products=missing, categories=0 if Category.objects.exists() else 200)
    if not CategorySource.objects.filter(source="BENCH", source_id="PARENT").exists():
        run_bulk(
            CATEGORIES,
            {
                "categories": [
                    {
                        "source": "BENCH",
                        "sourceId": "PARENT",
                        "names": [{"language": "EN", "value": "Bench parent"}],
                    }
                ]
            },
            lookup_key="sourceId",
        )
    with connection.cursor() as cursor:
        # Fresh tables have no statistics until autovacuum runs; without them the plans of the
        # foreign-key checks are sequential scans.
        cursor.execute("ANALYZE")
    application, secret = create_api_client(name="bench", scopes=["bulk:write", "products:write"])
    from oauth2_provider.models import AccessToken

    token = AccessToken.objects.create(
        application=application,
        token=f"bench-{time.time_ns()}",
        expires=timezone.now() + timedelta(hours=1),
        scope="bulk:write products:write",
    )
    return Client(), token.token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--background", type=int, default=0, help="products already stored")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/bulk_floor.py needs DATABASE_URL=postgres://…")
    client, token = setup(args.background)
    tag = f"r{time.time_ns() % 10**9}"
    timings: dict[str, list[float]] = {"bulk (HTTP)": [], "bulk (service)": [], "floor": []}
    statements = []
    for n in range(args.runs):
        for kind, short in zip(timings, ("http", "svc", "floor"), strict=True):
            run = f"{tag}-{n}-{short}"
            prepare(run)
            if kind == "floor":
                timings[kind].append(floor(run))
                continue
            body = {"products": items(run, 2)}
            if kind == "bulk (HTTP)":
                payload = orjson.dumps(body)
                started = time.perf_counter()
                response = client.post(
                    "/v2/products/bulk/sourceId",
                    payload,
                    content_type="application/json",
                    headers={"Authorization": f"Bearer {token}"},
                )
                timings[kind].append(time.perf_counter() - started)
                summary = response.json()["summary"]
            else:
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    result = run_bulk(PRODUCTS, body, lookup_key="sourceId")
                    timings[kind].append(time.perf_counter() - started)
                statements.append(len(queries.captured_queries))
                summary = result.summary()
            assert summary == {
                "create": 1000,
                "update": 1000,
                "skip": 0,
                "remove": 0,
                "error": 0,
            }, summary
        print(
            f"run {n + 1}: " + ", ".join(f"{k} {v[-1] * 1000:.0f} ms" for k, v in timings.items())
        )
    products = Product.objects.count()
    print(f"\n{SIZE} products per request (1000 new, 1000 updated), {products} products stored")
    floor_median = statistics.median(timings["floor"])
    for kind, values in timings.items():
        median = statistics.median(values)
        print(
            f"{kind:15s} median {median * 1000:7.0f} ms  min {min(values) * 1000:7.0f} ms  "
            f"max {max(values) * 1000:7.0f} ms  = {median / floor_median:4.1f}x floor"
        )
    print(f"SQL statements per bulk request (service): {sorted(set(statements))}")


if __name__ == "__main__":
    main()
