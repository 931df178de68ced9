import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.db import migrations, models

import mailing.models.indexes


class Migration(migrations.Migration):
    """An owner's addresses in one index instead of two: each client an import
    inserts wrote both, at random places (addresses come in no order).

    The new unique index is built before the old one goes, so uniqueness is never
    unenforced. On PostgreSQL the build holds a SHARE lock on mailing_client:
    reads go on, writes to clients wait (a few seconds per million clients).
    """

    dependencies = [
        ("mailing", "0032_outbox_claim_indexes"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="client",
            constraint=mailing.models.indexes.OpClassUniqueConstraint(
                models.F("owner"),
                django.contrib.postgres.indexes.OpClass(
                    django.db.models.functions.text.Lower("email"),
                    name="text_pattern_ops",
                ),
                name="client_owner_address",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="client",
            name="mailing_client_owner_email_ci",
        ),
        migrations.RemoveIndex(
            model_name="client",
            name="client_owner_address_prefix",
        ),
    ]
