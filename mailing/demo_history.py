"""A few months of sending history for the demo, so reports have something to show.

Runs and their attempts are written straight into the tables, as the pipeline
would have left them, with what recipients did next (mailing.demo_engagement): nothing
is sent, no transport is called. Deterministic (seeded
by the mailing) and idempotent: a mailing with past runs is left as it is.
"""

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .audiences import audience
from .demo_engagement import seed_engagement
from .models import Attempt, Mailing, MailingRun

HISTORY_DAYS = 90
EVERY_DAYS = 3
# Roughly what a healthy list looks like: mostly delivered, a few failures and bounces.
OUTCOMES = (
    (Attempt.Status.SUCCESS, 0.88),
    (Attempt.Status.FAILURE, 0.07),
    (Attempt.Status.BOUNCED, 0.05),
)


def _outcome(rng: random.Random) -> str:
    roll, total = rng.random(), 0.0
    for status, share in OUTCOMES:
        total += share
        if roll < total:
            return status
    return Attempt.Status.SUCCESS


@transaction.atomic
def seed_history(mailing: Mailing, now=None) -> int:
    """Past finished runs of `mailing` with their attempts. Returns the runs made."""
    now = now or timezone.now()
    clients = list(audience(mailing).order_by("pk"))
    if not clients or mailing.runs.filter(slot__lt=now).exists():
        return 0
    rng = random.Random(mailing.pk)  # nosec B311 - demo data, not a secret
    run_ids = []
    for days_ago in range(HISTORY_DAYS, 0, -EVERY_DAYS):
        slot = now - timedelta(days=days_ago)
        statuses = [_outcome(rng) for _ in clients]
        sent = statuses.count(Attempt.Status.SUCCESS)
        run = MailingRun.objects.create(
            mailing=mailing,
            # Sent by hand ("Send now"): the demo mailing's schedule starts at its
            # first send, still ahead, so it is «Создана»; scheduled runs before
            # that first send would contradict its status and schedule.
            kind=MailingRun.Kind.MANUAL,
            slot=slot,
            status=MailingRun.Status.FINISHED,
            total=len(clients),
            sent_count=sent,
            failed_count=len(clients) - sent,
            started_at=slot,
            finished_at=slot + timedelta(minutes=1),
        )
        # Made at its slot, as the scheduler would have: "the last 30 days" count
        # runs by when they were made (auto_now_add would say today for them all).
        MailingRun.objects.filter(pk=run.pk).update(created_at=slot)
        Attempt.objects.bulk_create(
            Attempt(
                run=run,
                mailing=mailing,
                client=client,
                status=status,
                tries=1,
                attempted_at=slot + timedelta(seconds=index),
                server_response="250 OK (demo)"
                if status == Attempt.Status.SUCCESS
                else "550 5.1.1 mailbox unavailable (demo)",
            )
            for index, (client, status) in enumerate(
                zip(clients, statuses, strict=True)
            )
        )
        run_ids.append(run.pk)
    seed_engagement(run_ids, rng)
    return len(run_ids)
