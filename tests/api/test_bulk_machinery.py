"""The shared bulk machinery: directive forms, retries, and the set-based SQL helpers."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalogue.bulk import PRODUCTS, ProductBulk
from catalogue.models import Product, ProductAttribute, ProductSource
from config.api.errors import SchemaValidationException
from records import bulk as bulk_module
from records.bulk import Directives, Retry, parse_directives, run_bulk
from records.bulk_sql import delete_records, insert_rows, rows_by_pairs, update_rows
from tests.catalogue.factories import ProductFactory, ProductSourceFactory
from tests.clusters.factories import ClusterFactory

pytestmark = pytest.mark.django_db


def item(key: str, name: str = "Name") -> dict:
    return {"source": "ERP", "sourceId": key, "names": [{"language": "EN", "value": name}]}


@pytest.mark.parametrize(
    "raw",
    [
        [
            {"operation": "skipIfNotEmpty", "fields": ["names", "eanCode"]},
            {"operation": "skipMoveOnUpdate"},
            {"operation": "mergeTranslationsOnUpdate"},
            {"operation": "skipCreate"},
        ],
        {
            "skipIfNotEmpty": ["names", "eanCode"],
            "skipMoveOnUpdate": True,
            "replaceTranslationsOnUpdate": [],
            "skipCreate": True,
        },
    ],
)
def test_both_directive_forms_mean_the_same(raw):
    assert parse_directives(raw, PRODUCTS.schema) == Directives(
        skip_if_not_empty=frozenset({"name", "ean_code"}),
        skip_move_on_update=True,
        replace_translations=True,
        skip_create=True,
    )


def test_directives_can_be_turned_off_and_default_to_nothing():
    assert parse_directives({"skipCreate": False}, PRODUCTS.schema) == Directives()
    assert parse_directives(None, PRODUCTS.schema) == Directives()
    with pytest.raises(SchemaValidationException) as raised:
        parse_directives([{"operation": "skipIfNotEmpty", "fields": "names"}], PRODUCTS.schema)
    assert "directives[0].fields" in raised.value.fields


class Flaky(ProductBulk):
    """Loses ``failures`` races before writing normally."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures, self.error, self.calls = failures, error, 0

    def write(self, plan) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        super().write(plan)


@pytest.fixture
def no_sleep(monkeypatch):
    monkeypatch.setattr(bulk_module.time, "sleep", lambda seconds: None)


def test_a_lost_race_is_retried_from_scratch(no_sleep):
    resource = Flaky(2, Retry("changed meanwhile"))
    result = run_bulk(resource, {"products": [item("A")]}, lookup_key="sourceId")
    assert result.attempts == 3 and result.summary()["create"] == 1
    assert ProductSource.objects.get().source_id == "A"


def test_unique_violations_are_retried_other_errors_are_not(no_sleep):
    unique = IntegrityError("UNIQUE constraint failed: catalogue_productsource.source")
    unique.__cause__ = type("E", (Exception,), {"sqlstate": "23505"})()
    assert (
        run_bulk(Flaky(1, unique), {"products": [item("A")]}, lookup_key="sourceId").attempts == 2
    )
    broken = IntegrityError("NOT NULL constraint failed: catalogue_product.sku")
    broken.__cause__ = type("E", (Exception,), {"sqlstate": "23502"})()
    resource = Flaky(1, broken)
    with pytest.raises(IntegrityError):
        run_bulk(resource, {"products": [item("B")]}, lookup_key="sourceId")
    assert resource.calls == 1 and not Product.objects.filter(sources__source_id="B").exists()


def test_retries_give_up_after_the_last_attempt(no_sleep):
    resource = Flaky(100, Retry("always"))
    with pytest.raises(Retry):
        run_bulk(resource, {"products": [item("A")]}, lookup_key="sourceId")
    assert resource.calls == bulk_module.MAX_ATTEMPTS
    assert not Product.objects.exists()


def test_a_version_changed_after_planning_is_caught_inside_the_write(no_sleep, monkeypatch):
    product = ProductFactory(name_en="Old")
    ProductSourceFactory(product=product, source="ERP", source_id="A")
    original = ProductBulk.write
    bumped = []

    def write_after_a_concurrent_change(self, plan):
        if not bumped:  # another writer commits between our read and our write
            Product.objects.filter(pk=product.pk).update(version=5)
            bumped.append(True)
        return original(self, plan)

    monkeypatch.setattr(ProductBulk, "write", write_after_a_concurrent_change)
    result = run_bulk(PRODUCTS, {"products": [item("A", "New")]}, lookup_key="sourceId")
    # the guarded UPDATE wrote nothing, so the attempt (and, here, the simulated change made in
    # the same transaction) was rolled back and planned again against the stored version
    assert result.attempts == 2
    product.refresh_from_db()
    assert (product.name_en, product.version) == ("New", 2)


def test_update_rows_writes_only_rows_whose_guard_still_matches():
    a, b = ProductFactory(sku="a"), ProductFactory(sku="b")
    written = update_rows(
        Product,
        ["sku", "version"],
        [
            {"id": a.pk, "sku": "A2", "version": 2, "expected_version": 1},
            {"id": b.pk, "sku": "B2", "version": 9, "expected_version": 8},
        ],
        guard="version",
    )
    assert written == {a.pk}
    assert dict(Product.objects.values_list("pk", "sku")) == {a.pk: "A2", b.pk: "b"}


def test_insert_rows_returns_ids_in_row_order_and_adapts_values():
    product = ProductFactory()
    ids = insert_rows(
        ProductAttribute,
        ["product_id", "position", "name", "value", "value_text"],
        [
            {
                "product_id": product.pk,
                "position": i,
                "name": f"N{i}",
                "value": value,
                "value_text": None,
            }
            for i, value in enumerate(["text", 42, 1.5, True, ["x", "y"], {"k": None}])
        ],
    )
    stored = dict(ProductAttribute.objects.values_list("pk", "value"))
    assert [stored[pk] for pk in ids] == ["text", 42, 1.5, True, ["x", "y"], {"k": None}]
    now = timezone.now()
    row = {f.attname: f.get_default() for f in Product._meta.concrete_fields if not f.primary_key}
    row.update(created_at=now, last_modified_at=now, hidden=True, priority=-3, name_en="Ünï")
    [pk] = insert_rows(Product, list(row), [row])
    created = Product.objects.get(pk=pk)
    assert (created.created_at, created.hidden, created.priority) == (now, True, -3)
    assert created.name_en == "Ünï" and created.language == "en"


@pytest.mark.postgres
def test_creates_take_ids_in_request_order_and_their_slugs_in_sorted_order():
    """Two requests creating overlapping products must lock the shared slugs in one order, or
    each can hold a slug the other waits for (a deadlock; seen in the four-writer test). The
    heap order of a fresh table is the insert order."""
    names = ["Zeta", "Alpha", "Mid", "Beta"]
    result = run_bulk(
        PRODUCTS, {"products": [item(f"k{n}", name) for n, name in enumerate(names)]},
        lookup_key="sourceId",
    )  # fmt: skip
    ids = [i.id for i in result.items if i.id is not None]
    assert len(ids) == len(names)
    assert ids == sorted(ids)  # request order
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT name_en FROM {Product._meta.db_table} ORDER BY ctid")
        assert [row[0] for row in cursor.fetchall()] == sorted(names)  # slug order
    assert dict(Product.objects.values_list("pk", "name_en")) == dict(zip(ids, names, strict=True))


def test_rows_by_pairs_and_oneof_match_exactly():
    for source, source_id in [("ERP", "1"), ("ERP", "2"), ("PIM", "1")]:
        ProductSourceFactory(source=source, source_id=source_id)
    found = rows_by_pairs(
        ProductSource,
        ("source", "source_id"),
        [("ERP", "1"), ("PIM", "2")],
        ["source", "source_id"],
    )
    assert found == [("ERP", "1")]
    assert set(
        ProductSource.objects.filter(source_id__oneof=["1"]).values_list("source", flat=True)
    ) == {"ERP", "PIM"}
    assert not ProductSource.objects.filter(source_id__oneof=[]).exists()


def test_delete_records_follows_on_delete_rules_with_one_statement_per_relation():
    products = ProductFactory.create_batch(3)
    for p in products:
        ProductSourceFactory(product=p)
        ProductAttribute.objects.create(product=p, position=0, name="A", value=1)
    cluster = ClusterFactory(default_product=products[0])  # a hidden relation (related_name="+")
    with CaptureQueriesContext(connection) as queries:
        delete_records(Product, [p.pk for p in products[:2]])
    # one statement per dependent table (sources, attributes, category links…, the clusters' and
    # options' default products, which are hidden relations), then the products
    hidden = Product._meta.get_fields(include_hidden=True)
    relations = [f for f in hidden if f.auto_created and not f.concrete]
    assert len(relations) == len(Product._meta.related_objects) + 2
    assert len(queries.captured_queries) == len(relations) + 1
    assert list(Product.objects.values_list("pk", flat=True)) == [products[2].pk]
    assert ProductSource.objects.count() == ProductAttribute.objects.count() == 1
    cluster.refresh_from_db()
    assert cluster.default_product_id is None
