from django.apps import AppConfig


class ClustersConfig(AppConfig):
    name = "clusters"
    verbose_name = "Clusters"

    def ready(self) -> None:
        from clusters.relationships import CLUSTER_LINKS
        from taxonomy.relationships import register_link_kind

        register_link_kind(CLUSTER_LINKS)
