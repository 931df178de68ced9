"""The two shared layouts (Russian, English) and the roles' permissions on layouts
and sender identities. Shared layouts have no owner: everyone may use them, only
superusers change them."""

import uuid

from django.contrib.auth.management import create_permissions
from django.db import migrations

DEFAULT_LAYOUTS = [
    ("ru", "Стандартный (русский)"),
    ("en", "Standard (English)"),
]
MODELS = ("emaillayout", "senderidentity")
ROLE_PERMISSIONS = {
    "Mailing users": [
        f"{verb}_{model}" for model in MODELS for verb in ("add", "change", "delete", "view")
    ],
    "Managers": [f"view_{model}" for model in MODELS],
}


def default_blocks():
    # The header shows the sender's name when it has no title or logo of its own.
    return [
        {"type": "header", "value": {"logo": None, "title": "", "tagline": ""}},
        {"type": "message_body", "value": None},
        {"type": "divider", "value": None},
    ]


def _permissions(apps, codenames):
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.filter(
        content_type__app_label="mailing", codename__in=codenames
    )


def forwards(apps, schema_editor):
    EmailLayout = apps.get_model("mailing", "EmailLayout")
    for language, name in DEFAULT_LAYOUTS:
        if not EmailLayout.objects.filter(owner=None, language=language).exists():
            blocks = [{**block, "id": str(uuid.uuid4())} for block in default_blocks()]
            EmailLayout.objects.create(name=name, language=language, body=blocks)
    app_config = apps.get_app_config("mailing")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    for group_name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        group.permissions.add(*_permissions(apps, codenames))


def backwards(apps, schema_editor):
    EmailLayout = apps.get_model("mailing", "EmailLayout")
    names = [name for _, name in DEFAULT_LAYOUTS]
    EmailLayout.objects.filter(owner=None, name__in=names).delete()
    Group = apps.get_model("auth", "Group")
    for group_name, codenames in ROLE_PERMISSIONS.items():
        for group in Group.objects.filter(name=group_name):
            group.permissions.remove(*_permissions(apps, codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("mailing", "0006_layouts_and_sender_identities"),
        ("mailing", "0003_role_permissions"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
