import factory

from taxonomy.models import Category


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name_en = factory.Sequence(lambda n: f"Category {n}")
    slug_en = factory.Sequence(lambda n: f"category-{n}")
    sort_name = factory.LazyAttribute(lambda c: c.name_en.lower())
    parent = None
