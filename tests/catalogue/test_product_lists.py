from __future__ import annotations

import random
from datetime import timedelta
from operator import attrgetter

import pytest
from django.utils import timezone

from catalogue.models import Product, ProductAttribute
from tests.catalogue.factories import ProductFactory, ProductSourceFactory
from tests.conftest import envelope_error
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def thousand():
    rng = random.Random(7)
    now = timezone.now()
    products = [
        Product(
            name_en=f"Name {rng.randrange(200)}",
            sort_name=f"name {rng.randrange(200)}",
            sku=f"S{rng.randrange(300):04d}",
            priority=rng.randrange(10),
            created_at=now - timedelta(seconds=rng.randrange(50)),  # many ties
            last_modified_at=now - timedelta(seconds=rng.randrange(500)),
        )
        for _ in range(1000)
    ]
    Product.objects.bulk_create(products)
    return list(Product.objects.all())


def walk(api, params, direction="next"):
    seen, pages = [], 0
    response = api.get("/v2/products", params)
    while True:
        body = response.json()
        assert response.status_code == 200, body
        seen.extend(p["id"] for p in body["data"])
        pages += 1
        link = body["pagination"][direction]
        if not link:
            return seen, pages
        response = api.get(link.replace("http://testserver", ""))


SORTS = [
    "id",
    "-id",
    "name",
    "-name",
    "priority",
    "-priority,name",
    "sku,-createdAt",
    "createdAt",
    "-lastModifiedAt",
]


def expected_order(products, sort):
    ordered = sorted(products, key=lambda p: p.id)
    keys = {
        "id": "id",
        "name": "sort_name",
        "priority": "priority",
        "sku": "sku",
        "createdAt": "created_at",
        "lastModifiedAt": "last_modified_at",
    }
    parts = sort.split(",")
    if parts[-1].lstrip("-") != "id":
        ordered = sorted(
            ordered, key=lambda p: p.id, reverse=len(parts) == 1 and parts[0][0] == "-"
        )
    for part in reversed(parts):
        name = keys[part.lstrip("-")]
        ordered = sorted(ordered, key=attrgetter(name), reverse=part.startswith("-"))
    return [p.id for p in ordered]


@pytest.mark.parametrize("sort", SORTS)
def test_walking_every_page_returns_every_row_once_in_order(api, thousand, sort):
    seen, pages = walk(api, {"sort": sort, "pageSize": 37})
    assert len(seen) == len(set(seen)) == 1000
    assert pages == 28
    assert seen == expected_order(thousand, sort)


def test_walking_backwards_from_the_last_page(api, thousand):
    forward, _ = walk(api, {"sort": "-priority,name", "pageSize": 100})
    last = api.get("/v2/products", {"sort": "-priority,name", "pageSize": 100})
    while last.json()["pagination"]["next"]:
        last = api.get(last.json()["pagination"]["next"].replace("http://testserver", ""))
    seen = [p["id"] for p in last.json()["data"]]
    page = last
    while page.json()["pagination"]["previous"]:
        page = api.get(page.json()["pagination"]["previous"].replace("http://testserver", ""))
        seen = [p["id"] for p in page.json()["data"]] + seen
    assert seen == forward


def test_rows_added_during_a_walk_do_not_shift_pages(api, thousand):
    first = api.get("/v2/products", {"pageSize": 100}).json()
    ProductFactory.create_batch(5)  # new ids sort after every existing row
    Product.objects.filter(pk__in=[p.pk for p in thousand[:3]]).delete()
    seen = [p["id"] for p in first["data"]]
    rest, _ = walk(api, {"pageSize": 100, "cursor": first["pagination"]["nextCursor"]})
    seen += rest
    assert len(seen) == len(set(seen))
    assert {p.pk for p in thousand[100:]} <= set(seen)


def test_with_count_adds_total_and_first_page_has_no_previous(api, thousand):
    body = api.get("/v2/products", {"withCount": "true", "pageSize": 10}).json()
    assert body["pagination"]["total"] == 1000
    assert body["pagination"]["previous"] is None and body["pagination"]["previousCursor"] is None
    assert body["pagination"]["next"].startswith("http://testserver/v2/products?")
    assert "total" not in api.get("/v2/products").json()["pagination"]


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"pageSize": 501}, "pageSize", 10015),
        ({"pageSize": 0}, "pageSize", 10015),
        ({"pageSize": "x"}, "pageSize", 10015),
        ({"cursor": "garbage!"}, "cursor", 10015),
        ({"sort": "color"}, "sort", 10007),
        ({"hidden": "maybe"}, "hidden", 10007),
        ({"ids": "1,x"}, "ids", 10007),
        ({"createdAtFrom": "yesterday"}, "createdAtFrom", 10007),
        ({"status": "A,Z"}, "status", 10007),
        ({"bogus": "1"}, "bogus", 10007),
        ({"withCount": "yes"}, "withCount", 10007),
    ],
)
def test_bad_list_parameters_are_400_naming_the_parameter(api, params, field, code):
    error = envelope_error(api.get("/v2/products", params), 400, code)
    assert field in error["fields"]


def test_cursor_from_another_sort_is_rejected(api, thousand):
    cursor = api.get("/v2/products", {"sort": "name"}).json()["pagination"]["nextCursor"]
    envelope_error(api.get("/v2/products", {"sort": "id", "cursor": cursor}), 400, 10015)


def ids(api, params):
    response = api.get("/v2/products", {**params, "pageSize": 500})
    assert response.status_code == 200, response.content
    return {p["id"] for p in response.json()["data"]}


def test_each_product_filter(api):
    root = CategoryFactory()
    leaf = CategoryFactory(parent=root)
    a = ProductFactory(
        sku="A-1",
        ean_code="4006381333931",
        supplier="Acme",
        supplier_code="X1",
        manufacturer="Nord",
        status="A",
        hidden=False,
        parent=leaf,
        name_nl="Jas",
    )
    b = ProductFactory(
        sku="B-1", supplier="Other", supplier_code="X1", status="T", hidden=True, parent=root
    )
    c = ProductFactory(sku="C-1", status="P")
    ProductSourceFactory(product=a, source="ERP", source_id="E-1")
    ProductSourceFactory(product=b, source="PIM", source_id="E-1")
    ProductAttribute.objects.create(
        product=a, position=0, name="COLOR", value="red", value_text="red"
    )
    old = timezone.now() - timedelta(days=3)
    Product.objects.filter(pk=c.pk).update(created_at=old, last_modified_at=old)
    assert ids(api, {"sku": "A-1"}) == {a.pk}
    assert ids(api, {"eanCode": "4006381333931"}) == {a.pk}
    assert ids(api, {"supplier": "Acme"}) == {a.pk}
    assert ids(api, {"supplierCode": "X1"}) == {a.pk, b.pk}
    assert ids(api, {"manufacturer": "Nord"}) == {a.pk}
    assert ids(api, {"status": "T,P"}) == {b.pk, c.pk}
    assert ids(api, {"hidden": "true"}) == {b.pk}
    assert ids(api, {"hidden": "false"}) == {a.pk, c.pk}
    assert ids(api, {"ids": f"{a.pk},{c.pk}"}) == {a.pk, c.pk}
    assert ids(api, {"source": "ERP"}) == {a.pk}
    assert ids(api, {"sourceId": "E-1"}) == {a.pk, b.pk}
    assert ids(api, {"source": "PIM", "sourceId": "E-1"}) == {b.pk}
    assert ids(api, {"q": "jas"}) == {a.pk}
    assert ids(api, {"q": "c-1"}) == {c.pk}
    assert ids(api, {"category": root.pk}) == {b.pk}
    assert ids(api, {"category": root.pk, "includeDescendants": "true"}) == {a.pk, b.pk}
    assert ids(api, {"attribute.COLOR": "red"}) == {a.pk}
    assert ids(api, {"attribute.COLOR": "blue"}) == set()
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(api, {"createdAtFrom": since}) == {a.pk, b.pk}
    assert ids(api, {"createdAtTo": since}) == {c.pk}
    assert ids(api, {"lastModifiedAtTo": since}) == {c.pk}
    assert ids(api, {"lastModifiedAtFrom": since, "status": "A"}) == {a.pk}


def test_language_narrows_list_output(api):
    ProductFactory(name_nl="Jas")
    data = api.get("/v2/products", {"language": "NL"}).json()["data"]
    assert data[0]["names"] == [{"language": "NL", "value": "Jas"}]
