"""``GET /v2/changes`` (SPEC §19): filters, cursors, scopes, retention."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from changes.feed import Position, prune
from changes.models import ChangeEvent
from changes.tasks import prune_change_events
from config.api.scopes import ALL_SCOPES
from tests.catalogue.factories import ProductFactory
from tests.changes.helpers import events, feed
from tests.conftest import envelope_error
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api(client_with_scopes):
    return client_with_scopes(*ALL_SCOPES)


def name(value):
    return [{"language": "EN", "value": value}]


def write_some(api):
    product = api.post("/v2/products", {"names": name("P"), "source": "ERP", "sourceId": "P1"})
    category = api.post("/v2/categories", {"names": name("C"), "source": "PIM", "sourceId": "C1"})
    assert product.status_code == category.status_code == 201
    return product.json()["data"]["id"], category.json()["data"]["id"]


def test_an_empty_feed_still_gives_a_cursor_to_poll_with(api):
    body = feed(api)
    assert body["data"] == [] and body["pagination"]["nextCursor"]
    start = body["pagination"]["nextCursor"]
    write_some(api)
    assert len(events(api, after=start)) == 2


def test_pages_follow_the_cursor_exactly_once(api):
    for i in range(5):
        ProductFactory()
        api.post("/v2/products", {"names": name(f"P{i}")})
    seen, after = [], None
    while True:
        body = feed(api, pageSize=2, **({"after": after} if after else {}))
        if not body["data"]:
            break
        assert body["pagination"]["next"].endswith(f"after={body['pagination']['nextCursor']}")
        seen += [e["id"] for e in body["data"]]
        after = body["pagination"]["nextCursor"]
    assert len(seen) == len(set(seen)) == 5 and seen == sorted(seen)


def test_filters(api):
    product_id, category_id = write_some(api)
    api.patch(f"/v2/products/id/{product_id}", {"sku": "X"})
    assert [e["entity"] for e in events(api, entity="category")] == ["category"]
    assert [e["action"] for e in events(api, entity="product", action="updated")] == ["updated"]
    assert {e["entity"] for e in events(api, source="PIM")} == {"category"}
    assert len(events(api, entity="product", recordId=product_id)) == 2
    later = (timezone.now() + timedelta(minutes=1)).isoformat()
    assert events(api, since=later) == []
    assert len(events(api, since="2000-01-01T00:00:00Z")) == 3


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"entity": "widget"}, 10007),
        ({"action": "exploded"}, 10007),
        ({"recordId": "1"}, 10007),
        ({"since": "yesterday"}, 10007),
        ({"pageSize": "1001"}, 10015),
        ({"after": "nonsense"}, 10015),
        ({"colour": "red"}, 10007),
    ],
)
def test_bad_parameters_are_400(api, params, code):
    envelope_error(api.get("/v2/changes", params), 400, code)


def test_a_token_reads_only_the_entities_it_may_read(client_with_scopes, api):
    write_some(api)
    products_only = client_with_scopes("products:read")
    assert {e["entity"] for e in events(products_only)} == {"product"}
    envelope_error(products_only.get("/v2/changes", {"entity": "category"}), 403, 10002)
    no_read = client_with_scopes("products:write")
    envelope_error(no_read.get("/v2/changes"), 403, 10002)


def test_a_cursor_older_than_the_retention_is_410(api, settings):
    settings.CHANGES_RETENTION_DAYS = 30
    old = timezone.now() - timedelta(days=31)
    stale = Position(0, 1, int(old.timestamp() * 1000)).token()
    envelope_error(api.get("/v2/changes", {"after": stale}), 410, 10024)


def test_prune_deletes_events_older_than_the_retention(api, settings):
    settings.CHANGES_RETENTION_DAYS = 30
    write_some(api)
    ChangeEvent.objects.filter(entity="product").update(at=timezone.now() - timedelta(days=31))
    assert prune_change_events() == 1  # the beat task
    assert list(ChangeEvent.objects.values_list("entity", flat=True)) == ["category"]
    assert prune() == 0


def test_history_routes_newest_first(api):
    product_id, category_id = write_some(api)
    api.patch(f"/v2/products/id/{product_id}", {"sku": "X"})
    response = api.get(f"/v2/products/id/{product_id}/history")
    assert response.status_code == 200, response.content
    assert [e["action"] for e in response.json()["data"]] == ["updated", "created"]
    response = api.get("/v2/categories/sourceId/C1/history", {"source": "PIM"})
    assert [e["action"] for e in response.json()["data"]] == ["created"]
    category = CategoryFactory()
    assert api.get(f"/v2/categories/id/{category.pk}/history").json()["data"] == []


def test_history_needs_the_entity_read_scope(client_with_scopes, api):
    product_id, _ = write_some(api)
    envelope_error(
        client_with_scopes("categories:read").get(f"/v2/products/id/{product_id}/history"),
        403,
        10002,
    )


def test_a_page_of_1000_events_is_one_statement(api):
    """SPEC §19 performance: the page is read with one statement whatever its size (the
    visibility horizon is evaluated inside it), not one per event or per field."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    body = {
        "products": [
            {"names": name(f"P{i}"), "source": "ERP", "sourceId": f"S{i}"} for i in range(1000)
        ]
    }
    assert api.post("/v2/products/bulk/sourceId", body).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        page = feed(api, pageSize=1000)
    assert len(page["data"]) == 1000
    reads = [q["sql"] for q in queries.captured_queries if "changes_changeevent" in q["sql"]]
    assert len(reads) == 1, reads
