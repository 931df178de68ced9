"""Owned objects get their own history table, with the owner on each entry.

The entries Wagtail already wrote for them in its shared ModelLogEntry table move
over, each with the owner of its object (none if the object is gone: then only
managers see it).
"""

import django.core.serializers.json
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


# The owner of each owned model at the time of this migration.
OWNER_FIELDS = {
    "client": "owner_id",
    "message": "owner_id",
    "mailing": "owner_id",
    "mailingrun": "mailing__owner_id",
    "attempt": "mailing__owner_id",
}
COPIED_FIELDS = (
    "content_type_id",
    "label",
    "action",
    "data",
    "timestamp",
    "uuid",
    "user_id",
    "revision_id",
    "content_changed",
    "deleted",
    "object_id",
)
BATCH = 1000


def _owners(model, object_ids, owner_field) -> dict[str, int]:
    ids = [int(pk) for pk in object_ids if pk.isdigit()]
    rows = model.objects.filter(pk__in=ids).values_list("pk", owner_field)
    return {str(pk): owner for pk, owner in rows}


def _move(source, target, entries, owners) -> None:
    batch = list(entries[:BATCH])
    while batch:
        target.objects.bulk_create(
            target(
                **{name: getattr(entry, name) for name in COPIED_FIELDS},
                **owners(entry),
            )
            for entry in batch
        )
        source.objects.filter(pk__in=[entry.pk for entry in batch]).delete()
        batch = list(entries[:BATCH])


def _content_types(apps):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model_name, owner_field in OWNER_FIELDS.items():
        content_type = ContentType.objects.filter(
            app_label="mailing", model=model_name
        ).first()
        if content_type is not None:
            yield content_type, apps.get_model("mailing", model_name), owner_field


def forwards(apps, schema_editor):
    ModelLogEntry = apps.get_model("wagtailcore", "ModelLogEntry")
    OwnedLogEntry = apps.get_model("mailing", "OwnedLogEntry")
    for content_type, model, owner_field in _content_types(apps):
        entries = ModelLogEntry.objects.filter(content_type=content_type).order_by("pk")
        object_ids = set(entries.values_list("object_id", flat=True))
        owners = _owners(model, object_ids, owner_field)
        _move(
            ModelLogEntry,
            OwnedLogEntry,
            entries,
            lambda entry: {"owner_id": owners.get(entry.object_id)},
        )


def backwards(apps, schema_editor):
    ModelLogEntry = apps.get_model("wagtailcore", "ModelLogEntry")
    OwnedLogEntry = apps.get_model("mailing", "OwnedLogEntry")
    entries = OwnedLogEntry.objects.order_by("pk")
    _move(OwnedLogEntry, ModelLogEntry, entries, lambda entry: {})


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('mailing', '0007_default_layouts_and_permissions'),
        ('wagtailcore', '0098_apitoken'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='OwnedLogEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('label', models.TextField()),
                ('action', models.CharField(blank=True, db_index=True, max_length=255)),
                ('data', models.JSONField(blank=True, default=dict, encoder=django.core.serializers.json.DjangoJSONEncoder)),
                ('timestamp', models.DateTimeField(db_index=True, verbose_name='timestamp (UTC)')),
                ('uuid', models.UUIDField(blank=True, editable=False, help_text='Log entries that happened as part of the same user action are assigned the same UUID', null=True)),
                ('content_changed', models.BooleanField(db_index=True, default=False)),
                ('deleted', models.BooleanField(default=False)),
                ('object_id', models.CharField(db_index=True, max_length=255)),
                ('content_type', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='contenttypes.contenttype', verbose_name='content type')),
                ('owner', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='owner')),
                ('revision', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='wagtailcore.revision')),
                ('user', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'log entry',
                'verbose_name_plural': 'log entries',
                'ordering': ['-timestamp', '-id'],
                'abstract': False,
                'indexes': [models.Index(fields=['uuid', 'action', '-timestamp'], name='mailing_own_uuid_ca2e85_idx'), models.Index(fields=['owner', '-timestamp'], name='mailing_own_owner_i_05ccf2_idx')],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
