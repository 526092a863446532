"""``seed_demo_catalogue --clusters N`` and the demo clusters it writes."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue.demo import seed_catalogue
from catalogue.models import Product
from clusters.demo import DEMO_CONFIGS, demo_configs, seed_clusters
from clusters.models import (
    Cluster,
    ClusterCategory,
    ClusterConfig,
    ClusterOption,
    ClusterProduct,
    OptionProduct,
)
from clusters.readiness import cluster_report

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo_catalogue", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_seeds_clusters_of_two_to_six_variants_that_validate(api):
    text = seed("--products", "150", "--categories", "12", "--clusters", "14", "--seed", "3")
    assert Cluster.objects.count() == 14
    assert text.startswith("Seeded 12 categories, 150 products and 14 clusters (")
    assert set(ClusterConfig.objects.values_list("name", flat=True)) == set(DEMO_CONFIGS)
    for cluster in Cluster.objects.select_related("cluster_config"):
        members = set(
            ClusterProduct.objects.filter(cluster=cluster).values_list("product_id", flat=True)
        )
        assert 2 <= len(members) <= 6
        assert cluster.default_product_id in members
        assert cluster.code and cluster.name_en and cluster.slug_nl and cluster.sources.exists()
        # the variants left their categories: the cluster is their primary home
        assert not Product.objects.filter(pk__in=members, parent__isnull=False).exists()
        assert cluster_report(cluster)["valid"], cluster_report(cluster)
    in_clusters = ClusterProduct.objects.count()
    assert f"({in_clusters} products in clusters, " in text
    options = ClusterOption.objects.all()
    assert options.count() == Cluster.objects.filter(pk__in=options.values("cluster")).count() > 0
    for option in options:
        links = list(OptionProduct.objects.filter(option=option).order_by("position"))
        assert [link.position for link in links] == [1, 2]
        assert option.default_product_id == links[0].product_id
        # selectable products stay ordinary catalogue products
        assert not ClusterProduct.objects.filter(product_id__in=[p.product_id for p in links])
    assert ClusterCategory.objects.exists()
    # the API shows them like any cluster
    cluster = Cluster.objects.order_by("pk").first()
    data = api.get(f"/v2/clusters/id/{cluster.pk}/validate").json()["data"]
    assert data == {"valid": True, "problems": []}


def test_same_seed_same_clusters():
    seed_catalogue(products=120, categories=8, seed=5)
    first = seed_clusters(clusters=6, seed=5)
    shape = [
        (c.cluster_config.name, c.memberships.count(), c.options.count())
        for c in Cluster.objects.order_by("pk")
    ]
    Cluster.objects.all().delete()
    second = seed_clusters(clusters=6, seed=5)
    again = [
        (c.cluster_config.name, c.memberships.count(), c.options.count())
        for c in Cluster.objects.order_by("pk")
    ]
    assert shape == again and first == second


def test_writes_are_set_based():
    """The statement count does not follow the number of clusters (on SQLite, whose bulk
    inserts are split by its parameter limit, it grows by a few statements per hundred)."""
    seed_catalogue(products=1200, categories=5, seed=1)
    demo_configs()  # created once, reused after

    def statements(clusters: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            seed_clusters(clusters=clusters, seed=2)
        return len(queries)

    few, many = statements(10), statements(200)
    if connection.vendor == "postgresql":
        assert few == many
    else:
        assert many - few < 190 // 10
    assert Cluster.objects.count() == 210


def test_default_is_one_cluster_per_ten_products_and_zero_is_none():
    assert "and 5 clusters" in seed("--products", "50", "--categories", "3")
    assert "and 0 clusters" in seed("--products", "10", "--clusters", "0")
    assert Cluster.objects.count() == 5


def test_too_few_products_is_a_plain_error():
    with pytest.raises(CommandError, match="need at least 20 products outside clusters"):
        seed("--products", "9", "--categories", "1", "--clusters", "10")
    with pytest.raises(CommandError, match="--clusters must be 0 or more"):
        seed("--clusters", "-1")
