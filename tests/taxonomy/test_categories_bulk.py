"""POST /v2/categories/bulk/{lookupKey} (SPEC §10, §14): in-request parents, cycles, the tree."""

from __future__ import annotations

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue.models import Product, ProductCategory
from records.bulk import run_bulk
from taxonomy.bulk import CATEGORIES
from taxonomy.models import Category, CategorySource
from tests.catalogue.factories import ProductFactory
from tests.conftest import envelope_error
from tests.taxonomy.treecheck import assert_mptt_agrees, assert_tree_consistent, outline

pytestmark = pytest.mark.django_db
URL = "/v2/categories/bulk/"


def cat(key: str, name: str | None = None, parent: str | None | int = "-", **fields) -> dict:
    body = {"source": "ERP", "sourceId": key, **fields}
    if name:
        body["names"] = [{"language": "EN", "value": name}]
    if parent is None:
        body["parent"] = None
    elif isinstance(parent, int):
        body["parent"] = {"id": parent}
    elif parent != "-":
        body["parent"] = {"source": "ERP", "sourceId": parent}
    return body


def bulk(api, items, key="sourceId", directives=None, status=200, **params):
    body = {"categories": items}
    if directives is not None:
        body["directives"] = directives
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = api.post(URL + key + (f"?{query}" if query else ""), body)
    assert response.status_code == status, response.content
    return response.json()


def by_key(key: str) -> Category:
    return Category.objects.get(sources__source="ERP", sources__source_id=key)


def build(api, *items) -> dict:
    body = bulk(api, list(items))
    assert body["summary"]["error"] == 0, body
    return body


def test_parents_resolve_against_later_items_in_any_order(api):
    body = bulk(
        api,
        [
            cat("shirts", "Shirts", parent="men"),
            cat("men", "Men", parent="clothing"),
            cat("women", "Women", parent="clothing"),
            cat("clothing", "Clothing"),
        ],
    )
    assert [o["action"] for o in body["data"]] == ["create"] * 4
    assert body["messages"] == ["4 created, 0 updated, 0 skipped, 0 removed, 0 failed"]
    assert outline() == [("Clothing", 0), ("Men", 1), ("Shirts", 2), ("Women", 1)]
    assert by_key("shirts").parent_id == by_key("men").pk
    assert by_key("clothing").slug_en == "clothing"
    assert_tree_consistent()
    assert_mptt_agrees()


def test_parent_by_id_and_by_stored_source_pair(api):
    build(api, cat("root", "Root"))
    root = by_key("root")
    build(api, cat("a", "A", parent=root.pk), cat("b", "B", parent="root"))
    assert outline() == [("Root", 0), ("A", 1), ("B", 1)]
    body = bulk(api, [cat("c", "C", parent=999999), cat("d", "D", parent="nowhere")])
    assert [o["error"]["code"] for o in body["data"]] == [30007, 30007]
    assert_tree_consistent()


def test_a_cycle_fails_its_items_and_what_hangs_under_them(api):
    body = bulk(
        api,
        [
            cat("x", "X", parent="y"),
            cat("y", "Y", parent="x"),
            cat("z", "Z", parent="y"),
            cat("self", "Self", parent="self"),
            cat("fine", "Fine"),
        ],
    )
    codes = [o.get("error", {}).get("code") for o in body["data"]]
    assert codes == [30009, 30009, 30007, 30009, None]
    assert "item 1" in body["data"][2]["error"]["messages"][0]
    assert outline() == [("Fine", 0)]
    assert_tree_consistent()


def test_moving_under_an_own_descendant_is_a_cycle(api):
    build(api, cat("a", "A"), cat("b", "B", parent="a"), cat("c", "C", parent="b"))
    body = bulk(api, [cat("a", parent="c")])
    assert body["data"][0]["error"]["code"] == 30009
    assert outline() == [("A", 0), ("B", 1), ("C", 2)]
    # …unless the same request first takes the descendant out from under it
    body = bulk(api, [cat("a", parent="c"), cat("c", parent=None)])
    assert [o["action"] for o in body["data"]] == ["update", "update"]
    assert outline() == [("C", 0), ("A", 1), ("B", 2)]
    assert_tree_consistent()
    assert_mptt_agrees()


def test_moved_and_new_categories_become_last_children(api):
    build(
        api,
        cat("root", "Root"),
        cat("one", "One", parent="root"),
        cat("two", "Two", parent="root"),
        cat("three", "Three", parent="root"),
        cat("other", "Other"),
        cat("leaf", "Leaf", parent="other"),
    )
    body = bulk(
        api,
        [cat("new", "New", parent="root"), cat("one", parent="root"), cat("leaf", parent="root")],
    )
    # "one" already sits under root: unchanged, it keeps its place
    assert [o["action"] for o in body["data"]] == ["create", "skip", "update"]
    assert outline() == [
        ("Root", 0),
        ("One", 1),
        ("Two", 1),
        ("Three", 1),
        ("New", 1),
        ("Leaf", 1),
        ("Other", 0),
    ]
    leaf = by_key("leaf")
    assert leaf.version == 2
    assert_tree_consistent()
    assert_mptt_agrees()


def test_a_subtree_moves_to_another_tree_and_a_root_appears(api):
    build(
        api,
        cat("a", "A"),
        cat("a1", "A1", parent="a"),
        cat("a11", "A11", parent="a1"),
        cat("b", "B"),
    )
    build(api, cat("a1", parent="b"), cat("c", "C", parent=None))
    assert outline() == [("A", 0), ("B", 0), ("A1", 1), ("A11", 2), ("C", 0)]
    assert by_key("a11").tree_id == by_key("b").tree_id
    assert_tree_consistent()
    assert_mptt_agrees()


def test_removals_refuse_non_empty_categories(api):
    build(
        api,
        cat("keep", "Keep"),
        cat("child", "Child", parent="keep"),
        cat("stocked", "Stocked"),
        cat("gone", "Gone"),
        cat("gone-child", "Gone child", parent="gone"),
        cat("target", "Target"),
    )
    ProductFactory(parent=by_key("stocked"))
    body = bulk(
        api,
        [
            {"source": "ERP", "sourceId": "keep", "action": "remove"},
            {"source": "ERP", "sourceId": "stocked", "action": "remove"},
            {"source": "ERP", "sourceId": "gone", "action": "remove"},
            {"source": "ERP", "sourceId": "gone-child", "action": "remove"},
            {"source": "ERP", "sourceId": "target", "action": "remove"},
            cat("late", "Late", parent="target"),
            {"source": "ERP", "sourceId": "nope", "action": "remove"},
        ],
    )
    outcomes = body["data"]
    assert outcomes[0]["error"]["code"] == 30008
    assert outcomes[0]["error"]["messages"] == [
        f"Category [{by_key('keep').pk}] cannot be deleted: it holds 1 child, 0 products "
        "and 0 clusters."
    ]
    assert outcomes[1]["error"]["code"] == 30008
    assert "holds 0 children, 1 products and 0 clusters" in outcomes[1]["error"]["messages"][0]
    assert [outcomes[2]["action"], outcomes[3]["action"]] == ["remove", "remove"]
    assert outcomes[4]["error"]["code"] == 30008  # the new item lands under it
    assert outcomes[5]["action"] == "create"
    assert outcomes[6]["error"]["code"] == 30006
    assert outline() == [("Keep", 0), ("Child", 1), ("Stocked", 0), ("Target", 0), ("Late", 1)]
    assert not CategorySource.objects.filter(source_id__startswith="gone").exists()
    assert Product.objects.get().parent.name_en == "Stocked"
    assert_tree_consistent()


def test_moving_children_away_lets_their_parent_go(api):
    build(api, cat("old", "Old"), cat("kid", "Kid", parent="old"), cat("new", "New"))
    body = bulk(
        api, [{"source": "ERP", "sourceId": "old", "action": "remove"}, cat("kid", parent="new")]
    )
    assert [o["action"] for o in body["data"]] == ["remove", "update"]
    assert outline() == [("New", 0), ("Kid", 1)]
    assert_tree_consistent()


def test_id_key_updates_only(api):
    build(api, cat("a", "A"))
    a = by_key("a")
    body = bulk(
        api,
        [{"id": a.pk, "priority": 3}, {"id": 987654, "names": [{"language": "EN", "value": "x"}]}],
        key="id",
    )
    assert body["data"][0]["action"] == "update"
    assert body["data"][1]["error"]["code"] == 30006
    envelope_error(api.post(URL + "sku", {"categories": [{"sku": "x"}]}), 400, 10006)


def test_directives_on_the_tree(api):
    build(api, cat("a", "A"), cat("b", "B"), cat("c", "C", parent="a"))
    body = bulk(
        api,
        [cat("c", parent="b"), cat("n", "N", parent="b")],
        directives=[{"operation": "skipMoveOnUpdate"}],
    )
    assert [o["action"] for o in body["data"]] == ["skip", "create"]
    assert by_key("c").parent_id == by_key("a").pk
    body = bulk(
        api, [cat("c", parent="b"), cat("b", parent="a")], directives={"skipIfNotEmpty": ["parent"]}
    )
    assert [o["action"] for o in body["data"]] == ["skip", "update"]
    assert by_key("b").parent_id == by_key("a").pk
    assert_tree_consistent()


def test_version_unchanged_dry_run_and_atomic(api):
    build(api, cat("a", "A"), cat("b", "B"))
    body = bulk(api, [cat("a", "A"), cat("b", "B2", version=5)])
    assert body["data"][0]["reason"] == "unchanged"
    assert body["data"][1]["error"]["code"] == 10014
    before = outline()
    body = bulk(api, [cat("a", parent="b"), cat("z", "Z", parent="a")], dryRun="true")
    assert [o["action"] for o in body["data"]] == ["update", "create"]
    assert outline() == before
    body = bulk(
        api, [cat("a", parent="b"), cat("y", "Y", parent="nope")], atomic="true", status=422
    )
    assert body["data"][0]["reason"] == "rolledBack"
    assert outline() == before
    assert_tree_consistent()


def test_slugs_are_unique_among_categories(api):
    body = bulk(
        api,
        [
            cat("a", "Shoes"),
            cat("b", "Shoes"),
            cat("c", "X", slugs=[{"language": "EN", "value": "shoes-2"}]),
        ],
    )
    slugs = [by_key(k).slug_en for k in ("a", "b", "c")]
    assert body["data"][2]["action"] == "create"
    assert slugs == ["shoes", "shoes-3", "shoes-2"]


def test_request_limits_and_scopes(api, client_with_scopes):
    items = [cat(f"k{n}", "x") for n in range(1001)]
    envelope_error(api.post(URL + "sourceId", {"categories": items}), 413, 10013)
    envelope_error(api.post(URL + "sourceId", {"categories": []}), 400, 10007)
    assert not Category.objects.exists()
    client = client_with_scopes("bulk:write", "products:write")
    envelope_error(client.post(URL + "sourceId", {"categories": [cat("a", "A")]}), 403, 10002)


def test_random_bulk_edits_keep_the_tree_consistent(api):
    rng = random.Random(5)
    keys = [f"n{i}" for i in range(40)]
    build(
        api,
        *[
            cat(k, k.upper(), parent=rng.choice([None, *keys[:i]]) if i else None)
            for i, k in enumerate(keys)
        ],
    )
    alive = set(keys)
    for round_ in range(12):
        items, used = [], set()
        for _ in range(8):
            key = rng.choice(sorted(alive))
            if key in used:
                continue
            used.add(key)
            roll = rng.random()
            if roll < 0.6:
                items.append(cat(key, parent=rng.choice([None, *sorted(alive)])))
            elif roll < 0.8:
                items.append({"source": "ERP", "sourceId": key, "action": "remove"})
            else:
                new = f"r{round_}-{len(items)}"
                items.append(cat(new, new.upper(), parent=rng.choice([None, *sorted(alive)])))
        body = bulk(api, items)
        for entry, outcome in zip(items, body["data"], strict=True):
            if outcome["action"] == "remove":
                alive.discard(entry["sourceId"])
            elif outcome["action"] == "create":
                alive.add(entry["sourceId"])
            elif outcome["action"] == "error":
                assert outcome["error"]["code"] in (30008, 30009), outcome
        assert_tree_consistent()
    assert Category.objects.count() == len(alive)
    assert_mptt_agrees()


def test_statement_count_does_not_grow_with_the_number_of_items():
    counts = {}
    for n in (2, 100, 1000):
        # half under a parent created earlier in the list, half under one created later
        items = [cat(f"{n}-p0", "P0"), cat(f"{n}-p1", "P1")]
        for i in range(n - 2):
            items.append(cat(f"{n}-{i}", f"C {i}", parent=f"{n}-p{i % 2}"))
        with CaptureQueriesContext(connection) as queries:
            result = run_bulk(CATEGORIES, {"categories": items}, lookup_key="sourceId")
        assert result.failed == 0
        counts[n] = len(queries.captured_queries)
    assert counts[2] == counts[100] == counts[1000], counts
    assert_tree_consistent()


def test_secondary_links_also_keep_a_category(api):
    build(api, cat("home", "Home"), cat("extra", "Extra"))
    product = ProductFactory(parent=by_key("home"))
    ProductCategory.objects.create(product=product, category=by_key("extra"))
    body = bulk(api, [{"source": "ERP", "sourceId": "extra", "action": "remove"}])
    error = body["data"][0]["error"]
    assert error["code"] == 30008
    assert error["messages"][0].endswith("it holds 0 children, 1 products and 0 clusters.")
    assert Category.objects.count() == 2
