"""Each mailing's recipients become a list of its own, "<name> — получатели",
targeted by the mailing; the roles get their permissions on lists and
subscriptions. Rows move in one INSERT ... SELECT per mailing, never through
Python. A client who had unsubscribed is on the list as `unsubscribed`."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MODELS = ("mailinglist", "subscription")
ROLE_PERMISSIONS = {
    "Mailing users": [
        f"{verb}_{model}" for model in MODELS for verb in ("add", "change", "delete", "view")
    ],
    "Managers": [f"view_{model}" for model in MODELS],
}
NAME_LENGTH = 255


def _permissions(apps, codenames):
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.filter(
        content_type__app_label="mailing", codename__in=codenames
    )


def grant(apps):
    app_config = apps.get_app_config("mailing")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    for name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*_permissions(apps, codenames))


def lists_from_recipients(apps, schema_editor):
    Mailing = apps.get_model("mailing", "Mailing")
    MailingList = apps.get_model("mailing", "MailingList")
    Subscription = apps.get_model("mailing", "Subscription")
    Client = apps.get_model("mailing", "Client")
    through = Mailing.clients.through._meta.db_table
    sql = f"""
        INSERT INTO {Subscription._meta.db_table}
            (client_id, mailing_list_id, status, changed_at)
        SELECT c.id, %s,
            CASE WHEN c.unsubscribed_at IS NULL THEN 'subscribed'
                ELSE 'unsubscribed' END,
            COALESCE(c.unsubscribed_at, c.created_at)
        FROM {through} mc JOIN {Client._meta.db_table} c ON c.id = mc.client_id
        WHERE mc.mailing_id = %s
    """  # nosec B608 - table names from the historical models
    with schema_editor.connection.cursor() as cursor:
        for mailing in Mailing.objects.order_by("pk").iterator():
            own = MailingList.objects.create(
                owner_id=mailing.owner_id,
                name=f"{mailing.name} — получатели"[:NAME_LENGTH],
            )
            cursor.execute(sql, [own.pk, mailing.pk])
            mailing.lists.add(own)


def forwards(apps, schema_editor):
    lists_from_recipients(apps, schema_editor)
    grant(apps)


def backwards(apps, schema_editor):
    """Recipients again from the audience: the lists' members of any status (or
    every client for "all my clients"); the lists go with 0015."""
    Mailing = apps.get_model("mailing", "Mailing")
    Client = apps.get_model("mailing", "Client")
    Subscription = apps.get_model("mailing", "Subscription")
    for mailing in Mailing.objects.order_by("pk").iterator():
        if mailing.all_clients:
            members = Client.objects.filter(owner_id=mailing.owner_id)
        else:
            members = Client.objects.filter(
                pk__in=Subscription.objects.filter(
                    mailing_list__in=mailing.lists.all()
                ).values("client_id")
            )
        mailing.clients.set(members.values_list("pk", flat=True))
    Group = apps.get_model("auth", "Group")
    for name, codenames in ROLE_PERMISSIONS.items():
        for group in Group.objects.filter(name=name):
            group.permissions.remove(*_permissions(apps, codenames))


class Migration(migrations.Migration):
    dependencies = [("mailing", "0019_audiences")]

    operations = [migrations.RunPython(forwards, backwards)]
