from django.apps import AppConfig


class TaxonomyConfig(AppConfig):
    name = "taxonomy"
    verbose_name = "Category tree"

    def ready(self) -> None:
        from config.api.search import register
        from taxonomy.api.search import CATEGORY_SEARCH
        from taxonomy.search import CATEGORY_RESOLVER

        register(surface=CATEGORY_SEARCH, resolvers=[CATEGORY_RESOLVER])
