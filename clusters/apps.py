from django.apps import AppConfig


class ClustersConfig(AppConfig):
    name = "clusters"
    verbose_name = "Clusters"

    def ready(self) -> None:
        from clusters.api.links import CLUSTER_ITEMS
        from clusters.relationships import CLUSTER_LINKS
        from taxonomy.api.links import register_linked_items
        from taxonomy.relationships import register_link_kind

        register_link_kind(CLUSTER_LINKS)
        register_linked_items(CLUSTER_ITEMS)

        from clusters.api.search import CLUSTER_SEARCH
        from clusters.search import CLUSTER_RESOLVER, OPTION_RESOLVER
        from config.api.search import register_surface
        from records.search.resolve import register_resolvers

        register_surface(CLUSTER_SEARCH)
        register_resolvers(CLUSTER_RESOLVER, OPTION_RESOLVER)
