# SearchWord arrives from the api app (config/api/migrations/0003) with its table unchanged:
# state only, the table api_searchword was created by api 0001.

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("api", "0003_searchword_to_records"),
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
    ]
