"""The back office under hostile input (issue 15): attribute bounds on the product form, search
bounded on every change list, malformed list filter values answered without a 500."""

from __future__ import annotations

import pytest

from catalogue.api.serializers import ATTRIBUTE_VALUE_MAX_LENGTH, ATTRIBUTES_MAX_BYTES
from catalogue.models import Product
from tests.admin.test_products_admin import ADD, add_form

pytestmark = pytest.mark.django_db


def test_attribute_value_over_the_bound_is_an_inline_error(admin_client):
    data = add_form(admin_client, **{"attributes-0-value": "x" * (ATTRIBUTE_VALUE_MAX_LENGTH + 1)})
    response = admin_client.post(ADD, data)
    assert response.status_code == 200
    assert f"At most {ATTRIBUTE_VALUE_MAX_LENGTH:,} characters." in response.content.decode()
    assert not Product.objects.exists()


def test_attribute_list_over_the_size_bound_is_a_formset_error(admin_client):
    size = ATTRIBUTE_VALUE_MAX_LENGTH - 1000
    count = ATTRIBUTES_MAX_BYTES // size + 1
    rows = {"attributes-TOTAL_FORMS": str(count)}
    for index in range(count):
        rows[f"attributes-{index}-name"] = f"A{index}"
        rows[f"attributes-{index}-value"] = "y" * size
    response = admin_client.post(ADD, add_form(admin_client, **rows))
    assert response.status_code == 200
    assert f"At most {ATTRIBUTES_MAX_BYTES:,} bytes as JSON." in response.content.decode()
    assert not Product.objects.exists()
    within = {**rows, "attributes-TOTAL_FORMS": str(count - 2)}  # 110 × 9,000 + JSON < 1 MB
    response = admin_client.post(ADD, add_form(admin_client, **within))
    assert response.status_code == 302, response.context["inline_admin_formsets"][1].formset.errors
    assert Product.objects.get().attributes.count() == count - 2
