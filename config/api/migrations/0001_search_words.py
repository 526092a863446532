# The search vocabulary (SPEC §13): the table, and on PostgreSQL the extensions, its trigram
# index and the trigger functions that the documents' tables (products, categories …) attach to
# keep it filled. PostgreSQL-only objects are created with SQL: SQLite has none of them.

from django.contrib.postgres import operations
from django.db import migrations, models

# Words worth correcting: 4-64 characters, no digit (codes and numbers are never corrected).
WORDS = """
    SELECT DISTINCT word FROM new_rows, regexp_split_to_table(new_rows.search_text, ' ') AS word
    WHERE length(word) BETWEEN 4 AND 64 AND word !~ '[0-9]'
"""
FORWARD = [
    "CREATE INDEX api_searchword_trgm ON api_searchword USING gin (word gin_trgm_ops)",
    # sorted inserts: concurrent writers take the word locks in one order (no deadlock)
    f"""
    CREATE FUNCTION search_words_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO api_searchword (word) {WORDS} ORDER BY word ON CONFLICT DO NOTHING;
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION search_words_updated() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO api_searchword (word) {WORDS}
            AND NOT EXISTS (
                SELECT 1 FROM old_rows
                WHERE old_rows.id = new_rows.id AND old_rows.search_text = new_rows.search_text
            )
        ORDER BY word ON CONFLICT DO NOTHING;
        RETURN NULL;
    END $$
    """,
]
BACKWARD = [
    "DROP FUNCTION IF EXISTS search_words_updated()",
    "DROP FUNCTION IF EXISTS search_words_inserted()",
    "DROP INDEX IF EXISTS api_searchword_trgm",
]


class PostgresOnly:
    """Django's extension operations skip other databases going forwards, not backwards."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class TrigramExtension(PostgresOnly, operations.TrigramExtension):
    pass


class UnaccentExtension(PostgresOnly, operations.UnaccentExtension):
    pass


def run_on_postgres(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        TrigramExtension(),
        UnaccentExtension(),
        migrations.CreateModel(
            name="SearchWord",
            fields=[
                ("word", models.CharField(max_length=64, primary_key=True, serialize=False)),
            ],
        ),
        migrations.RunPython(run_on_postgres(FORWARD), run_on_postgres(BACKWARD)),
    ]
