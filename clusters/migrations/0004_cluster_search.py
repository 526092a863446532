# Search document of clusters (SPEC §13) and, on PostgreSQL, its full text index and the
# vocabulary triggers (as taxonomy 0003). Created with SQL rather than declared in Meta because
# they exist on PostgreSQL only.

from django.db import migrations, models

from records.search.text import set_column

FORWARD = [
    "CREATE INDEX clu_search_fts ON clusters_cluster "
    "USING gin (to_tsvector('simple'::regconfig, search_text))",
    # the search vocabulary follows every document written (functions from api 0001)
    "CREATE TRIGGER clu_search_words_inserted AFTER INSERT ON clusters_cluster "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_words_inserted()",
    "CREATE TRIGGER clu_search_words_updated AFTER UPDATE ON clusters_cluster "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION search_words_updated()",
]
BACKWARD = [
    "DROP TRIGGER IF EXISTS clu_search_words_updated ON clusters_cluster",
    "DROP TRIGGER IF EXISTS clu_search_words_inserted ON clusters_cluster",
    "DROP INDEX IF EXISTS clu_search_fts",
]


def run_on_postgres(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


def fill_search_text(apps, schema_editor):
    from clusters.search import cluster_search_text

    Cluster = apps.get_model("clusters", "Cluster")
    ClusterSource = apps.get_model("clusters", "ClusterSource")
    pks = list(Cluster.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(pks), 1000):
        chunk = pks[start : start + 1000]
        sources = {}
        links = ClusterSource.objects.filter(cluster_id__in=chunk).order_by("pk")
        for owner, source_id in links.values_list("cluster_id", "source_id"):
            sources.setdefault(owner, []).append(source_id)
        documents = {
            cluster.pk: cluster_search_text(cluster, sources.get(cluster.pk, []))
            for cluster in Cluster.objects.filter(pk__in=chunk)
        }
        set_column(Cluster, "search_text", documents)


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_search_words"),
        ("clusters", "0003_merchandiser_group"),
    ]

    operations = [
        migrations.AddField(
            model_name="cluster",
            name="search_text",
            field=models.TextField(
                default="",
                editable=False,
                help_text="Normalised names, descriptions, code and source ids (clusters.search). PostgreSQL: GIN full text index; its words feed the search vocabulary.",
            ),
        ),
        migrations.RunPython(run_on_postgres(FORWARD), run_on_postgres(BACKWARD)),
        migrations.RunPython(fill_search_text, migrations.RunPython.noop),
    ]
