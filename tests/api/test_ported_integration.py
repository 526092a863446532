"""A "ported integration" (issue 21): request sequences written the way a client of the reference
Product Management API (v2.4.4) sends them, replayed unchanged against this service.

Each request below keeps the reference's own paths, lookup keys, paging (``page`` + ``offset``),
``expands=translation,sources``, bulk directives (array form, ``mergeTranslationsOnUpdate``) and
reads the reference's envelopes (``data``, ``messages``, ``pagination.page/offset/start/end/
total``, the ``error`` object). Nothing here uses a parameter only this service offers: if a step
needs changing to pass, the service is not compatible.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db

LANGS = ("EN", "NL")


def names(text: str) -> list[dict[str, str]]:
    return [{"language": lang, "value": f"{text} {lang.lower()}"} for lang in LANGS]


def ok(response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert isinstance(body["messages"], list)
    return body


def error(response, status: int, code: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    err = response.json()["error"]
    assert (err["status"], err["code"]) == (status, code)
    assert err["type"] and err["messages"] and err["moreInfo"].endswith(f"#{code}")
    return err


def walk_pages(client, path: str, offset: int) -> list[dict]:
    """The reference's paging loop: ask page 1, 2, … until ``end`` reaches ``total``."""
    rows, page = [], 1
    while True:
        body = ok(client.get(path, {"page": page, "offset": offset}))
        meta = body["pagination"]
        assert (meta["page"], meta["offset"]) == (page, offset)
        rows += body["data"]
        if not body["data"] or meta["end"] >= meta["total"]:
            return rows
        assert meta["end"] - meta["start"] + 1 == offset
        page += 1


def test_erp_product_feed(client_with_scopes):
    """An ERP pushes its catalogue by sourceId, pages through it, reads one product with every
    translation and source, patches one attribute and removes it."""
    erp = client_with_scopes(
        "products:read", "products:write", "categories:read", "categories:write",
        "relationships:read", "bulk:write",
    )  # fmt: skip

    categories = ok(
        erp.post(
            "/v2/categories/bulk/sourceId",
            {
                "categories": [
                    {"source": "ERP", "sourceId": "CAT-SHOES", "names": names("Shoes")},
                    {
                        "source": "ERP",
                        "sourceId": "CAT-RUN",
                        "names": names("Running"),
                        "parent": {"source": "ERP", "sourceId": "CAT-SHOES"},
                    },
                ]
            },
        )
    )
    assert [o["action"] for o in categories["data"]] == ["create", "create"]

    products = [
        {
            "source": "ERP",
            "sourceId": f"ART-{n:03d}",
            "names": names(f"Runner {n}"),
            "sku": f"RUN-{n:03d}",
            "supplier": "Acme",
            "supplierCode": f"AC-{n:03d}",
            "parent": {"source": "ERP", "sourceId": "CAT-RUN"},
            "attributes": [{"name": "COLOR", "value": "black"}, {"name": "SIZE", "value": 42}],
        }
        for n in range(1, 31)
    ]
    created = ok(erp.post("/v2/products/bulk/sourceId", {"products": products}))
    assert created["summary"]["create"] == 30
    assert created["messages"] == ["30 created, 0 updated, 0 skipped, 0 removed, 0 failed"]

    # a second run of the same feed changes nothing; a translation update with the reference's
    # directive name merges only the languages sent
    again = ok(
        erp.post(
            "/v2/products/bulk/sourceId",
            {
                "products": [
                    *products[:2],
                    {
                        "source": "ERP",
                        "sourceId": "ART-003",
                        "names": [{"language": "NL", "value": "Loper 3"}],
                    },
                ],
                "directives": [{"operation": "mergeTranslationsOnUpdate"}],
            },
        )
    )
    assert [o["action"] for o in again["data"]] == ["skip", "skip", "update"]

    rows = walk_pages(erp, "/v2/products", offset=12)
    assert [r["sku"] for r in rows] == [f"RUN-{n:03d}" for n in range(1, 31)]
    category_rows = walk_pages(erp, "/v2/categories/sourceId/CAT-RUN/products?source=ERP", 12)
    assert len(category_rows) == 30 and all(r["primary"] for r in category_rows)
    error(erp.get("/v2/products", {"page": 900, "offset": 12}), 400, 10015)

    one = ok(
        erp.get(
            "/v2/products/sourceId/ART-003",
            {"source": "ERP", "expands": "translation,sources"},
        )
    )["data"]
    assert one["names"] == [
        {"language": "EN", "value": "Runner 3 en"},
        {"language": "NL", "value": "Loper 3"},
    ]
    assert one["sources"] == [{"source": "ERP", "sourceId": "ART-003"}]
    nl = ok(erp.get("/v2/products/sku/RUN-003", {"language": "NL", "expands": "translation"}))
    assert nl["data"]["names"] == [{"language": "NL", "value": "Loper 3"}]

    by_supplier = ok(erp.get("/v2/products/supplierCode/AC-003", {"supplier": "Acme"}))
    assert by_supplier["data"]["id"] == one["id"]

    attribute = ok(
        erp.post(
            "/v2/products/sourceId/ART-003/attributes?source=ERP",
            {"attributes": [{"name": "COLOR", "value": "red"}]},
        )
    )
    assert attribute["data"]["attributes"] == [
        {"name": "COLOR", "value": "red"},
        {"name": "SIZE", "value": 42},
    ]
    assert attribute["data"]["version"] == one["version"] + 1
    removed = ok(erp.delete("/v2/products/sourceId/ART-003/attributes/COLOR?source=ERP"))
    assert removed["data"]["attributes"] == [{"name": "SIZE", "value": 42}]
    error(erp.delete("/v2/products/sourceId/ART-003/attributes/COLOR?source=ERP"), 404, 80007)

    # supplierCode items pair with supplier, as the reference requires
    orphan = ok(
        erp.post(
            "/v2/products/bulk/supplierCode",
            {
                "products": [
                    {"supplierCode": "AC-001", "supplier": "Acme", "priority": 5},
                    {"supplierCode": "AC-002", "priority": 5},
                ]
            },
        )
    )
    assert [o["action"] for o in orphan["data"]] == ["update", "error"]
    assert orphan["data"][1]["error"]["code"] == 10016


def test_pim_cluster_feed(client_with_scopes):
    """A PIM pushes variant clusters by sourceId with their sku, finds one by sku, pages its
    products, and maintains the cluster's attributes one at a time."""
    pim = client_with_scopes(
        "clusters:read", "clusters:write", "cluster-configs:write", "products:read",
        "products:write", "bulk:write",
    )  # fmt: skip
    ok(
        pim.post(
            "/v2/clusterconfigs",
            {"name": "shoes", "settings": [{"attributeName": "SIZE", "displayType": "dropdown"}]},
        ),
        201,
    )
    clusters = ok(
        pim.post(
            "/v2/clusters/bulk/sourceId",
            {
                "clusters": [
                    {
                        "source": "PIM",
                        "sourceId": f"CL-{c}",
                        "sku": f"CLSKU-{c}",
                        "names": names(f"Trail shoe {c}"),
                        "clusterConfig": {"name": "shoes"},
                        "products": [
                            {
                                "source": "PIM",
                                "sourceId": f"CL-{c}-{size}",
                                "names": names(f"Trail shoe {c} {size}"),
                                "attributes": [{"name": "SIZE", "value": str(size)}],
                            }
                            for size in range(38, 46)
                        ],
                    }
                    for c in (1, 2)
                ]
            },
        )
    )
    assert [o["action"] for o in clusters["data"]] == ["create", "create"]

    cluster = ok(pim.get("/v2/clusters/sku/CLSKU-2", {"expands": "translation,sources"}))["data"]
    assert cluster["sku"] == "CLSKU-2"
    assert cluster["sources"] == [{"source": "PIM", "sourceId": "CL-2"}]
    members = walk_pages(pim, "/v2/clusters/sku/CLSKU-2/products", offset=3)
    assert [m["attributes"][0]["value"] for m in members] == [str(s) for s in range(38, 46)]
    assert len(walk_pages(pim, "/v2/clusters", offset=12)) == 2

    written = ok(
        pim.post(
            "/v2/clusters/sku/CLSKU-2/attributes",
            {"attributes": [{"name": "SEASON", "value": "SS27"}]},
        )
    )
    assert written["data"]["attributes"] == [{"name": "SEASON", "value": "SS27"}]
    gone = ok(pim.delete("/v2/clusters/sku/CLSKU-2/attributes/SEASON"))
    assert gone["data"]["attributes"] == []
    assert gone["data"]["version"] == written["data"]["version"] + 1

    # a bulk item keyed by sku updates the one cluster holding it; a second cluster created
    # with the same sku makes the lookup ambiguous, as in the reference
    updated = ok(
        pim.post("/v2/clusters/bulk/sku", {"clusters": [{"sku": "CLSKU-2", "priority": 3}]})
    )
    assert (updated["data"][0]["action"], updated["data"][0]["id"]) == ("update", cluster["id"])
    ok(
        pim.post(
            "/v2/clusters",
            {"sku": "CLSKU-2", "names": names("Trail shoe 2b"), "clusterConfig": {"name": "shoes"}},
        ),
        201,
    )
    error(pim.get("/v2/clusters/sku/CLSKU-2"), 400, 20005)
    error(pim.get("/v2/clusters/sku/CLSKU-9"), 404, 20006)
