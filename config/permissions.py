"""Back-office groups, granted by data migrations (SPEC §15).

Each app grants the Merchandiser group the permissions on its own models in its own migration
(``grant_group_permissions``), so a new app (clusters…) adds its rights without touching others.
"""

from __future__ import annotations

from collections.abc import Iterable

MERCHANDISER = "Merchandiser"


def grant_group_permissions(
    apps, schema_editor, *, group: str, app_label: str, grants: dict[str, Iterable[str]]
) -> None:
    """Give ``group`` the ``grants`` (model name → actions like "view", "change") on ``app_label``.

    Permissions are normally created after migrations; they are created here first so the grant
    also works on a fresh database. Idempotent.
    """
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    create_permissions(
        global_apps.get_app_config(app_label),
        apps=apps,
        verbosity=0,
        using=schema_editor.connection.alias,
    )
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    wanted = [f"{action}_{model}" for model, actions in grants.items() for action in actions]
    permissions = Permission.objects.filter(content_type__app_label=app_label, codename__in=wanted)
    found = set(permissions.values_list("codename", flat=True))
    missing = sorted(set(wanted) - found)
    if missing:
        raise RuntimeError(f"Unknown permissions for {app_label}: {', '.join(missing)}")
    group_row, _ = Group.objects.get_or_create(name=group)
    group_row.permissions.add(*permissions)


def revoke_group_permissions(apps, schema_editor, *, group: str, app_label: str) -> None:
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group_row = Group.objects.filter(name=group).first()
    if group_row is not None:
        group_row.permissions.remove(*Permission.objects.filter(content_type__app_label=app_label))
