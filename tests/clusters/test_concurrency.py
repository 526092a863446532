"""Concurrent writers on PostgreSQL: the one-home rule holds and nobody sees a deadlock."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from clusters.models import Cluster, ClusterProduct
from tests.catalogue.factories import ProductFactory
from tests.clusters.factories import ClusterFactory, members

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(calls) -> list:
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(index: int, call) -> None:
        try:
            barrier.wait(10)
            results[index] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_concurrent_assigns_of_the_same_products_leave_each_in_one_cluster(api):
    clusters = ClusterFactory.create_batch(6)
    products = ProductFactory.create_batch(5)
    # every request names the products in a different order
    refs = [[{"id": p.pk} for p in products[i % 5 :] + products[: i % 5]] for i in range(6)]
    responses = run_together(
        [
            (lambda c=c, r=r: api.post(f"/v2/clusters/id/{c.pk}/products/assign", {"products": r}))
            for c, r in zip(clusters, refs, strict=True)
        ]
    )
    assert [r.status_code for r in responses] == [200] * 6
    for product in products:
        assert ClusterProduct.objects.filter(product=product).count() == 1
        product.refresh_from_db()
        assert product.version == 7  # one new version per move, none lost


def test_assign_racing_a_cluster_delete_never_fails_with_a_server_error(api):
    doomed = ClusterFactory()
    moving = members(doomed, 3)
    target = ClusterFactory()
    doomed.default_product = moving[0]
    doomed.save()
    responses = run_together(
        [
            lambda: api.delete(f"/v2/clusters/id/{doomed.pk}"),
            lambda: api.post(
                f"/v2/clusters/id/{target.pk}/products/assign",
                {"products": [{"id": p.pk} for p in moving]},
            ),
        ]
    )
    assert [r.status_code for r in responses] == [200, 200]
    assert not Cluster.objects.filter(pk=doomed.pk).exists()
    assert all(ClusterProduct.objects.filter(product=p, cluster=target).exists() for p in moving)
