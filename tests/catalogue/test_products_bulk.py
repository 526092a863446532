"""POST /v2/products/bulk/{lookupKey} (SPEC §14): outcomes, keys, directives, flags, cost."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue.bulk import PRODUCTS
from catalogue.models import Product, ProductAttribute, ProductCategory, ProductSource
from records.bulk import run_bulk
from taxonomy.models import CategorySource
from tests.api.documents import inlined
from tests.catalogue.factories import ProductFactory, ProductSourceFactory
from tests.conftest import envelope_error
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db
URL = "/v2/products/bulk/"


def names(en: str | None = None, **others: str) -> list[dict]:
    values = {"EN": en, **{k.upper(): v for k, v in others.items()}}
    return [{"language": k, "value": v} for k, v in values.items() if v is not None]


def item(source_id: str, name: str | None = None, **fields) -> dict:
    body = {"source": "ERP", "sourceId": source_id, **fields}
    if name and "names" not in fields:
        body["names"] = names(name)
    return body


def bulk(api, items, key="sourceId", directives=None, status=200, **params):
    body = {"products": items}
    if directives is not None:
        body["directives"] = directives
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = api.post(URL + key + (f"?{query}" if query else ""), body)
    assert response.status_code == status, response.content
    return response.json()


def existing(source_id: str = "P-1", **fields) -> Product:
    product = ProductFactory(**fields)
    ProductSourceFactory(product=product, source="ERP", source_id=source_id)
    return product


def test_creates_updates_and_reports_in_request_order(api):
    kept = existing("P-1", name_en="Old", sku="S-1")
    parent = CategoryFactory()
    CategorySource.objects.create(category=parent, source="ERP", source_id="C-1")
    body = bulk(
        api,
        [
            item(
                "N-1",
                "Red Shirt",
                sku="R-1",
                parent={"source": "ERP", "sourceId": "C-1"},
                attributes=[{"name": "COLOR", "value": "red"}, {"name": "SIZE", "value": 42}],
            ),
            item("P-1", "New name"),
            item("N-2", "Red Shirt", descriptions=names("Soft")),
        ],
    )
    assert body["messages"] == ["2 created, 1 updated, 0 skipped, 0 removed, 0 failed"]
    assert body["summary"] == {"create": 2, "update": 1, "skip": 0, "remove": 0, "error": 0}
    first, second, third = body["data"]
    assert set(first) == {"index", "action", "id", "lookupKey", "key", "success"}
    assert (first["index"], first["action"], first["key"], first["lookupKey"]) == (
        0,
        "create",
        "N-1",
        "sourceId",
    )
    assert second == {
        "index": 1,
        "action": "update",
        "id": kept.pk,
        "lookupKey": "sourceId",
        "key": "P-1",
        "success": True,
    }
    data = api.get(f"/v2/products/id/{first['id']}").json()["data"]
    assert data["names"] == names("Red Shirt")
    assert data["slugs"] == [{"language": "EN", "value": "red-shirt"}]
    assert data["sources"] == [{"source": "ERP", "sourceId": "N-1"}]
    assert data["parent"] == {"id": parent.pk}
    assert data["attributes"] == [{"name": "COLOR", "value": "red"}, {"name": "SIZE", "value": 42}]
    assert data["version"] == 1 and data["sku"] == "R-1" and data["status"] == "A"
    other = api.get(f"/v2/products/id/{third['id']}").json()["data"]
    assert other["slugs"] == [{"language": "EN", "value": "red-shirt-2"}]
    kept.refresh_from_db()
    assert (kept.name_en, kept.version, kept.sku, kept.sort_name) == (
        "New name",
        2,
        "S-1",
        "new name",
    )


def test_unchanged_item_is_skipped_and_keeps_version(api):
    product = existing("P-1", name_en="Same", sku="S-1")
    ProductAttribute.objects.create(product=product, position=0, name="A", value=1, value_text="1")
    before = product.last_modified_at
    body = bulk(api, [item("P-1", "Same", sku="S-1", attributes=[{"name": "A", "value": 1}])])
    assert body["data"][0]["action"] == "skip" and body["data"][0]["reason"] == "unchanged"
    assert body["data"][0]["success"] is True and body["data"][0]["id"] == product.pk
    product.refresh_from_db()
    assert product.version == 1 and product.last_modified_at == before
    # the same value with another JSON type is a change
    body = bulk(api, [item("P-1", attributes=[{"name": "A", "value": True}])])
    assert body["data"][0]["action"] == "update"
    assert list(product.attributes.values_list("value", flat=True)) == [True]


def test_id_key_updates_and_never_creates(api):
    product = existing()
    body = bulk(
        api,
        [{"id": product.pk, "sku": "NEW"}, {"id": 999999, "names": names("X")}, {"sku": "x"}],
        key="id",
    )
    ok, missing, keyless = body["data"]
    assert ok["action"] == "update" and ok["key"] == product.pk
    assert missing["error"]["code"] == 80006 and missing["key"] == 999999
    assert keyless["error"]["code"] == 10016 and keyless["error"]["type"] == "LookupKeyNotFound"
    assert Product.objects.count() == 1


def test_sku_key_creates_updates_and_refuses_ambiguity(api):
    existing("P-1", sku="ONE")
    ProductFactory.create_batch(2, sku="TWO")
    body = bulk(
        api,
        [
            {"sku": "ONE", "priority": 5},
            {"sku": "NEW", "names": names("Brand new")},
            {"sku": "TWO", "priority": 1},
        ],
        key="sku",
    )
    assert [o["action"] for o in body["data"]] == ["update", "create", "error"]
    assert body["data"][2]["error"]["code"] == 80005
    assert Product.objects.get(sku="NEW").name_en == "Brand new"
    assert Product.objects.get(sku="ONE").priority == 5


def test_supplier_code_key_needs_supplier_in_each_item(api):
    a = ProductFactory(supplier="Acme", supplier_code="X1")
    b = ProductFactory(supplier="Bolt", supplier_code="X1")
    body = bulk(
        api,
        [
            {"supplierCode": "X1", "supplier": "Acme", "priority": 3},
            {"supplierCode": "X1", "priority": 4},
            {"supplierCode": "X2", "supplier": "Acme", "names": names("Fresh")},
        ],
        key="supplierCode",
    )
    assert [o["action"] for o in body["data"]] == ["update", "error", "create"]
    error = body["data"][1]["error"]  # the pair is the key (SPEC §14)
    assert error["code"] == 10016 and "supplier" in error["messages"][0]
    assert body["data"][1]["key"] == "X1"
    a.refresh_from_db(), b.refresh_from_db()
    assert (a.priority, b.priority) == (3, 0)
    assert Product.objects.get(supplier_code="X2").supplier == "Acme"


def test_supplier_code_item_without_supplier_creates_nothing(api):
    body = bulk(api, [{"supplierCode": "NEW-1", "names": names("Orphan")}], key="supplierCode")
    assert body["data"][0]["error"]["code"] == 10016
    assert body["summary"]["error"] == 1
    assert not Product.objects.filter(supplier_code="NEW-1").exists()


def test_missing_and_repeated_keys_fail_only_their_items(api):
    body = bulk(
        api,
        [
            item("A", "First"),
            {"sourceId": "B", "names": names("No source")},
            item("A", "Again"),
            item("C", "Third"),
        ],
    )
    actions = [o["action"] for o in body["data"]]
    assert actions == ["create", "error", "error", "create"]
    assert body["data"][1]["error"]["code"] == 10016
    repeated = body["data"][2]["error"]
    assert repeated["code"] == 10020 and "item 0" in repeated["messages"][0]
    assert body["messages"] == ["2 created, 0 updated, 0 skipped, 0 removed, 2 failed"]
    assert Product.objects.get(sources__source_id="A").name_en == "First"


def test_two_keys_of_one_record_fail_the_later_item(api):
    product = ProductFactory()
    ProductSourceFactory(product=product, source="ERP", source_id="E-1")
    ProductSourceFactory(product=product, source="PIM", source_id="P-1")
    body = bulk(
        api,
        [
            {"source": "ERP", "sourceId": "E-1", "priority": 1},
            {"source": "PIM", "sourceId": "P-1", "priority": 2},
        ],
    )
    assert body["data"][1]["error"]["code"] == 10020
    assert body["data"][1]["id"] == product.pk


def test_remove_items_delete_with_links(api):
    product = existing("P-1")
    ProductAttribute.objects.create(product=product, position=0, name="A", value=1)
    ProductCategory.objects.create(product=product, category=CategoryFactory())
    body = bulk(
        api,
        [
            {"source": "ERP", "sourceId": "P-1", "action": "remove"},
            {"source": "ERP", "sourceId": "NOPE", "action": "remove"},
        ],
    )
    assert body["data"][0] == {
        "index": 0,
        "action": "remove",
        "id": product.pk,
        "lookupKey": "sourceId",
        "key": "P-1",
        "success": True,
    }
    assert body["data"][1]["error"]["code"] == 80006
    assert body["messages"] == ["0 created, 0 updated, 0 skipped, 1 removed, 1 failed"]
    assert not Product.objects.exists()
    assert not ProductSource.objects.exists() and not ProductAttribute.objects.exists()
    assert not ProductCategory.objects.exists()


def test_bad_action_is_an_item_error(api):
    body = bulk(api, [item("A", "x", action="delete"), "not an object"])
    assert body["data"][0]["error"]["fields"] == {"action": ["Must be one of upsert, remove."]}
    assert body["data"][1]["error"]["code"] == 10007


def test_stale_version_is_409_item_and_leaves_record(api):
    product = existing("P-1", sku="OLD")
    body = bulk(
        api,
        [item("P-1", sku="NEW", version=7), item("P-2", "New", version=1)],
    )
    stale, unknown = body["data"]
    assert stale["error"]["code"] == 10014 and stale["error"]["status"] == 409
    assert stale["id"] == product.pk
    assert unknown["error"]["code"] == 10014
    product.refresh_from_db()
    assert product.sku == "OLD" and product.version == 1
    body = bulk(api, [item("P-1", sku="NEW", version=1)])
    assert body["data"][0]["action"] == "update"
    product.refresh_from_db()
    assert (product.sku, product.version) == ("NEW", 2)


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"eanCode": "4006381333932"}, "eanCode"),
        ({"names": [{"language": "XX", "value": "a"}]}, "names[0].language"),
        ({"unknownField": 1}, "unknownField"),
        ({"id": 5}, "id"),
        ({"attributes": [{"name": "c", "value": 1}]}, "attributes[0].name"),
        ({"slugs": [{"language": "EN", "value": "Bad Slug"}]}, "slugs[0].value"),
        ({"sources": [{"source": "PIM", "sourceId": "9"}]}, "sources"),
        ({"version": 0}, "version"),
    ],
)
def test_one_malformed_item_is_that_items_error(api, fields, path):
    body = bulk(api, [item("BAD", "x", **fields), item("GOOD", "Good")])
    bad, good = body["data"]
    assert bad["action"] == "error" and bad["success"] is False
    assert bad["error"]["code"] == 10007 and path in bad["error"]["fields"], bad["error"]
    assert bad["error"]["moreInfo"].endswith("/docs/errors#10007")
    assert good["action"] == "create"
    assert Product.objects.count() == 1


def test_create_needs_names_with_the_default_language(api):
    body = bulk(api, [item("A", sku="x"), item("B", names=names(None, nl="Alleen NL"))])
    assert body["data"][0]["error"]["fields"] == {
        "names": ["This field is required to create a record."]
    }
    assert body["data"][1]["error"]["code"] == 10019


def test_source_pairs_are_unique_per_product(api):
    existing("TAKEN")
    body = bulk(
        api,
        [
            item(
                "A",
                "A",
                sources=[
                    {"source": "ERP", "sourceId": "A"},
                    {"source": "PIM", "sourceId": "TAKEN"},
                ],
            ),
            item(
                "B",
                "B",
                sources=[
                    {"source": "ERP", "sourceId": "B"},
                    {"source": "ERP", "sourceId": "TAKEN"},
                ],
            ),
            item(
                "C",
                "C",
                sources=[
                    {"source": "ERP", "sourceId": "C"},
                    {"source": "PIM", "sourceId": "TAKEN"},
                ],
            ),
        ],
    )
    first, second, third = body["data"]
    assert first["action"] == "create"
    assert second["error"]["code"] == 80004
    assert third["error"]["code"] == 10020
    assert set(
        ProductSource.objects.filter(product_id=first["id"]).values_list("source", "source_id")
    ) == {("ERP", "A"), ("PIM", "TAKEN")}


def test_sources_list_replaces_the_set_on_update(api):
    product = existing("P-1")
    ProductSource.objects.create(product=product, source="PIM", source_id="old")
    bulk(
        api,
        [
            item(
                "P-1",
                sources=[{"source": "ERP", "sourceId": "P-1"}, {"source": "WEB", "sourceId": "w"}],
            )
        ],
    )
    assert set(product.sources.values_list("source", "source_id")) == {("ERP", "P-1"), ("WEB", "w")}


def test_slugs_client_taken_repeated_and_generated(api):
    existing("P-1", slug_en="taken")
    body = bulk(
        api,
        [
            item("A", "Taken", slugs=[{"language": "EN", "value": "taken"}]),
            item("B", "Mine", slugs=[{"language": "EN", "value": "mine"}]),
            item("C", "Other", slugs=[{"language": "EN", "value": "mine"}]),
            item("D", "Taken"),
            item("E", "Mine"),
        ],
    )
    codes = [o.get("error", {}).get("code") for o in body["data"]]
    assert codes == [80004, None, 10020, None, None]
    slugs = dict(Product.objects.values_list("sources__source_id", "slug_en"))
    assert slugs["B"] == "mine" and slugs["D"] == "taken-2" and slugs["E"] == "mine-2"


def test_many_generated_slugs_with_the_same_base_stay_unique(api):
    ProductFactory(slug_en="shirt")
    for n in range(2, 12):
        ProductFactory(slug_en=f"shirt-{n}")
    bulk(api, [item(f"S{n}", "Shirt") for n in range(8)])
    slugs = list(Product.objects.filter(sources__source="ERP").values_list("slug_en", flat=True))
    assert sorted(slugs) == sorted(f"shirt-{n}" for n in range(12, 20))


def test_missing_parent_is_item_error(api):
    body = bulk(
        api,
        [
            item("A", "x", parent={"id": 424242}),
            item("B", "y", parent={"source": "ERP", "sourceId": "nope"}),
        ],
    )
    assert [o["error"]["code"] for o in body["data"]] == [30007, 30007]


def test_request_errors(api):
    envelope_error(api.post(URL + "sourceId", {"products": []}), 400, 10007)
    envelope_error(api.post(URL + "sourceId", {"products": {}}), 400, 10007)
    envelope_error(api.post(URL + "sourceId", {}), 400, 10007)
    error = envelope_error(
        api.post(URL + "sourceId", {"products": [item("A", "a")], "x": 1}), 400, 10007
    )
    assert "x" in error["fields"]
    envelope_error(api.post(URL + "ean", {"products": [item("A", "a")]}), 400, 10006)
    error = envelope_error(
        api.post(URL + "sourceId?dryrun=true", {"products": [item("A", "a")]}), 400, 10007
    )
    assert "dryrun" in error["fields"]
    envelope_error(
        api.post(URL + "sourceId?atomic=yes", {"products": [item("A", "a")]}), 400, 10007
    )
    # an empty flag is not read as "false": omit it instead
    error = envelope_error(
        api.post(URL + "sourceId?dryRun=", {"products": [item("A", "a")]}), 400, 10007
    )
    assert "dryRun" in error["fields"]
    assert not Product.objects.exists()


def test_over_the_maximum_is_413_and_writes_nothing(api):
    items = [item(f"K{n}", "x") for n in range(2001)]
    error = envelope_error(api.post(URL + "sourceId", {"products": items}), 413, 10013)
    assert "2000" in error["messages"][0]
    assert not Product.objects.exists()


def test_dry_run_reports_exact_outcomes_and_writes_nothing(api):
    product = existing("P-1", name_en="Old")
    body = bulk(
        api,
        [
            item("P-1", "New"),
            item("N", "Brand new"),
            item("P-1", "Again"),
            item("Q", action="remove"),
        ],
        dryRun="true",
    )
    assert [o["action"] for o in body["data"]] == ["update", "create", "error", "error"]
    assert body["data"][0]["id"] == product.pk and body["data"][1]["id"] is None
    assert body["messages"] == [
        "1 created, 1 updated, 0 skipped, 0 removed, 2 failed",
        "Dry run: nothing was written.",
    ]
    product.refresh_from_db()
    assert product.name_en == "Old" and product.version == 1
    assert Product.objects.count() == 1


def test_atomic_failure_writes_nothing_and_answers_422(api):
    product = existing("P-1", name_en="Old")
    body = bulk(
        api,
        [item("P-1", "New"), item("N", "Brand new"), item("BAD", "x", eanCode="1")],
        status=422,
        atomic="true",
    )
    update, create, bad = body["data"]
    assert update == {
        "index": 0,
        "action": "update",
        "id": product.pk,
        "lookupKey": "sourceId",
        "key": "P-1",
        "success": False,
        "reason": "rolledBack",
    }
    assert (
        create["action"] == "create" and create["id"] is None and create["reason"] == "rolledBack"
    )
    assert bad["action"] == "error" and "reason" not in bad
    assert body["summary"]["error"] == 1
    assert "nothing was written" in body["messages"][1]
    product.refresh_from_db()
    assert product.name_en == "Old" and Product.objects.count() == 1


def test_atomic_success_writes_everything(api):
    body = bulk(api, [item("A", "a"), item("B", "b")], atomic="true")
    assert all(o["success"] for o in body["data"])
    assert Product.objects.count() == 2


@pytest.mark.parametrize(
    "directives",
    [
        {"skipIfNotEmpty": ["names", "sku"]},
        [{"operation": "skipIfNotEmpty", "fields": ["names", "sku"]}],
    ],
)
def test_skip_if_not_empty_writes_only_empty_values(api, directives):
    product = existing("P-1", name_en="Kept", sku="KEEP", ean_code="")
    body = bulk(
        api,
        [
            item(
                "P-1", names=names("Ignored", nl="Gevuld"), sku="IGNORED", eanCode="4006381333931"
            ),
            item("N", names=names("Created"), sku="NEWSKU"),
        ],
        directives=directives,
    )
    assert [o["action"] for o in body["data"]] == ["update", "create"]
    product.refresh_from_db()
    assert (product.name_en, product.name_nl, product.sku) == ("Kept", "Gevuld", "KEEP")
    assert product.ean_code == "4006381333931"
    assert Product.objects.get(sku="NEWSKU").name_en == "Created"  # creates are not affected


def test_skip_move_on_update_ignores_parent_of_existing_records(api):
    old, new = CategoryFactory(), CategoryFactory()
    product = existing("P-1", parent=old)
    body = bulk(
        api,
        [item("P-1", parent={"id": new.pk}), item("N", "n", parent={"id": new.pk})],
        directives={"skipMoveOnUpdate": True},
    )
    assert body["data"][0]["action"] == "skip"
    product.refresh_from_db()
    assert product.parent_id == old.pk
    assert Product.objects.get(sources__source_id="N").parent_id == new.pk


@pytest.mark.parametrize(
    "directives",
    [
        {"replaceTranslationsOnUpdate": True},
        {"mergeTranslationsOnUpdate": []},
        [{"operation": "replaceTranslationsOnUpdate"}],
        [{"operation": "mergeTranslationsOnUpdate"}],
    ],
)
def test_replace_translations_clears_languages_not_sent(api, directives):
    product = existing("P-1", name_en="English", name_nl="Nederlands", description_de="Deutsch")
    bulk(
        api,
        [item("P-1", names=names(None, fr="Français"), descriptions=names("Desc"))],
        directives=directives,
    )
    product.refresh_from_db()
    assert (product.name_en, product.name_nl, product.name_fr) == ("English", None, "Français")
    assert (product.description_en, product.description_de) == ("Desc", None)


def test_without_replace_translations_merge_per_language(api):
    product = existing("P-1", name_en="English", name_nl="Nederlands")
    bulk(api, [item("P-1", names=names(None, fr="Français"))])
    product.refresh_from_db()
    assert (product.name_en, product.name_nl, product.name_fr) == (
        "English",
        "Nederlands",
        "Français",
    )


def test_skip_create_skips_unmatched_items(api):
    existing("P-1", name_en="Old")
    body = bulk(api, [item("P-1", "New"), item("N", "Never")], directives={"skipCreate": True})
    assert body["data"][1] == {
        "index": 1,
        "action": "skip",
        "id": None,
        "lookupKey": "sourceId",
        "key": "N",
        "success": True,
        "reason": "skipCreate",
    }
    assert body["data"][0]["action"] == "update"
    assert body["summary"] == {"create": 0, "update": 1, "skip": 1, "remove": 0, "error": 0}
    assert Product.objects.count() == 1


@pytest.mark.parametrize(
    ("directives", "path"),
    [
        ({"skipIfNotEmpty": ["nope"]}, "directives.skipIfNotEmpty"),
        ({"skipIfNotEmpty": ["id"]}, "directives.skipIfNotEmpty"),
        ({"skipEverything": True}, "directives.skipEverything"),
        ({"skipCreate": "yes"}, "directives.skipCreate"),
        ([{"operation": "skipCreate", "fields": ["names"]}], "directives[0].fields"),
        ([{"operation": "skipIfNotEmpty"}], "directives[0].fields"),
        ([{"operation": "nope"}], "directives[0].operation"),
        ([{"operation": {"a": 1}}], "directives[0].operation"),
        ([{"operation": "skipIfNotEmpty", "fields": [1]}], "directives[0].fields"),
        ([{"operation": "skipCreate", "extra": 1}], "directives[0].extra"),
        ("skipCreate", "directives"),
    ],
)
def test_bad_directives_are_request_errors(api, directives, path):
    response = api.post(URL + "sourceId", {"products": [item("A", "a")], "directives": directives})
    error = envelope_error(response, 400, 10007)
    assert any(key.startswith(path) for key in error["fields"]), error["fields"]
    assert not Product.objects.exists()


def test_scopes_bulk_write_and_products_write_are_both_needed(client_with_scopes):
    for scopes in (("products:write",), ("bulk:write",)):
        client = client_with_scopes(*scopes)
        response = client.post(URL + "sourceId", {"products": [item("A", "a")]})
        error = envelope_error(response, 403, 10002)
        assert "bulk:write products:write" in response["WWW-Authenticate"]
        assert error["messages"]
    client = client_with_scopes("bulk:write", "products:write")
    assert client.post(URL + "sourceId", {"products": [item("A", "a")]}).status_code == 200


def test_openapi_documents_the_bulk_route(api):
    schema = inlined(api.get("/v2/schema/").json())
    operation = schema["paths"]["/v2/products/bulk/{lookupKey}"]["post"]
    assert operation["security"] == [{"oauth2": ["bulk:write", "products:write"]}]
    assert {"200", "400", "413", "422"} <= set(operation["responses"])
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["products"]["maxItems"] == 2000
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert "summary" in ok["properties"]
    key = next(p for p in operation["parameters"] if p["name"] == "lookupKey")
    assert key["schema"]["enum"] == ["id", "sourceId", "sku", "supplierCode"]


# --- cost --------------------------------------------------------------------------------------


def _payload(n: int, start: int, parent_pair: dict) -> list[dict]:
    """Half existing (P-*), half new (N-*): 2 languages, a source, a parent, 3 attributes."""
    items = []
    for i in range(n):
        key = f"P-{start + i}" if i % 2 else f"N-{start + i}"
        items.append(
            {
                "source": "ERP",
                "sourceId": key,
                "names": [
                    {"language": "EN", "value": f"Product {key} v2"},
                    {"language": "NL", "value": f"Product {key} nl"},
                ],
                "sku": f"SKU-{key}",
                "parent": parent_pair,
                "attributes": [
                    {"name": "COLOR", "value": "red"},
                    {"name": "SIZE", "value": i % 7},
                    {"name": "NEW", "value": True},
                ],
            }
        )
    return items


def _seed(n: int, start: int) -> None:
    products = Product.objects.bulk_create(
        Product(name_en=f"Product P-{start + i}", slug_en=f"product-p-{start + i}", sort_name="p")
        for i in range(1, n, 2)
    )
    ProductSource.objects.bulk_create(
        ProductSource(product=p, source="ERP", source_id=f"P-{start + i}")
        for p, i in zip(products, range(1, n, 2), strict=True)
    )
    ProductAttribute.objects.bulk_create(
        ProductAttribute(product=p, position=0, name="COLOR", value="blue") for p in products
    )


def test_statement_count_does_not_grow_with_the_number_of_items():
    category = CategoryFactory()
    CategorySource.objects.create(category=category, source="ERP", source_id="CAT")
    parent = {"source": "ERP", "sourceId": "CAT"}
    counts = {}
    for n, start in ((1, 0), (2, 10), (100, 1000), (2000, 100000)):
        _seed(n, start)
        with CaptureQueriesContext(connection) as queries:
            result = run_bulk(
                PRODUCTS, {"products": _payload(n, start, parent)}, lookup_key="sourceId"
            )
        assert result.failed == 0, [i.error for i in result.items if i.error]
        counts[n] = len(queries.captured_queries)
    # 2, 100 and 2000 items (creates and updates) cost exactly the same; 1 item (a create only)
    # skips the update statements.
    assert counts[2] == counts[100] == counts[2000], counts
    assert counts[2] - 6 <= counts[1] <= counts[2], counts
    # savepoint, 8 reads (pairs, rows, links, parents, cluster homes of re-parented rows,
    # attributes, slugs EN and NL), 5 writes (products updated and inserted, links, attributes
    # deleted and inserted), on PostgreSQL the deferred foreign keys checked inside the retry
    # loop (SET CONSTRAINTS ALL IMMEDIATE / DEFERRED: the request's transaction commits later),
    # the change events (one INSERT for every item, SPEC §19), on PostgreSQL the creates' ids
    # (one nextval statement: the rows go in in slug order, ids in request order), release
    assert counts[2000] <= 19, counts
    assert Product.objects.filter(sources__source_id__startswith="N-").count() == 1 + 1 + 50 + 1000


def test_remove_statement_count_does_not_grow_with_the_number_of_items():
    counts = {}
    for n in (1, 100, 2000):
        _seed(2 * n, 10 * n)
        items = [
            {"source": "ERP", "sourceId": f"P-{10 * n + i}", "action": "remove"}
            for i in range(1, 2 * n, 2)
        ]
        with CaptureQueriesContext(connection) as queries:
            result = run_bulk(PRODUCTS, {"products": items}, lookup_key="sourceId")
        assert result.summary()["remove"] == n
        counts[n] = len(queries.captured_queries)
    assert counts[1] == counts[100] == counts[2000], counts
    assert not Product.objects.exists()
