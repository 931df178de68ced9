"""Indexes for the manager's pages (issue 17): the service's newest mailings, the
latest disabled ones, and its last 30 days of runs and of event counts. Each grows
with the service, and without these each page sorted or scanned it whole.

Locks: on PostgreSQL built CONCURRENTLY (the tables stay writable).
"""

from django.conf import settings
from django.db import migrations, models

from mailing.migration_operations import AddIndexWithoutLock


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("mailing", "0037_addrs_service_addresses"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexWithoutLock(
            model_name="mailing",
            index=models.Index(fields=["created_at"], name="mailing_created"),
        ),
        AddIndexWithoutLock(
            model_name="mailing",
            index=models.Index(
                condition=models.Q(("is_enabled", False)),
                fields=["updated_at"],
                name="mailing_disabled_recent",
            ),
        ),
        AddIndexWithoutLock(
            model_name="mailingrun",
            index=models.Index(fields=["created_at"], name="run_created"),
        ),
        AddIndexWithoutLock(
            model_name="rundaycounts",
            index=models.Index(fields=["day"], name="counts_day"),
        ),
    ]
