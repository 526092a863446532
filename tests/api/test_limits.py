from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import override_settings

from catalogue.models import Product
from tests.conftest import envelope_error

pytestmark = pytest.mark.django_db
BODY = {"names": [{"language": "EN", "value": "Shoe"}], "source": "ERP", "sourceId": "S-1"}


@pytest.fixture(autouse=True)
def clear_cache():
    cache.clear()
    yield
    cache.clear()


@override_settings(RATE_LIMIT_PER_MINUTE=3)
def test_rate_limit_per_client_with_headers(client_with_scopes):
    api = client_with_scopes("products:read")
    other = client_with_scopes("products:read")
    remaining = [int(api.get("/v2/products")["RateLimit-Remaining"]) for _ in range(3)]
    assert remaining == [2, 1, 0]
    response = api.get("/v2/products")
    envelope_error(response, 429, 10012)
    assert int(response["Retry-After"]) >= 1
    assert response["RateLimit-Limit"] == "3" and response["RateLimit-Remaining"] == "0"
    assert other.get("/v2/products").status_code == 200  # budgets are per client


@override_settings(RATE_LIMIT_PER_MINUTE=0)
def test_rate_limit_zero_disables(api):
    response = api.get("/v2/products")
    assert response.status_code == 200 and not response.has_header("RateLimit-Limit")


def test_idempotent_create_is_replayed_byte_for_byte(api):
    headers = {"Idempotency-Key": "k-1"}
    first = api.post("/v2/products", BODY, headers=headers)
    second = api.post("/v2/products", BODY, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.content == second.content
    assert second["Location"] == first["Location"] and second["Idempotent-Replayed"] == "true"
    assert Product.objects.count() == 1


def test_idempotency_key_with_other_body_is_422(api):
    api.post("/v2/products", BODY, headers={"Idempotency-Key": "k-2"})
    response = api.post(
        "/v2/products", {**BODY, "sourceId": "S-2"}, headers={"Idempotency-Key": "k-2"}
    )
    envelope_error(response, 422, 10023)
    too_long = api.post("/v2/products", BODY, headers={"Idempotency-Key": "x" * 256})
    assert "Idempotency-Key" in envelope_error(too_long, 400, 10007)["fields"]


def test_idempotency_keys_are_per_client(client_with_scopes):
    one, two = (client_with_scopes("products:write", "products:read") for _ in range(2))
    assert one.post("/v2/products", BODY, headers={"Idempotency-Key": "same"}).status_code == 201
    other = two.post(
        "/v2/products", {**BODY, "sourceId": "S-9"}, headers={"Idempotency-Key": "same"}
    )
    assert other.status_code == 201
