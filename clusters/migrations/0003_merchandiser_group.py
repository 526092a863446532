"""The Merchandiser group may view, add and change cluster configs, clusters and cluster options,
and edit what the back office shows inline with them (settings, source links, products,
selectable products, secondary categories). Deleting configs, clusters and options is left to
integrations and superusers."""

from functools import partial

from django.db import migrations

from config.permissions import MERCHANDISER, grant_group_permissions, revoke_group_permissions

RECORD = ("view", "add", "change")
INLINE = ("view", "add", "change", "delete")
GRANTS = {
    "clusterconfig": RECORD,
    "cluster": RECORD,
    "clusteroption": RECORD,
    "clusterconfigsetting": INLINE,
    "clustersource": INLINE,
    "clusterproduct": INLINE,
    "clustercategory": INLINE,
    "clusteroptionsource": INLINE,
    "optionproduct": INLINE,
}


class Migration(migrations.Migration):
    dependencies = [
        ("clusters", "0002_cluster_category"),
        ("catalogue", "0003_merchandiser_group"),
    ]

    operations = [
        migrations.RunPython(
            partial(
                grant_group_permissions, group=MERCHANDISER, app_label="clusters", grants=GRANTS
            ),
            partial(revoke_group_permissions, group=MERCHANDISER, app_label="clusters"),
        )
    ]
