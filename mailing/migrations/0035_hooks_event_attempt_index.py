"""mailing_event loses its index on attempt_id alone: the unique (attempt,
dedupe_key) index starts with the same column and serves every lookup by attempt
(the foreign key's cascade included), so the second index only cost each
recorded event one more insert.

Only the index goes. Django's own AlterField would also drop and re-add the
foreign key, which re-checks every row of the table under its lock; the index
name is the one Django gave it on both PostgreSQL and SQLite. Dropping it takes
the table's lock for an instant (no scan).
"""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "mailing_event_attempt_id_cd818c83"


class Migration(migrations.Migration):
    dependencies = [
        ("mailing", "0034_attidx_partial_attempt_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="event",
                    name="attempt",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="mailing.attempt",
                        verbose_name="attempt",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=f'CREATE INDEX "{INDEX}" ON "mailing_event" ("attempt_id")',
                ),
            ],
        ),
    ]
