"""mailing_attempt: (run, status) and the claim's pending-only (run, id) become one
partial index of the rows a run has not settled (pending, claimed, sending).
Every outbox row then writes one index entry fewer (issue 12: opening a run over
a million clients), and a settled row (most of the table) is in neither.

Locks: on PostgreSQL the index is built and the old ones dropped CONCURRENTLY
(the table stays writable). The new index comes first, so the claim never lacks
one.
"""

from django.db import migrations, models

from mailing.migration_operations import AddIndexWithoutLock, RemoveIndexWithoutLock


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("mailing", "0035_hooks_event_attempt_index"),
    ]

    operations = [
        AddIndexWithoutLock(
            model_name="attempt",
            index=models.Index(
                condition=models.Q(("status__in", ["pending", "claimed", "sending"])),
                fields=["run", "id"],
                name="attempt_unsettled",
            ),
        ),
        RemoveIndexWithoutLock(model_name="attempt", name="attempt_pending_claim"),
        RemoveIndexWithoutLock(
            model_name="attempt", name="mailing_att_run_id_8a11cb_idx"
        ),
    ]
