"""Runs, attempts and events leave Wagtail's reference index (SendingRecord): drop
the rows it holds for them, or usage listings would count sending records that
no save or delete will ever update again."""

from django.db import migrations

SENDING_RECORDS = ("mailingrun", "attempt", "event", "trackedlink", "rundaycounts")


def forget(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ReferenceIndex = apps.get_model("wagtailcore", "ReferenceIndex")
    types = ContentType.objects.filter(app_label="mailing", model__in=SENDING_RECORDS)
    ReferenceIndex.objects.filter(base_content_type__in=types).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("mailing", "0014_inputs"),
        ("wagtailcore", "0096_referenceindex_referenceindex_source_object_and_more"),
    ]

    operations = [migrations.RunPython(forget, migrations.RunPython.noop)]
