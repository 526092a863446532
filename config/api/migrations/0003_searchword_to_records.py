# SearchWord moved to the records app (the domain kernel): only Django's model state moves, the
# table api_searchword, its trigram index and the triggers that fill it stay as they are.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0002_idempotency_records"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="SearchWord")],
            database_operations=[],
        ),
    ]
