"""Model permissions of the role groups. Ownership itself is the permission policy's job."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CONTENT = ("client", "message", "mailing")
ROLE_PERMISSIONS = {
    "Mailing users": [
        *(f"{verb}_{model}" for model in CONTENT for verb in ("add", "change", "delete", "view")),
        "view_attempt",
    ],
    "Managers": [
        *(f"view_{model}" for model in (*CONTENT, "attempt")),
        "view_all_owners",
        "disable_mailing",
        "block_users",
    ],
}


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations: make them exist now.
    app_config = apps.get_app_config("mailing")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="mailing", codename__in=codenames
            )
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLE_PERMISSIONS.items():
        for group in Group.objects.filter(name=name):
            group.permissions.remove(
                *Permission.objects.filter(
                    content_type__app_label="mailing", codename__in=codenames
                )
            )


class Migration(migrations.Migration):
    dependencies = [
        ("mailing", "0002_block_users_permission"),
        ("accounts", "0002_role_groups"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
