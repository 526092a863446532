"""Set-based flag and status writes used by the admin's bulk actions."""

from __future__ import annotations

import pytest

from catalogue.models import Product
from catalogue.services import products_set_hidden, products_set_status
from config.api import errors
from tests.catalogue.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_set_hidden_changes_only_rows_that_differ(django_assert_num_queries):
    shown, hidden = ProductFactory(), ProductFactory(hidden=True)
    stamp = hidden.last_modified_at
    # read the rows that differ, UPDATE them, their sources and the events' INSERT (change
    # events, SPEC §19), in a savepoint (the test runs in a transaction)
    with django_assert_num_queries(6):
        assert products_set_hidden(ids=[shown.pk, hidden.pk], hidden=True) == 1
    shown.refresh_from_db()
    hidden.refresh_from_db()
    assert (shown.hidden, shown.version) == (True, 2)
    assert shown.last_modified_at > stamp
    assert (hidden.version, hidden.last_modified_at) == (1, stamp)


def test_a_queryset_selection_is_a_constant_number_of_statements_whatever_its_size(
    django_assert_num_queries,
):
    ProductFactory.create_batch(25, status="A")
    ProductFactory(status="N")
    with django_assert_num_queries(6):  # as above: one UPDATE and the change events
        changed = products_set_status(ids=Product.objects.filter(status="A"), status="P")
    assert changed == 25
    assert set(Product.objects.values_list("status", "version")) == {("P", 2), ("N", 1)}


def test_unknown_status_is_refused():
    product = ProductFactory()
    with pytest.raises(errors.SchemaValidationException) as excinfo:
        products_set_status(ids=[product.pk], status="X")
    assert "status" in excinfo.value.fields
    product.refresh_from_db()
    assert product.version == 1
