"""A request that answers an error has written nothing, on every write route of the route table.

Each POST/PATCH body starts with parts that would write (a new record, a renamed one, a product
to assign) and ends with a crafted one: an id past the bigint range, a number past its column.
``POST …/products/assign`` with ``[{"id": 150}, {"id": 2**64}]`` used to move product 150 and
then answer 500. Bulk routes are all-or-nothing under ``?atomic=true`` (422), and a crafted
trailing ``directives`` refuses the whole request; DELETE routes get the crafted id in the path.
Every catalogue table is compared before and after."""

from __future__ import annotations

import re

import orjson
import pytest
from django.apps import apps

from config.api.bulk_views import BulkBody
from config.api.routing import api_views
from tests.api.test_mass_assignment import url_for, world  # noqa: F401  (fixture)
from tests.catalogue.factories import ProductFactory
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db

HUGE = 2**64
#: orjson writes integers up to 64 bits; the placeholder becomes the number in the text
_HUGE = "__HUGE__"
NAMES = [{"language": "EN", "value": "Crafted"}]
_LONG = "x" * 10_001  # one character past an attribute value's bound
APPS = ("catalogue", "taxonomy", "clusters", "integrations", "records", "api", "webhooks")
#: routes answering one outcome per item (SPEC 10.1), where a bad item is that item's error
PER_ITEM = {
    "/v2/categories/{lookup_key}/{lookup_value}/add-products-clusters",
    "/v2/categories/{lookup_key}/{lookup_value}/remove-products-clusters",
}

#: (method, route) → the body: parts that would write, then the crafted last part
BODIES: dict[tuple[str, str], object] = {
    # an import's body is a file (NDJSON or CSV): a JSON body is refused before anything runs
    ("POST", "/v2/imports"): {"products": [{"names": NAMES, "sku": "NEW"}], "x": _HUGE},
    ("POST", "/v2/products"): {"names": NAMES, "sku": "NEW", "parent": {"id": _HUGE}},
    ("PATCH", "/v2/products/{lookup_key}/{lookup_value}"): {
        "priority": 9,
        "names": NAMES,
        "parent": {"id": _HUGE},
    },
    ("POST", "/v2/categories"): {"names": NAMES, "parent": {"id": _HUGE}},
    ("PATCH", "/v2/categories/{lookup_key}/{lookup_value}"): {
        "priority": 9,
        "names": NAMES,
        "parent": {"id": _HUGE},
    },
    ("POST", "/v2/categories/{lookup_key}/{lookup_value}/move"): {
        "position": "first-child",
        "target": {"id": _HUGE},
    },
    ("POST", "/v2/categories/{lookup_key}/{lookup_value}/add-products-clusters"): {
        "products": [{"id": "{free}"}, {"id": _HUGE}]
    },
    ("POST", "/v2/categories/{lookup_key}/{lookup_value}/remove-products-clusters"): {
        "products": [{"id": "{linked}"}, {"id": _HUGE}]
    },
    ("POST", "/v2/clusterconfigs"): {
        "name": "New config",
        "settings": [{"attributeName": "COLOR"}, {"attributeName": "SIZE", "priority": _HUGE}],
    },
    ("PATCH", "/v2/clusterconfigs/{lookup_key}/{lookup_value}"): {
        "name": "Renamed config",
        "settings": [{"attributeName": "COLOR"}, {"attributeName": "SIZE", "priority": _HUGE}],
    },
    ("POST", "/v2/clusterconfigs/{lookup_key}/{lookup_value}/settings"): {
        "attributeName": "WEIGHT",
        "priority": _HUGE,
    },
    ("PATCH", "/v2/clusterconfigs/{lookup_key}/{lookup_value}/settings/{setting_id}"): {
        "attributeName": "RENAMED",
        "priority": _HUGE,
    },
    ("POST", "/v2/clusters"): {
        "names": NAMES,
        "code": "NEW-CLUSTER",
        "clusterConfig": {"id": "{config}"},
        "parent": {"id": _HUGE},
    },
    ("PATCH", "/v2/clusters/{lookup_key}/{lookup_value}"): {
        "priority": 9,
        "names": NAMES,
        "defaultProduct": {"id": _HUGE},
    },
    ("POST", "/v2/clusters/{lookup_key}/{lookup_value}/products"): {
        "names": NAMES,
        "sku": "NEW-IN-CLUSTER",
        "parent": {"id": _HUGE},
    },
    ("POST", "/v2/clusters/{lookup_key}/{lookup_value}/products/assign"): {
        "products": [{"id": "{free}"}, {"id": _HUGE}]
    },
    ("POST", "/v2/clusters/{lookup_key}/{lookup_value}/products/unassign"): {
        "products": [{"id": "{product}"}],
        "target": {"category": {"id": _HUGE}},
    },
    ("PATCH", "/v2/clusters/{lookup_key}/{lookup_value}/products/{product_id}"): {
        "priority": 9,
        "names": NAMES,
        "parent": {"id": _HUGE},
    },
    ("POST", "/v2/clusters/{lookup_key}/{lookup_value}/options"): {
        "names": NAMES,
        "defaultProduct": {"id": _HUGE},
    },
    ("PATCH", "/v2/clusters/{lookup_key}/{lookup_value}/options/{option_id}"): {
        "priority": 9,
        "names": NAMES,
        "defaultProduct": {"id": _HUGE},
    },
    ("PATCH", "/v2/clusteroptions/{lookup_key}/{lookup_value}"): {
        "priority": 9,
        "names": NAMES,
        "defaultProduct": {"id": _HUGE},
    },
    ("POST", "/v2/clusteroptions/{lookup_key}/{lookup_value}/products/assign"): {
        "products": [{"id": "{free}"}, {"id": _HUGE}]
    },
    ("POST", "/v2/clusteroptions/{lookup_key}/{lookup_value}/products/unassign"): {
        "products": [{"id": "{product}"}, {"id": _HUGE}]
    },
    # attribute routes (SPEC 22): a value that would be written, then one past its bound
    ("POST", "/v2/products/{lookup_key}/{lookup_value}/attributes"): {
        "attributes": [{"name": "COLOR", "value": "red"}, {"name": "SIZE", "value": _LONG}]
    },
    ("POST", "/v2/clusters/{lookup_key}/{lookup_value}/attributes"): {
        "attributes": [{"name": "COLOR", "value": "red"}, {"name": "SIZE", "value": _LONG}]
    },
    # webhooks (SPEC 20): a valid start, then a field past its bound or one the route lacks
    ("POST", "/v2/webhooks"): {
        "url": "https://hooks.example.com/new",
        "events": ["product.*"],
        "description": _LONG,
    },
    ("PATCH", "/v2/webhooks/{webhook_id}"): {"events": ["category.*"], "active": _HUGE},
    ("POST", "/v2/webhooks/{webhook_id}/test"): {"unexpected": _HUGE},
    ("POST", "/v2/webhooks/{webhook_id}/rotate-secret"): {"unexpected": _HUGE},
    ("POST", "/v2/webhooks/{webhook_id}/deliveries/{delivery_id}/replay"): {"unexpected": _HUGE},
}

#: bulk routes: one item that would be created, then the crafted item
BULK_ITEMS: dict[str, tuple[dict, dict]] = {
    "/v2/products/bulk/{lookupKey}": (
        {"sku": "NEW-1", "names": NAMES},
        {"sku": "NEW-2", "names": NAMES, "parent": {"id": _HUGE}},
    ),
    "/v2/categories/bulk/{lookupKey}": (
        {"source": "ERP", "sourceId": "NEW-1", "names": NAMES},
        {"source": "ERP", "sourceId": "NEW-2", "names": NAMES, "parent": {"id": _HUGE}},
    ),
    "/v2/clusters/bulk/{lookupKey}": (
        {"source": "ERP", "sourceId": "NEW-1", "names": NAMES, "clusterConfig": {"id": "{config}"}},
        {"source": "ERP", "sourceId": "NEW-2", "names": NAMES, "clusterConfig": {"id": _HUGE}},
    ),
    "/v2/clusters/{lookup_key}/{lookup_value}/products/bulk": (
        {"source": "ERP", "sourceId": "NEW-1", "names": NAMES},
        {"source": "ERP", "sourceId": "NEW-2", "names": NAMES, "version": _HUGE},
    ),
    "/v2/clusters/{lookup_key}/{lookup_value}/options/bulk": (
        {"source": "ERP", "sourceId": "NEW-1", "names": NAMES},
        {"source": "ERP", "sourceId": "NEW-2", "names": NAMES, "defaultProduct": {"id": _HUGE}},
    ),
    "/v2/clusteroptions/{lookup_key}/{lookup_value}/products/bulk": (
        {"source": "ERP", "sourceId": "NEW-1", "names": NAMES},
        {"source": "ERP", "sourceId": "NEW-2", "names": NAMES, "version": _HUGE},
    ),
}


def write_operations():
    for path, view in api_views():
        for method, op in view.operations.items():
            if method != "GET" and any(scope.endswith(":write") for scope in op.scopes):
                yield method, path, op


def params(kind: str):
    return [
        pytest.param(method, path, op, id=f"{method} {path}")
        for method, path, op in write_operations()
        if kind == ("bulk" if isinstance(op.request, BulkBody) else method)
    ]


def test_every_write_operation_has_a_crafted_request():
    declared = {(m, p) for m, p, _ in write_operations()}
    crafted = set(BODIES) | {("POST", p) for p in BULK_ITEMS}
    deletes = {(m, p) for m, p in declared if m == "DELETE"}
    assert declared - deletes == crafted


def snapshot() -> dict[str, list[dict]]:
    """Every row of every catalogue table."""
    tables = {}
    for label in APPS:
        for model in apps.get_app_config(label).get_models():
            tables[model._meta.db_table] = list(model._base_manager.order_by("pk").values())
    return tables


@pytest.fixture
def places(world):  # noqa: F811
    """The records of ``world`` plus products in no cluster, by name for the bodies."""
    return {
        **world,
        "free": ProductFactory().pk,
        "linked": ProductFactory(parent=CategoryFactory()).pk,
        "product": world["products"],
        "config": world["clusterconfigs"],
    }


def text(body: object, places: dict) -> bytes:
    raw = orjson.dumps(body).decode().replace(f'"{_HUGE}"', str(HUGE))
    return re.sub(r'"\{(\w+)\}"', lambda m: str(places[m.group(1)]), raw).encode()


def assert_refused(response, statuses=range(400, 500)) -> None:
    assert response.status_code in statuses, response.content
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize(("method", "path", "op"), params("POST") + params("PATCH"))
def test_a_crafted_last_field_writes_nothing(api, places, method, path, op):
    url = url_for(path, places)
    body = BODIES[(method, path)]
    send = getattr(api, method.lower())
    if path in PER_ITEM:
        # SPEC 10.1: one bad item never blocks the others; the crafted one is its own error
        response = send(url, text(body, places))
        assert response.status_code == 200, response.content
        outcome = response.json()["data"][-1]
        assert (outcome["success"], outcome["error"]["code"]) == (False, 10007), outcome
        body = {"products": body["products"][-1:]}
    before = snapshot()
    response = send(url, text(body, places))
    if path not in PER_ITEM:
        assert_refused(response)
    assert snapshot() == before, f"{method} {path} wrote before answering {response.status_code}"


@pytest.mark.parametrize(("method", "path", "op"), params("bulk"))
def test_a_crafted_last_bulk_item_writes_nothing_atomically(api, places, method, path, op):
    url = url_for(path, places)
    url += ("&" if "?" in url else "?") + "atomic=true"
    items_key = op.request.resource.items_key
    before = snapshot()
    response = api.post(url, text({items_key: list(BULK_ITEMS[path])}, places))
    assert_refused(response, (422,))
    outcomes = response.json()["data"]
    assert [o["success"] for o in outcomes] == [False, False], outcomes
    assert outcomes[0].get("reason") == "rolledBack", outcomes
    assert snapshot() == before, f"{path} wrote under ?atomic=true"


@pytest.mark.parametrize(("method", "path", "op"), params("bulk"))
def test_crafted_trailing_directives_write_nothing(api, places, method, path, op):
    url = url_for(path, places)
    items_key = op.request.resource.items_key
    before = snapshot()
    body = {items_key: [BULK_ITEMS[path][0]], "directives": {"skipCreate": _HUGE}}
    response = api.post(url, text(body, places))
    assert_refused(response, (400,))
    assert snapshot() == before, f"{path} wrote before refusing its directives"


@pytest.mark.parametrize(("method", "path", "op"), params("DELETE"))
def test_a_crafted_path_id_deletes_nothing(api, places, method, path, op):
    names = re.findall(r"{(\w+)}", path)
    last_id = [n for n in names if n.endswith("_id")] or ["lookup_value"]
    url = url_for(path, {**places, **{n: HUGE for n in last_id}})
    if last_id == ["lookup_value"]:
        url = re.sub(r"^(/v2/\w+/id/)\d+", rf"\g<1>{HUGE}", url)
    assert str(HUGE) in url, url
    before = snapshot()
    response = api.delete(url)
    assert_refused(response, (404,))
    assert snapshot() == before
