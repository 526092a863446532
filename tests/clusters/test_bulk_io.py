"""import_catalogue / export_catalogue --entity clusters: the cluster bulk behind both."""

from __future__ import annotations

import orjson
import pytest

from catalogue.models import Product
from clusters.models import Cluster, ClusterConfig, ClusterOption, ClusterProduct, OptionProduct
from taxonomy.models import CategorySource
from tests.catalogue.factories import ProductFactory, ProductSourceFactory
from tests.clusters.factories import (
    ClusterConfigFactory,
    ClusterFactory,
    ClusterOptionFactory,
    ClusterSourceFactory,
)
from tests.integrations.test_import_export import export, run, write
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def seed() -> None:
    config = ClusterConfigFactory(name="shirts")
    category = CategoryFactory()
    CategorySource.objects.create(category=category, source="ERP", source_id="CAT-1")
    for n in range(3):
        cluster = ClusterFactory(
            cluster_config=config, code=f"K-{n}", parent=category if n else None, hidden=n == 2
        )
        ClusterSourceFactory(cluster=cluster, source="ERP", source_id=f"C-{n}")
        for m in range(2):
            product = ProductFactory()
            ProductSourceFactory(product=product, source="ERP", source_id=f"P-{n}-{m}")
            ClusterProduct.objects.create(cluster=cluster, product=product)
        option = ClusterOptionFactory(cluster=cluster, is_required=True)
        option.sources.create(source="ERP", source_id=f"O-{n}")
        extra = ProductFactory()
        ProductSourceFactory(product=extra, source="ERP", source_id=f"X-{n}")
        OptionProduct.objects.create(option=option, product=extra, position=1)


@pytest.mark.parametrize("fmt", ["ndjson", "csv"])
def test_clusters_export_wipe_import_export_is_identical(tmp_path, fmt):
    seed()
    first = export("clusters", fmt)
    record = orjson.loads(export("clusters").splitlines()[0])
    assert record["clusterConfig"] == {"name": "shirts"}
    assert record["products"] == [
        {"sourceId": "P-0-0", "source": "ERP"},
        {"sourceId": "P-0-1", "source": "ERP"},
    ]
    assert record["options"][0]["products"] == [{"sourceId": "X-0", "source": "ERP"}]
    Cluster.objects.all().delete()
    assert not ClusterOption.objects.exists() and not ClusterProduct.objects.exists()
    path = write(tmp_path, f"clusters.{fmt}", first)
    out, _ = run("import_catalogue", path, entity="clusters", batch_size=2)
    assert " 0 failed" in out, out
    assert export("clusters", fmt) == first
    assert Cluster.objects.count() == 3 and ClusterConfig.objects.count() == 1
    assert ClusterProduct.objects.count() == 6 and OptionProduct.objects.count() == 3
    assert Product.objects.filter(parent__isnull=False).count() == 0
