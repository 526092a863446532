"""The Merchandiser group may view, add and change categories and their source links."""

from functools import partial

from django.db import migrations

from config.permissions import MERCHANDISER, grant_group_permissions, revoke_group_permissions

GRANTS = {
    "category": ("view", "add", "change"),
    "categorysource": ("view", "add", "change", "delete"),
}


class Migration(migrations.Migration):
    dependencies = [
        ("taxonomy", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(
            partial(
                grant_group_permissions, group=MERCHANDISER, app_label="taxonomy", grants=GRANTS
            ),
            partial(revoke_group_permissions, group=MERCHANDISER, app_label="taxonomy"),
        )
    ]
