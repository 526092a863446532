"""Two simultaneous creates racing for a slug, code, name or source pair: 201 and 201 with a
numbered slug, or 201 and 409 — never a 500 (issue 14: 20 of 20 pairs answered 201 + 500)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from catalogue.models import Product
from clusters.models import Cluster, ClusterConfig, ClusterOption
from taxonomy.models import Category
from tests.clusters.factories import ClusterConfigFactory, ClusterFactory
from tests.conftest import ApiClient

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
PAIRS = 20
SETTINGS = [{"attributeName": "COLOR", "displayType": "color", "priority": 1}]


def race(api: ApiClient, path, body_of) -> list[list]:
    """Send ``PAIRS`` pairs of simultaneous POSTs; each pair's (status, body) answers.

    ``path`` is a string, or a function of the sender (0 or 1) giving each its own route."""
    results = []
    for n in range(PAIRS):
        barrier, answers = threading.Barrier(2), [None, None]

        def send(i: int, n: int = n, barrier=barrier, answers=answers) -> None:
            client = ApiClient(api.token)
            try:
                barrier.wait(5)
                url = path(i) if callable(path) else path
                response = client.post(url, body_of(n, i))
                answers[i] = (response.status_code, response.json())
            finally:
                connection.close()

        threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        results.append(answers)
    return results


def names(n: int) -> list[dict]:
    return [{"language": "EN", "value": f"Same Name {n}"}]


def test_products_with_the_same_name_both_get_a_slug(api):
    results = race(api, "/v2/products", lambda n, i: {"names": names(n)})
    for n, answers in enumerate(results):
        assert [status for status, _ in answers] == [201, 201], answers
        slugs = {body["data"]["slugs"][0]["value"] for _, body in answers}
        assert slugs == {f"same-name-{n}", f"same-name-{n}-2"}
    assert Product.objects.count() == 2 * PAIRS


def test_products_with_the_same_source_pair_answer_201_and_409(api):
    results = race(
        api, "/v2/products", lambda n, i: {"names": names(i), "source": "ERP", "sourceId": f"P{n}"}
    )
    for answers in results:
        assert sorted(status for status, _ in answers) == [201, 409], answers
        conflict = next(body for status, body in answers if status == 409)
        assert conflict["error"]["code"] == 80004
    assert Product.objects.count() == PAIRS


def test_categories_with_the_same_name_both_get_a_slug(api):
    race(api, "/v2/categories", lambda n, i: {"names": names(n)})
    slugs = list(Category.objects.values_list("slug_en", flat=True))
    assert len(slugs) == len(set(slugs)) == 2 * PAIRS


def test_clusters_with_the_same_name_or_code(api):
    config = ClusterConfigFactory(name="shirts")
    same_name = race(
        api, "/v2/clusters", lambda n, i: {"names": names(n), "clusterConfig": {"id": config.pk}}
    )
    assert all([s for s, _ in answers] == [201, 201] for answers in same_name), same_name
    same_code = race(
        api,
        "/v2/clusters",
        lambda n, i: {"names": names(100 + i), "clusterConfig": {"id": config.pk}, "code": f"C{n}"},
    )
    for answers in same_code:
        assert sorted(status for status, _ in answers) == [201, 409], answers
        assert next(b for s, b in answers if s == 409)["error"]["code"] == 20004
    assert Cluster.objects.count() == 3 * PAIRS


def test_options_and_configs_racing_for_their_keys(api):
    clusters = [ClusterFactory(), ClusterFactory()]  # one option create locks its cluster
    options = race(
        api,
        lambda i: f"/v2/clusters/id/{clusters[i].pk}/options",
        lambda n, i: {"names": names(n), "source": "ERP", "sourceId": f"O{n}"},
    )
    for answers in options:
        assert sorted(status for status, _ in answers) == [201, 409], answers
        assert next(b for s, b in answers if s == 409)["error"]["code"] == 22004
    assert ClusterOption.objects.count() == PAIRS
    configs = race(
        api, "/v2/clusterconfigs", lambda n, i: {"name": f"race_{n}", "settings": SETTINGS}
    )
    for answers in configs:
        assert sorted(status for status, _ in answers) == [201, 409], answers
        assert next(b for s, b in answers if s == 409)["error"]["code"] == 21004
    assert ClusterConfig.objects.filter(name__startswith="race_").count() == PAIRS
