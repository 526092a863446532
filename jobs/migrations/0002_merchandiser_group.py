"""The Merchandiser group may import products and categories in the back office and follow
its jobs (SPEC §21); clusters imports stay with superusers and whoever is granted them."""

from functools import partial

from django.db import migrations

from config.permissions import MERCHANDISER, grant_group_permissions, revoke_group_permissions

GRANTS = {"job": ("view", "add", "import_products", "import_categories")}


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0001_initial"),
        ("clusters", "0003_merchandiser_group"),
    ]

    operations = [
        migrations.RunPython(
            partial(grant_group_permissions, group=MERCHANDISER, app_label="jobs", grants=GRANTS),
            partial(revoke_group_permissions, group=MERCHANDISER, app_label="jobs"),
        )
    ]
