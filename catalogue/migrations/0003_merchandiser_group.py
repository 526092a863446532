"""The Merchandiser group may view, add and change products, and edit their source links,
attributes and secondary category links. Deleting products is left to integrations and
superusers."""

from functools import partial

from django.db import migrations

from config.permissions import MERCHANDISER, grant_group_permissions, revoke_group_permissions

GRANTS = {
    "product": ("view", "add", "change"),
    "productsource": ("view", "add", "change", "delete"),
    "productattribute": ("view", "add", "change", "delete"),
    "productcategory": ("view", "add", "change", "delete"),
}


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0002_product_category"),
        ("taxonomy", "0002_merchandiser_group"),
    ]

    operations = [
        migrations.RunPython(
            partial(
                grant_group_permissions, group=MERCHANDISER, app_label="catalogue", grants=GRANTS
            ),
            partial(revoke_group_permissions, group=MERCHANDISER, app_label="catalogue"),
        )
    ]
