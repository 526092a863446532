# Search document of categories (SPEC §13) and, on PostgreSQL, its full text index and the
# vocabulary triggers. They are created with SQL rather than declared in Meta because they exist
# on PostgreSQL only (SQLite has neither GIN nor these triggers).

from django.db import migrations, models

from records.search.text import set_column

FORWARD = [
    "CREATE INDEX cat_search_fts ON taxonomy_category "
    "USING gin (to_tsvector('simple'::regconfig, search_text))",
    # the search vocabulary follows every document written (functions from api 0001)
    "CREATE TRIGGER cat_search_words_inserted AFTER INSERT ON taxonomy_category "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_words_inserted()",
    "CREATE TRIGGER cat_search_words_updated AFTER UPDATE ON taxonomy_category "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION search_words_updated()",
]
BACKWARD = [
    "DROP TRIGGER IF EXISTS cat_search_words_updated ON taxonomy_category",
    "DROP TRIGGER IF EXISTS cat_search_words_inserted ON taxonomy_category",
    "DROP INDEX IF EXISTS cat_search_fts",
]


def run_on_postgres(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


def fill_search_text(apps, schema_editor):
    from taxonomy.search import category_search_text

    Category = apps.get_model("taxonomy", "Category")
    CategorySource = apps.get_model("taxonomy", "CategorySource")
    pks = list(Category.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(pks), 1000):
        chunk = pks[start : start + 1000]
        sources = {}
        links = CategorySource.objects.filter(category_id__in=chunk).order_by("pk")
        for owner, source_id in links.values_list("category_id", "source_id"):
            sources.setdefault(owner, []).append(source_id)
        documents = {
            category.pk: category_search_text(category, sources.get(category.pk, []))
            for category in Category.objects.filter(pk__in=chunk)
        }
        set_column(Category, "search_text", documents)


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_search_words"),
        ("taxonomy", "0002_merchandiser_group"),
    ]

    operations = [
        migrations.AddField(
            model_name="category",
            name="search_text",
            field=models.TextField(
                default="",
                editable=False,
                help_text="Normalised names, descriptions and source ids (taxonomy.search). PostgreSQL: GIN full text index; its words feed the search vocabulary.",
            ),
        ),
        migrations.RunPython(run_on_postgres(FORWARD), run_on_postgres(BACKWARD)),
        migrations.RunPython(fill_search_text, migrations.RunPython.noop),
    ]
