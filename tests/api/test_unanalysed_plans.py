"""Query plans that need no statistics (SPEC §18): a table just filled by bulk, before autovacuum
has analysed it, answers a lookup by key in milliseconds (issue 14: 57 s by sourceId).

Statistics are removed and autovacuum is off for the tables filled here, so the planner sees
what it would right after a bulk load on a machine where autovacuum has not run yet.
"""

from __future__ import annotations

import io
import time

import orjson
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue.models import Product, ProductSource
from clusters.models import Cluster, ClusterOption, ClusterOptionSource, ClusterSource
from taxonomy.models import Category, CategorySource
from tests.clusters.factories import ClusterConfigFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
MODELS = (
    Product, ProductSource, Category, CategorySource, Cluster, ClusterSource,
    ClusterOption, ClusterOptionSource,
)  # fmt: skip
PRODUCTS, PER_REQUEST, CLUSTERS = 4000, 500, 400
BOUND_MS = 200


@pytest.fixture
def never_analysed():
    tables = [model._meta.db_table for model in MODELS]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
            cursor.execute("DELETE FROM pg_statistic WHERE starelid = %s::regclass", [table])
    yield tables
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} RESET (autovacuum_enabled)")


def fill(api) -> None:
    names = lambda text: [{"language": "EN", "value": text}]  # noqa: E731
    for start in range(0, PRODUCTS, PER_REQUEST):
        items = [
            {"source": "ERP", "sourceId": f"P-{n}", "sku": f"SKU-{n}", "names": names(f"P {n}")}
            for n in range(start, start + PER_REQUEST)
        ]
        assert api.post("/v2/products/bulk/sourceId", {"products": items}).status_code == 200
    categories = [
        {"source": "ERP", "sourceId": f"C-{n}", "names": names(f"C {n}")} for n in range(400)
    ]
    assert api.post("/v2/categories/bulk/sourceId", {"categories": categories}).status_code == 200
    config = ClusterConfigFactory(name="plans")
    clusters = [
        {
            "source": "ERP",
            "sourceId": f"K-{n}",
            "code": f"CODE-{n}",
            "names": names(f"K {n}"),
            "clusterConfig": {"name": config.name},
            "options": [{"source": "ERP", "sourceId": f"O-{n}", "names": names(f"O {n}")}],
        }
        for n in range(CLUSTERS)
    ]
    response = api.post("/v2/clusters/bulk/sourceId", {"clusters": clusters})
    assert response.status_code == 200, response.content


def scans_of(sql: str, params) -> list[tuple[str, str]]:
    """(node type, table) of every scan in the plan of ``sql``."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = orjson.loads(plan) if isinstance(plan, str | bytes) else plan
    found, nodes = [], [plan[0]["Plan"]]
    while nodes:
        node = nodes.pop()
        if "Relation Name" in node:
            found.append((node["Node Type"], node["Relation Name"]))
        nodes.extend(node.get("Plans", []))
    return found


LOOKUPS = [
    ("/v2/products/sourceId/P-3999?source=ERP", "catalogue_product", "P 3999"),
    ("/v2/products/sourceId/P-17", "catalogue_product", "P 17"),
    ("/v2/products/sku/SKU-2500", "catalogue_product", "P 2500"),
    ("/v2/categories/sourceId/C-399?source=ERP", "taxonomy_category", "C 399"),
    ("/v2/clusters/sourceId/K-3?source=ERP", "clusters_cluster", "K 3"),
    ("/v2/clusters/code/CODE-398", "clusters_cluster", "K 398"),
    ("/v2/clusteroptions/sourceId/O-250?source=ERP", "clusters_clusteroption", "O 250"),
]


def test_lookups_by_key_on_never_analysed_tables_take_milliseconds(api, never_analysed):
    fill(api)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stats WHERE tablename = ANY(%s)", [never_analysed])
        assert cursor.fetchone()[0] == 0  # no statistics at all
    api.get(LOOKUPS[0][0])  # the first request of a worker compiles its query shapes
    timings = {}
    for url, _table, name in LOOKUPS:
        began = time.perf_counter()
        response = api.get(url)
        timings[url] = (time.perf_counter() - began) * 1000
        assert response.status_code == 200, response.content
        assert response.json()["data"]["names"][0]["value"] == name
    print("lookup ms on never analysed tables:", {k: round(v, 1) for k, v in timings.items()})
    for url, table, _ in LOOKUPS:  # the plans of the statements these lookups ran
        with CaptureQueriesContext(connection) as queries:
            api.get(url)
        sql = next(q["sql"] for q in queries if f'FROM "{table}"' in q["sql"])
        scans = scans_of(sql, None)
        if "sourceId" in url:  # the link is found by its own index, never by scanning links
            assert not any(t.endswith("source") and k == "Seq Scan" for k, t in scans), scans
        if "source=" in url:  # a whole pair: then the record by its primary key
            assert ("Seq Scan", table) not in scans, (url, scans)
    assert max(timings.values()) < BOUND_MS, timings


def test_import_catalogue_analyses_the_tables_it_filled(tmp_path, never_analysed):
    lines = [
        orjson.dumps(
            {"source": "ERP", "sourceId": f"I-{n}", "names": [{"language": "EN", "value": "I"}]}
        ).decode()
        for n in range(50)
    ]
    path = tmp_path / "products.ndjson"
    path.write_text("\n".join(lines))
    call_command("import_catalogue", str(path), entity="products", stdout=io.StringIO())
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT tablename FROM pg_stats WHERE tablename = ANY(%s)", [never_analysed]
        )
        analysed = {row[0] for row in cursor.fetchall()}
    assert {"catalogue_product", "catalogue_productsource"} <= analysed
