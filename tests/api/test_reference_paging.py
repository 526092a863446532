"""The reference API's paging, ``page`` + ``offset`` (SPEC §22), on every list of the route table."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from changes.models import ChangeEvent
from config.api.routing import api_views
from jobs.models import Job, JobOutcome
from tests.catalogue.factories import ProductFactory
from tests.clusters.factories import (
    ClusterConfigFactory,
    ClusterConfigSettingFactory,
    ClusterFactory,
    ClusterOptionFactory,
    OptionProductFactory,
    members,
)
from tests.conftest import envelope_error
from tests.taxonomy.factories import CategoryFactory
from webhooks import signing
from webhooks.models import Delivery, Subscription

pytestmark = pytest.mark.django_db

#: every list route of the service; the test below fails when a new one is not covered here.
#: The change feed is the one list without page paging: it is keyset-paged by event (``after``,
#: SPEC §19), since positions in a log that grows at its head and is pruned at its tail shift.
LIST_ROUTES = sorted(
    path
    for path, view in api_views()
    if "GET" in view.operations and view.operations["GET"].many and path != "/v2/changes"
)
HISTORY_ENTITIES = {
    "products": "product",
    "categories": "category",
    "clusters": "cluster",
    "clusterconfigs": "clusterConfig",
    "clusteroptions": "clusterOption",
}


def own_jobs(client_id: str) -> Job:
    """Six jobs of the client, the last with six outcomes."""
    jobs = [
        Job.objects.create(
            kind="bulk", entity="products", lookup_key="sourceId", input="x", client_id=client_id
        )
        for _ in range(6)
    ]
    JobOutcome.objects.bulk_create(
        JobOutcome(job=jobs[-1], index=n, action="create", line=n + 1,
                   outcome={"index": n, "action": "create", "id": 100 + n, "lookupKey": "sourceId",
                            "key": f"K-{n}", "success": True})
        for n in range(6)
    )  # fmt: skip
    return jobs[-1]


@pytest.fixture
def lists(api):
    """At least five rows in every list, and the concrete path of each list route (the
    webhooks and their deliveries belong to ``api``'s client)."""
    job = own_jobs(api.client_id)
    category = CategoryFactory()
    CategoryFactory.create_batch(5, parent=category)
    ProductFactory.create_batch(5, parent=category)
    config = ClusterConfigSettingFactory().config
    ClusterConfigSettingFactory.create_batch(4, config=config)
    ClusterConfigFactory.create_batch(4)
    clusters = ClusterFactory.create_batch(5, parent=category, cluster_config=config)
    cluster = clusters[0]
    members(cluster, 5)
    options = ClusterOptionFactory.create_batch(5, cluster=cluster)
    OptionProductFactory.create_batch(5, option=options[0])
    hooks = [
        Subscription.objects.create(
            client_id=api.client_id, url=f"https://hooks.example.com/{i}", events=["product.*"],
            secret_encrypted=signing.encrypt(signing.new_secret()),
        )
        for i in range(5)
    ]  # fmt: skip
    Delivery.objects.bulk_create(
        Delivery(
            subscription=hooks[0], event_id=f"e{i}", event_type="product.created",
            record_key=f"product:{i}", payload="{}",
        )
        for i in range(5)
    )  # fmt: skip
    ids = {
        "webhooks": hooks[0].pk,
        "categories": category.pk,
        "clusterconfigs": config.pk,
        "clusters": cluster.pk,
        "clusteroptions": options[0].pk,
        "products": ProductFactory(parent=category).pk,
    }
    paths = {}
    for route in LIST_ROUTES:
        collection = route.split("/")[2]
        if route.endswith("/history"):  # factories write no events: give each record six
            ChangeEvent.objects.bulk_create(
                ChangeEvent(
                    entity=HISTORY_ENTITIES[collection],
                    action=ChangeEvent.Action.UPDATED,
                    record_id=ids[collection],
                    version=version,
                    actor_kind="system",
                )
                for version in range(2, 8)
            )
        paths[route] = (
            route.replace("{lookup_key}", "id")
            .replace("{lookup_value}", str(ids.get(collection, 0)))
            .replace("{webhook_id}", str(ids["webhooks"]))
            .replace("{job_id}", str(job.pk))
        )
    return paths


def _ids(response) -> list[int]:
    return [row["id"] for row in response.json()["data"]]


def test_every_list_route_is_covered(lists):
    assert len(LIST_ROUTES) >= 11
    assert all("{" not in path for path in lists.values())


@pytest.mark.parametrize("route", LIST_ROUTES)
def test_page_and_offset_page_through_every_list(api, lists, route):
    path = lists[route]
    walked = _ids(api.get(path, {"pageSize": 500}))
    total = len(walked)
    assert total >= 5, route

    pages, seen = -(-total // 2), []
    for number in range(1, pages + 1):
        response = api.get(path, {"page": str(number), "offset": "2"})
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["messages"] == []
        start = 2 * number - 1
        assert body["pagination"] == {
            "page": number,
            "offset": 2,
            "start": start,
            "end": min(start + 1, total),
            "total": total,
        }
        seen += _ids(response)
    assert seen == walked

    past = api.get(path, {"page": pages + 1, "offset": 2}).json()
    assert past["data"] == []
    assert past["pagination"] == {
        "page": pages + 1,
        "offset": 2,
        "start": 0,
        "end": 0,
        "total": total,
    }


@pytest.mark.parametrize("route", LIST_ROUTES)
def test_page_paging_is_refused_beside_cursor_paging_and_past_ten_thousand_rows(api, lists, route):
    path = lists[route]
    cursor = api.get(path, {"pageSize": 1}).json()["pagination"]["nextCursor"]
    error = envelope_error(api.get(path, {"page": 2, "cursor": cursor}), 400, 10015)
    assert set(error["fields"]) == {"cursor"}
    error = envelope_error(api.get(path, {"offset": 5, "pageSize": 5}), 400, 10015)
    assert set(error["fields"]) == {"pageSize"}
    error = envelope_error(api.get(path, {"page": 834, "offset": 12}), 400, 10015)
    assert "cursor paging" in error["messages"][0]
    assert set(error["fields"]) == {"page"}
    assert api.get(path, {"page": 20, "offset": 500}).status_code == 200  # rows 9501-10000


def test_offset_defaults_to_twelve_and_page_to_one(api):
    ProductFactory.create_batch(14)
    body = api.get("/v2/products", {"page": 2}).json()
    assert body["pagination"] == {"page": 2, "offset": 12, "start": 13, "end": 14, "total": 14}
    assert len(body["data"]) == 2
    body = api.get("/v2/products", {"offset": 5}).json()
    assert body["pagination"] == {"page": 1, "offset": 5, "start": 1, "end": 5, "total": 14}
    assert "nextCursor" not in body["pagination"]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"page": 0}, "page"),
        ({"page": "x"}, "page"),
        ({"page": 10_001}, "page"),
        ({"offset": 0}, "offset"),
        ({"offset": 501}, "offset"),
        ({"page": "1.5"}, "page"),
    ],
)
def test_bad_page_or_offset_is_10015_naming_it(api, params, field):
    error = envelope_error(api.get("/v2/products", params), 400, 10015)
    assert set(error["fields"]) == {field}


def test_page_paging_keeps_sort_filters_and_language(api):
    category = CategoryFactory()
    products = [ProductFactory(parent=category, priority=p) for p in (3, 1, 2)]
    ProductFactory(priority=9)  # outside the filter
    response = api.get(
        "/v2/products",
        {"category": category.pk, "sort": "-priority", "page": 1, "offset": 2, "language": "en"},
    )
    body = response.json()
    assert [r["id"] for r in body["data"]] == [products[0].pk, products[2].pk]
    assert body["pagination"]["total"] == 3
    assert {n["language"] for r in body["data"] for n in r["names"]} == {"EN"}


def test_page_paging_costs_one_count_more_than_a_cursor_page(api):
    ProductFactory.create_batch(30)
    api.get("/v2/products")  # the token check is cached from here on
    with CaptureQueriesContext(connection) as cursor_page:
        assert api.get("/v2/products", {"pageSize": 12}).status_code == 200
    with CaptureQueriesContext(connection) as numbered_page:
        assert api.get("/v2/products", {"page": 2, "offset": 12}).status_code == 200
    assert len(numbered_page) == len(cursor_page) + 1
    with CaptureQueriesContext(connection) as last_page:  # a short page shows the total itself
        assert api.get("/v2/products", {"page": 3, "offset": 12}).status_code == 200
    assert len(last_page) == len(cursor_page)
