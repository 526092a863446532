from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "catalogue"
    verbose_name = "Catalogue"

    def ready(self) -> None:
        from catalogue.api.links import PRODUCT_ITEMS
        from catalogue.relationships import PRODUCT_LINKS
        from taxonomy.api.links import register_linked_items
        from taxonomy.relationships import register_link_kind

        register_link_kind(PRODUCT_LINKS)
        register_linked_items(PRODUCT_ITEMS)

        from catalogue.api.search import PRODUCT_SEARCH
        from catalogue.search import PRODUCT_RESOLVER
        from config.api.search import register_surface
        from records.search.resolve import register_resolvers

        register_surface(PRODUCT_SEARCH)
        register_resolvers(PRODUCT_RESOLVER)
