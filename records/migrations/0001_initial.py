# SearchWord arrives from the api app (config/api/migrations/0003) with its table unchanged:
# state only, the table api_searchword was created by api 0001.

from django.db import migrations, models


def move_content_type(apps, schema_editor):
    """An existing database keeps SearchWord's content type (and its permissions) under the
    new app label instead of leaving a stale ``api.searchword`` behind."""
    content_type = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if not content_type.objects.using(db).filter(app_label="records", model="searchword").exists():
        content_type.objects.using(db).filter(app_label="api", model="searchword").update(
            app_label="records"
        )


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("api", "0003_searchword_to_records"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SearchWord",
                    fields=[
                        (
                            "word",
                            models.CharField(max_length=64, primary_key=True, serialize=False),
                        ),
                    ],
                    options={"db_table": "api_searchword"},
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, migrations.RunPython.noop),
    ]
