"""mailing_attempt: four of the listing's "recent" indexes and the ESP id's keep only
rows that have them (tried; an ESP id), one partial index lists the rows not
tried yet, and the mailing's foreign key loses its database constraint (the
run's holds it). Every outbox row written or claimed skips four index entries
and one check at commit.

Locks: on PostgreSQL the indexes are built and dropped CONCURRENTLY (the table
stays writable; each build reads the table, minutes at tens of millions of
rows). Dropping the constraint takes the table's ACCESS EXCLUSIVE lock for an
instant (no scan). New indexes come first, so the listing never lacks one.
"""

import django.db.models.deletion
from django.db import migrations, models

from mailing.migration_operations import AddIndexWithoutLock, RemoveIndexWithoutLock

TRIED = models.Q(("attempted_at__isnull", False))
RECENT = {
    "attempted_recent": ([], "attempt_recent"),
    "attempted_mailing": (["mailing"], "attempt_mailing_recent"),
    "attempted_run": (["run"], "attempt_run_recent"),
    "attempted_mailing_status": (
        ["mailing", "status"],
        "attempt_mailing_status_recent",
    ),
}


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("mailing", "0033_imports_one_owner_address_index"),
    ]

    operations = [
        *(
            AddIndexWithoutLock(
                model_name="attempt",
                index=models.Index(
                    condition=TRIED, fields=[*lead, "-attempted_at", "-id"], name=name
                ),
            )
            for name, (lead, _old) in RECENT.items()
        ),
        AddIndexWithoutLock(
            model_name="attempt",
            index=models.Index(
                condition=models.Q(("attempted_at__isnull", True)),
                fields=["mailing", "id"],
                name="attempt_unsent",
            ),
        ),
        AddIndexWithoutLock(
            model_name="attempt",
            index=models.Index(
                condition=~models.Q(("esp_message_id", "")),
                fields=["esp_message_id"],
                name="attempt_esp_id",
            ),
        ),
        *(
            RemoveIndexWithoutLock(model_name="attempt", name=old)
            for _lead, old in RECENT.values()
        ),
        RemoveIndexWithoutLock(
            model_name="attempt", name="mailing_att_esp_mes_8efd1c_idx"
        ),
        migrations.AlterField(
            model_name="attempt",
            name="mailing",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="attempts",
                to="mailing.mailing",
                verbose_name="mailing",
            ),
        ),
    ]
