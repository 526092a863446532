import factory

from clusters.models import (
    Cluster,
    ClusterCategory,
    ClusterConfig,
    ClusterConfigSetting,
    ClusterOption,
    ClusterProduct,
    ClusterSource,
    OptionProduct,
)
from tests.catalogue.factories import ProductFactory
from tests.factory_types import ModelFactory
from tests.taxonomy.factories import CategoryFactory


class ClusterConfigFactory(ModelFactory[ClusterConfig]):
    class Meta:
        model = ClusterConfig

    name = factory.Sequence(lambda n: f"config_{n}")


class ClusterConfigSettingFactory(ModelFactory[ClusterConfigSetting]):
    class Meta:
        model = ClusterConfigSetting

    config = factory.SubFactory(ClusterConfigFactory)
    attribute_name = factory.Sequence(lambda n: f"ATTR_{n}")


class ClusterFactory(ModelFactory[Cluster]):
    class Meta:
        model = Cluster

    cluster_config = factory.SubFactory(ClusterConfigFactory)
    name_en = factory.Sequence(lambda n: f"Cluster {n}")
    slug_en = factory.Sequence(lambda n: f"cluster-{n}")
    sort_name = factory.LazyAttribute(lambda c: c.name_en.lower())


class ClusterSourceFactory(ModelFactory[ClusterSource]):
    class Meta:
        model = ClusterSource

    cluster = factory.SubFactory(ClusterFactory)
    source = "ERP"
    source_id = factory.Sequence(lambda n: f"C-{n}")


class ClusterCategoryFactory(ModelFactory[ClusterCategory]):
    """A secondary category link of a cluster."""

    class Meta:
        model = ClusterCategory

    cluster = factory.SubFactory(ClusterFactory)
    category = factory.SubFactory(CategoryFactory)


class ClusterProductFactory(ModelFactory[ClusterProduct]):
    class Meta:
        model = ClusterProduct

    cluster = factory.SubFactory(ClusterFactory)
    product = factory.SubFactory(ProductFactory)


class ClusterOptionFactory(ModelFactory[ClusterOption]):
    class Meta:
        model = ClusterOption

    cluster = factory.SubFactory(ClusterFactory)
    name_en = factory.Sequence(lambda n: f"Option {n}")
    sort_name = factory.LazyAttribute(lambda o: o.name_en.lower())


class OptionProductFactory(ModelFactory[OptionProduct]):
    class Meta:
        model = OptionProduct

    option = factory.SubFactory(ClusterOptionFactory)
    product = factory.SubFactory(ProductFactory)
    position = factory.Sequence(lambda n: n + 1)


def members(cluster, count=2, **product_fields):
    """``count`` new products inside ``cluster``."""
    products = ProductFactory.create_batch(count, **product_fields)
    for product in products:
        ClusterProductFactory(cluster=cluster, product=product)
    return products
