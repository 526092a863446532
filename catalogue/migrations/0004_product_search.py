# Search document of products and numeric attribute values (SPEC §13); on PostgreSQL the full
# text index and the vocabulary triggers, created with SQL rather than declared in Meta because
# they exist on PostgreSQL only.

from django.db import migrations, models

from records.search.text import set_column

FORWARD = [
    "CREATE INDEX prod_search_fts ON catalogue_product "
    "USING gin (to_tsvector('simple'::regconfig, search_text))",
    # the search vocabulary follows every document written (functions from api 0001)
    "CREATE TRIGGER prod_search_words_inserted AFTER INSERT ON catalogue_product "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_words_inserted()",
    "CREATE TRIGGER prod_search_words_updated AFTER UPDATE ON catalogue_product "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION search_words_updated()",
]
BACKWARD = [
    "DROP TRIGGER IF EXISTS prod_search_words_updated ON catalogue_product",
    "DROP TRIGGER IF EXISTS prod_search_words_inserted ON catalogue_product",
    "DROP INDEX IF EXISTS prod_search_fts",
]


def run_on_postgres(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


def fill(apps, schema_editor):
    from catalogue.search import attribute_number, product_search_text

    Product = apps.get_model("catalogue", "Product")
    ProductSource = apps.get_model("catalogue", "ProductSource")
    ProductAttribute = apps.get_model("catalogue", "ProductAttribute")
    pks = list(Product.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(pks), 1000):
        chunk = pks[start : start + 1000]
        sources = {}
        links = ProductSource.objects.filter(product_id__in=chunk).order_by("pk")
        for owner, source_id in links.values_list("product_id", "source_id"):
            sources.setdefault(owner, []).append(source_id)
        documents = {
            product.pk: product_search_text(product, sources.get(product.pk, []))
            for product in Product.objects.filter(pk__in=chunk)
        }
        set_column(Product, "search_text", documents)
    numbers = {}
    for pk, value in ProductAttribute.objects.order_by("pk").values_list("pk", "value").iterator():
        if (number := attribute_number(value)) is not None:
            numbers[pk] = number
        if len(numbers) >= 1000:
            set_column(ProductAttribute, "value_number", numbers)
            numbers = {}
    set_column(ProductAttribute, "value_number", numbers)


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0003_merchandiser_group"),
        ("taxonomy", "0003_category_search"),
    ]

    operations = [
        migrations.AddField(
            model_name="product",
            name="search_text",
            field=models.TextField(
                default="",
                editable=False,
                help_text="Normalised names, descriptions, codes and source ids (catalogue.search). PostgreSQL: GIN full text index; its words feed the search vocabulary.",
            ),
        ),
        migrations.AddField(
            model_name="productattribute",
            name="value_number",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="productattribute",
            index=models.Index(fields=["name", "value_number"], name="prod_attr_name_number"),
        ),
        migrations.RunPython(run_on_postgres(FORWARD), run_on_postgres(BACKWARD)),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
