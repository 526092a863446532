import factory

from catalogue.models import Product, ProductSource
from tests.factory_types import ModelFactory


class ProductFactory(ModelFactory[Product]):
    class Meta:
        model = Product

    name_en = factory.Sequence(lambda n: f"Product {n}")
    slug_en = factory.Sequence(lambda n: f"product-{n}")
    sort_name = factory.LazyAttribute(lambda p: p.name_en.lower())
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")


class ProductSourceFactory(ModelFactory[ProductSource]):
    class Meta:
        model = ProductSource

    product = factory.SubFactory(ProductFactory)
    source = "ERP"
    source_id = factory.Sequence(lambda n: f"P-{n}")
