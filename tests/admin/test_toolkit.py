"""The shared admin toolkit: counts, ordering, source filter, validators (config/admin.py)."""

from __future__ import annotations

import re
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue.models import Product, ProductSource
from config import admin as toolkit
from records.validation import Ean
from tests.catalogue.factories import ProductFactory, ProductSourceFactory

pytestmark = pytest.mark.django_db

LIST = "/admin/catalogue/product/"
COUNT = re.compile(r"\bCOUNT\(", re.IGNORECASE)


def test_small_lists_are_counted_exactly():
    ProductFactory.create_batch(3)
    paginator = toolkit.EstimatedCountPaginator(Product.objects.order_by("pk"), 2)
    assert (paginator.count, paginator.is_estimate, paginator.num_pages) == (3, False, 2)


def test_sqlite_never_estimates():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite behaviour")
    with mock.patch.object(toolkit, "planner_estimate", side_effect=AssertionError):
        assert toolkit.estimated_count(Product.objects.all()) == (0, False)


@pytest.mark.postgres
def test_planner_estimate_reads_explain_without_counting():
    ProductFactory.create_batch(5)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalogue_product")
    with CaptureQueriesContext(connection) as queries:
        estimate = toolkit.planner_estimate(Product.objects.filter(status="A").order_by("sku"))
    assert estimate >= 1
    assert len(queries) == 1 and queries[0]["sql"].startswith("EXPLAIN (FORMAT JSON) SELECT")
    assert "ORDER BY" not in queries[0]["sql"]


@pytest.mark.postgres
def test_large_estimate_is_shown_instead_of_counting(admin_client):
    ProductFactory.create_batch(3)
    with (
        mock.patch.object(toolkit, "planner_estimate", return_value=1_000_000),
        CaptureQueriesContext(connection) as queries,
    ):
        response = admin_client.get(LIST, {"status__exact": "A", "q": "product"})
    assert response.status_code == 200
    counts = [q["sql"] for q in queries if COUNT.search(q["sql"])]
    assert counts == [], counts
    cl = response.context["cl"]
    assert cl.result_count == 1_000_000 and cl.paginator.is_estimate
    assert "about 1,000,000" in response.content.decode()
    assert len(cl.result_list) == 3  # the page itself is an ordinary LIMIT query


@pytest.mark.postgres
def test_unfiltered_list_of_a_large_table_runs_no_count(admin_client):
    ProductFactory.create_batch(2)
    with (
        mock.patch.object(toolkit, "planner_estimate", return_value=1_000_000),
        CaptureQueriesContext(connection) as queries,
    ):
        assert admin_client.get(LIST).status_code == 200
    product_counts = [
        q["sql"] for q in queries if COUNT.search(q["sql"]) and "catalogue_product" in q["sql"]
    ]
    assert product_counts == []
    pages = [q["sql"] for q in queries if 'FROM "catalogue_product"' in q["sql"]]
    assert pages and all("LIMIT" in sql for sql in pages if sql.startswith("SELECT"))


@pytest.mark.postgres
def test_small_estimate_falls_back_to_an_exact_count(admin_client):
    ProductFactory.create_batch(3)
    with mock.patch.object(toolkit, "planner_estimate", return_value=40):
        response = admin_client.get(LIST)
    cl = response.context["cl"]
    assert (cl.result_count, cl.paginator.is_estimate) == (3, False)
    assert "about" not in response.content.decode().split('class="paginator"')[1][:200]


def test_ties_are_ordered_by_pk_in_the_sort_direction(admin_client):
    response = admin_client.get(LIST, {"o": "3"})  # sku ascending
    sql = str(response.context["cl"].queryset.query)
    assert re.search(r'ORDER BY .*"sku" ASC, .*"id" ASC', sql), sql
    response = admin_client.get(LIST, {"o": "-3"})
    sql = str(response.context["cl"].queryset.query)
    assert re.search(r'ORDER BY .*"sku" DESC, .*"id" DESC', sql), sql
    default = str(admin_client.get(LIST).context["cl"].queryset.query)
    assert re.search(r'ORDER BY .*"id" DESC$', default), default


def test_source_filter_choices_come_from_a_loose_index_scan():
    for source in ("PIM", "ERP", "ERP", "WMS"):
        ProductSourceFactory(source=source)
    flt = toolkit.SourceListFilter.__new__(toolkit.SourceListFilter)
    model_admin = mock.Mock(model=Product)
    with CaptureQueriesContext(connection) as queries:
        choices = flt.lookups(None, model_admin)
    assert choices == [("ERP", "ERP"), ("PIM", "PIM"), ("WMS", "WMS")]
    assert len(queries) == 1 and "WITH RECURSIVE" in queries[0]["sql"]
    assert "DISTINCT" not in queries[0]["sql"].upper()


def test_source_filter_choices_are_bounded(monkeypatch):
    for n in range(4):
        ProductSourceFactory(source=f"S{n}")
    monkeypatch.setattr(toolkit.SourceListFilter, "max_sources", 2)
    flt = toolkit.SourceListFilter.__new__(toolkit.SourceListFilter)
    assert flt.lookups(None, mock.Mock(model=Product)) == [("S0", "S0"), ("S1", "S1")]
    assert ProductSource.objects.count() == 4


def test_api_validator_shares_the_api_rule():
    validate = toolkit.api_validator(Ean())
    validate("4006381333931")
    validate("")
    with pytest.raises(ValidationError) as excinfo:
        validate("4006381333932")
    assert excinfo.value.messages == ["Invalid EAN check digit."]


def test_facets_are_never_computed(admin_client):
    ProductFactory()
    response = admin_client.get(LIST, {"_facets": "1"})
    assert response.status_code == 200
    assert response.context["cl"].add_facets is False


def test_an_empty_queryset_is_counted_without_sql():
    with CaptureQueriesContext(connection) as queries:
        assert toolkit.estimated_count(Product.objects.none()) == (0, False)
    assert len(queries) == 0
