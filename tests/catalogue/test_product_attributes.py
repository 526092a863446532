from __future__ import annotations

import pytest

from catalogue.services import product_update
from tests.catalogue.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_attribute_value_types_count_as_changes():
    """1, 1.0 and true are equal in Python; the API and admin must still store the new type."""
    product = ProductFactory()
    product_update(product_id=product.pk, data={"attributes": [{"name": "X", "value": 1}]})
    updated = product_update(
        product_id=product.pk, data={"attributes": [{"name": "X", "value": True}]}
    )
    assert updated.version == 3
    assert updated.attributes.get().value is True
