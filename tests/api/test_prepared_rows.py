"""Single-record lookups from compiled SQL (config/api/rows.py ``PreparedRows``): the same
records, rendered the same, as the ORM path; compiled once per shape."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import connection
from django.db.models import Q
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext

from catalogue.models import Product, ProductAttribute, ProductCategory
from catalogue.selectors import PRODUCT_LOOKUP, product_get, product_rows
from config.api import errors
from records.lookups import PREPARED
from records.rows import PreparedRows
from tests.catalogue.factories import ProductFactory, ProductSourceFactory
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    PREPARED._compiled.clear()
    yield
    PREPARED._compiled.clear()


@pytest.fixture
def products():
    first = ProductFactory(sku="A-1", supplier="Acme", supplier_code="AC-1", name_nl="Eerste")
    second = ProductFactory(sku="B-2", supplier="Other", supplier_code="AC-1")
    for product in (first, second):
        ProductSourceFactory(product=product, source="ERP")
        ProductSourceFactory(product=product, source="PIM", source_id=f"pim-{product.pk}")
        ProductAttribute.objects.create(product=product, name="COLOUR", value="red", position=0)
    ProductCategory.objects.create(product=first, category=CategoryFactory())
    return first, second


def lookups(first) -> list[tuple[str, str, dict]]:
    source_id = first.sources.get(source="ERP").source_id
    return [
        ("id", str(first.pk), {}),
        ("sourceId", source_id, {}),
        ("sourceId", source_id, {"source": "ERP"}),
        ("sourceId", f"pim-{first.pk}", {"source": "PIM"}),
        ("sku", "A-1", {}),
        ("supplierCode", "AC-1", {"supplier": "Acme"}),
    ]


@pytest.mark.parametrize("expands", [(), ("categories",)])
def test_prepared_lookups_equal_the_orm_path(products, expands):
    first, second = products
    for key, value, params in lookups(first):
        orm = PRODUCT_LOOKUP.get(product_rows(expands), key, value, params)
        for _ in range(2):  # compiled on the first, reused on the second
            prepared = product_get(key, value, params, expands=expands)
            assert vars(prepared) == vars(orm), (key, params)
    # the same compiled shapes serve other values
    assert product_get("id", str(second.pk), {}, expands=expands).sku == "B-2"
    assert product_get("sku", "B-2", {}, expands=expands).pk == second.pk


def test_a_prepared_shape_is_compiled_once_and_runs_one_statement(products):
    first, second = products
    product_get("sourceId", f"pim-{first.pk}", {"source": "PIM"})
    with (
        mock.patch.object(
            SQLCompiler, "as_sql", autospec=True, side_effect=SQLCompiler.as_sql
        ) as compiled,
        CaptureQueriesContext(connection) as queries,
    ):
        found = product_get("sourceId", f"pim-{second.pk}", {"source": "PIM"})
    assert found.pk == second.pk
    assert compiled.call_count == 0
    assert len(queries) == 1


def test_not_found_and_several_found_still_refuse(products):
    first, _ = products
    for _ in range(2):
        with pytest.raises(errors.ProductNotFound):
            product_get("sourceId", "nobody", {"source": "ERP"})
        with pytest.raises(errors.ProductMultipleFound):
            product_get("supplierCode", "AC-1", {})  # two suppliers share the code
        with pytest.raises(errors.ProductNotFound):
            product_get("id", "not-a-number", {})  # no value to prepare: the ORM path


def test_a_shape_whose_values_are_transformed_is_never_prepared(products):
    """``icontains`` wraps its value in ``%…%``: the marker is not among the parameters, so the
    shape runs through the ORM, with the right answer."""
    cache = PreparedRows()
    queryset = Product.objects.values("pk", "sku")

    def build(condition: Q):
        return queryset.filter(condition).order_by("pk")

    for _ in range(2):
        rows = cache.rows("skus", build, Q(sku__icontains="a-"))
        assert [row["sku"] for row in rows] == ["A-1"]
    assert list(cache._compiled.values()) == [None]
    exact = cache.rows("exact", build, Q(sku="B-2") | Q(sku="A-1"))
    assert [row["sku"] for row in exact] == ["A-1", "B-2"]
    assert cache.rows("exact", build, Q(sku="B-2") | Q(sku="nothing")) == [
        {"pk": products[1].pk, "sku": "B-2"}
    ]


def test_the_detail_route_answers_the_same_prepared_or_not(api, products):
    first, _ = products
    path = f"/v2/products/sourceId/pim-{first.pk}?source=PIM&expands=categories"
    cold = api.get(path)
    warm = api.get(path)
    assert cold.status_code == warm.status_code == 200
    assert cold.json() == warm.json()
    assert {"language": "NL", "value": "Eerste"} in warm.json()["data"]["names"]
