"""Mass assignment, generated from the route table: every write endpoint (POST/PATCH bodies and
bulk items) refuses server-owned fields, naming them; nothing is ever written from them."""

from __future__ import annotations

import re

import pytest

from catalogue.models import Product
from config.api.bulk_views import BulkBody
from config.api.routing import api_views
from jobs.models import Job
from taxonomy.models import Category
from tests.catalogue.factories import ProductFactory
from tests.clusters.factories import (
    ClusterConfigSettingFactory,
    ClusterFactory,
    ClusterOptionFactory,
    ClusterProductFactory,
)
from tests.conftest import envelope_error
from tests.taxonomy.factories import CategoryFactory
from webhooks import signing
from webhooks.models import Delivery, Subscription

pytestmark = pytest.mark.django_db

#: server-owned fields with a value of the right JSON type (so only ownership can refuse them)
SERVER_OWNED = {
    "id": 987654,
    "version": 42,
    "createdAt": "2001-01-01T00:00:00Z",
    "lastModifiedAt": "2001-01-01T00:00:00Z",
    "level": 7,
    "path": [{"id": 1}],
    "childCount": 99,
}
PRODUCT_ONLY = {"cluster": {"id": 1}}


def write_operations():
    for path, view in api_views():
        for method, op in view.operations.items():
            writes = any(scope.endswith(":write") for scope in op.scopes)
            if method in ("POST", "PATCH") and op.request is not None and writes:
                yield pytest.param(method, path, op.request, id=f"{method} {path}")


@pytest.fixture
def world(api):
    """One of each record, so every URL of the route table resolves (the webhook and its
    delivery belong to ``api``'s client)."""
    product = ProductFactory()
    category = CategoryFactory()
    setting = ClusterConfigSettingFactory()
    cluster = ClusterFactory(cluster_config=setting.config)
    ClusterProductFactory(cluster=cluster, product=product)
    option = ClusterOptionFactory(cluster=cluster)
    cluster.sources.create(source="ERP", source_id=f"K-{cluster.pk}")
    option.sources.create(source="ERP", source_id=f"O-{option.pk}")
    hook = Subscription.objects.create(
        client_id=api.client_id,
        url="https://hooks.example.com/in",
        events=["product.*"],
        secret_encrypted=signing.encrypt(signing.new_secret()),
    )
    sent = Delivery.objects.create(
        subscription=hook, event_id="e1", event_type="product.created", record_key="product:1",
        payload="{}", status="failed", attempts=1,
    )  # fmt: skip
    return {
        "webhooks": hook.pk,
        "webhook_id": hook.pk,
        "delivery_id": sent.pk,
        "products": product.pk,
        "categories": category.pk,
        "clusterconfigs": setting.config.pk,
        "clusters": cluster.pk,
        "clusteroptions": option.pk,
        "setting_id": setting.pk,
        "product_id": product.pk,
        "option_id": option.pk,
        "language": "nl",
        "attribute_name": "COLOR",
        # a job of the ``api`` client (another client's token gets 10026)
        "job_id": Job.objects.create(
            kind="bulk",
            entity="products",
            lookup_key="sourceId",
            input="world.ndjson",
            client_id=api.client_id,
        ).pk,
    }


def url_for(path: str, world: dict) -> str:
    resource = path.split("/")[2]

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name == "lookup_key" and path.endswith("/bulk"):
            # A sub-resource bulk keys its items by the URL's kind of key: sourceId items
            # upsert, so the item body (and the field under test) is validated.
            return "sourceId"
        if name in ("lookup_key", "lookupKey"):
            return (
                "sku"
                if resource == "products" and "bulk" in path
                else ("sourceId" if "bulk" in path else "id")
            )
        if name == "lookup_value":
            if path.endswith("/bulk") and "{lookup_key}" in path:
                prefix = "O" if resource == "clusteroptions" else "K"
                return f"{prefix}-{world[resource]}"
            return str(world[resource])
        return str(world[name])

    url = re.sub(r"{(\w+)}", value, path)
    return url + "?source=ERP" if path.endswith("/bulk") and "{lookup_key}" in path else url


def bulk_item(path: str) -> dict:
    if path.startswith("/v2/products"):
        return {"sku": "MASS-1"}
    return {"source": "ERP", "sourceId": "MASS-1"}


def fields_for(path: str) -> dict:
    owned = dict(SERVER_OWNED)
    if path.startswith("/v2/products"):
        owned.update(PRODUCT_ONLY)
    return owned


def snapshot():
    return (
        list(Product.objects.order_by("pk").values("pk", "version", "created_at")),
        list(Category.objects.order_by("pk").values("pk", "version", "level", "created_at")),
    )


@pytest.mark.parametrize(("method", "path", "request_schema"), list(write_operations()))
def test_server_owned_fields_are_refused(api, world, method, path, request_schema):
    url = url_for(path, world)
    send = getattr(api, method.lower())
    for name, value in fields_for(path).items():
        before = snapshot()
        if isinstance(request_schema, BulkBody):
            items_key = request_schema.resource.items_key
            response = send(url, {items_key: [{**bulk_item(path), name: value}]})
            assert response.status_code == 200, response.content
            item = response.json()["data"][0]
            assert item["success"] is False, item
            if name == "version":
                # ``version`` in a bulk item is the optimistic check, never a value to store
                assert item["error"]["code"] == 10014, item
            else:
                assert name in item["error"]["fields"], item
        else:
            response = send(url, {name: value})
            error = envelope_error(response, 400, 10007)
            assert name in error["fields"], error
            assert "Unknown field" in error["fields"][name][0]
        assert snapshot() == before, f"{method} {path} wrote something with {name}"
