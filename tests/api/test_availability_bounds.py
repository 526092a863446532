"""Availability bounds against a valid low-privilege token (issue 15, SPEC §18): the work one
request may ask for is bounded — attribute filters, search terms, attribute values."""

from __future__ import annotations

import pytest

from catalogue.filtersets import MAX_ATTRIBUTE_FILTERS
from catalogue.models import ProductAttribute
from tests.catalogue.factories import ProductFactory
from tests.conftest import envelope_error

pytestmark = pytest.mark.django_db


# --- attribute.* list filters ---------------------------------------------------------------


def _attribute_filters(count: int) -> dict[str, str]:
    return {f"attribute.A{index:03d}": "x" for index in range(count)}


def test_twenty_attribute_filters_are_answered(client_with_scopes):
    reader = client_with_scopes("products:read")
    match, other = ProductFactory(), ProductFactory()
    for index in range(MAX_ATTRIBUTE_FILTERS):
        ProductAttribute.objects.create(
            product=match, position=index, name=f"A{index:03d}", value="x", value_text="x"
        )
    ProductAttribute.objects.create(
        product=other, position=0, name="A000", value="x", value_text="x"
    )
    assert MAX_ATTRIBUTE_FILTERS == 20
    response = reader.get("/v2/products", _attribute_filters(MAX_ATTRIBUTE_FILTERS))
    assert response.status_code == 200, response.content
    assert [item["id"] for item in response.json()["data"]] == [match.pk]


@pytest.mark.parametrize("count", [MAX_ATTRIBUTE_FILTERS + 1, 250, 999])
def test_more_attribute_filters_are_refused_naming_the_parameters(client_with_scopes, count):
    reader = client_with_scopes("products:read")
    response = reader.get("/v2/products", _attribute_filters(count))
    error = envelope_error(response, 400, 10007)
    assert sorted(error["fields"]) == [f"attribute.A{i:03d}" for i in range(20, count)]
    assert "At most 20 attribute filters" in error["fields"]["attribute.A020"][0]


def test_search_body_takes_twenty_attribute_filters_too(client_with_scopes):
    searcher = client_with_scopes("search:read")
    wanted = [{"name": f"A{index:03d}", "value": "x"} for index in range(21)]
    response = searcher.post("/v2/products/search", {"attributes": wanted[:20]})
    assert response.status_code == 200, response.content
    error = envelope_error(searcher.post("/v2/products/search", {"attributes": wanted}), 400, 10007)
    assert "attributes" in error["fields"]
