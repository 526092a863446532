from django.apps import AppConfig


class TaxonomyConfig(AppConfig):
    name = "taxonomy"
    verbose_name = "Category tree"

    def ready(self) -> None:
        from config.api.search import register_surface
        from records.search.resolve import register_resolvers
        from taxonomy.api.search import CATEGORY_SEARCH
        from taxonomy.search import CATEGORY_RESOLVER

        register_surface(CATEGORY_SEARCH)
        register_resolvers(CATEGORY_RESOLVER)
