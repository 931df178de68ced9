"""Consumer leases: who holds which rows, and what a dead consumer leaves (issue 18).

A consumer takes a lease (a ConsumerLease row) when it starts sending a run and
renews it every SENDING_LEASE_HEARTBEAT seconds from its main thread, which only
waits for the sender threads: a slow mail server delays the sends, never the
heartbeat. A lease not renewed for SENDING_LEASE_SECONDS has lapsed: reap() puts
its `claimed` rows back to `pending` (never handed to the mail server) and flags
its `sending` rows `unknown` (they may have gone out). Live consumers reap lapsed
leases at each heartbeat and the periodic sweeper does too, so a dead consumer's
rows wait one lease, not SENDING_UNKNOWN_AFTER.

The lease id is the fencing token on the rows (outbox): a consumer woken up
after its lease was reaped finds no row carrying it, so it records and sends
nothing more, and renew() tells it to stop.
"""

import os
import socket
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.translation import gettext_noop

from ..models import Attempt, ConsumerLease, MailingRun

HELD = (Attempt.Status.CLAIMED, Attempt.Status.SENDING)


def _expiry(now: datetime) -> datetime:
    return now + timedelta(seconds=settings.SENDING_LEASE_SECONDS)


def acquire(now: datetime) -> int:
    """A new lease for this consumer; its id is the fencing token."""
    lease = ConsumerLease.objects.create(
        host=socket.gethostname()[:255],
        pid=os.getpid(),
        started_at=now,
        heartbeat_at=now,
        expires_at=_expiry(now),
    )
    return lease.pk


def renew(lease_id: int, now: datetime) -> bool:
    """Extend the lease; False when it has lapsed or was reaped: stop sending."""
    return bool(
        ConsumerLease.objects.filter(pk=lease_id, expires_at__gte=now).update(
            heartbeat_at=now, expires_at=_expiry(now)
        )
    )


def release(lease_id: int) -> None:
    """The consumer is done: whatever it still holds is settled as if it died."""
    reap(lease_id)


class Lease:
    """This consumer's lease while it sends a run, renewed from its main thread."""

    def __init__(self, now: datetime):
        self.id = acquire(now)
        self.renewed = time.monotonic()

    def beat(self) -> bool:
        """Renew when due, and reap lapsed leases; False once the lease is lost."""
        if time.monotonic() - self.renewed < settings.SENDING_LEASE_HEARTBEAT:
            return True
        now = timezone.now()
        if not renew(self.id, now):
            return False
        self.renewed = time.monotonic()
        reap_lapsed(now)
        return True


def reap_lapsed(now: datetime) -> dict:
    """Reap every lease past its expiry: rows returned, rows unknown, and the runs
    whose rows they held (they need a consumer)."""
    totals = {"returned": 0, "unknown": 0, "runs": set()}
    lapsed = ConsumerLease.objects.filter(expires_at__lt=now).order_by("pk")
    for lease_id in lapsed.values_list("pk", flat=True):
        returned, unknown, runs = reap(lease_id, now)
        totals["returned"] += returned
        totals["unknown"] += unknown
        totals["runs"] |= runs
    return totals


def reap(
    lease_id: int, lapsed_before: datetime | None = None
) -> tuple[int, int, set[int]]:
    """Settle a lease's rows and drop it: (rows back to pending, rows unknown, runs
    it held rows of). Those runs lost a consumer: the sweeper enqueues them again
    where rows are left to claim, whether or not this lease had a group claimed
    ahead (pipeline._pump claims a connection's group straight to `sending`).

    With `lapsed_before`, only if the lease is still lapsed once locked (it may
    have been renewed meanwhile). Lock order as everywhere: the runs, then rows.
    """
    held = Attempt.objects.filter(lease=lease_id, status__in=HELD)
    with transaction.atomic():
        leases = ConsumerLease.objects.select_for_update().filter(pk=lease_id)
        if lapsed_before is not None:
            leases = leases.filter(expires_at__lt=lapsed_before)
        if lapsed_before is not None and not leases.exists():
            return 0, 0, set()
        runs = sorted(set(held.values_list("run_id", flat=True)))
        list(MailingRun.objects.select_for_update().filter(pk__in=runs).order_by("pk"))
        claimed = held.filter(status=Attempt.Status.CLAIMED)
        returned = claimed.update(
            status=Attempt.Status.PENDING, lease=None, tries=F("tries") - 1
        )
        unknown = flag_unknown(held.filter(status=Attempt.Status.SENDING))
        ConsumerLease.objects.filter(pk=lease_id).delete()
    return returned, unknown, set(runs)


def flag_unknown(rows) -> int:
    """Flag these `sending` rows unknown, counted on their runs (inside a
    transaction that holds the runs' rows)."""
    per_run = dict(
        rows.values("run_id").annotate(n=Count("pk")).values_list("run_id", "n")
    )
    flagged = rows.update(
        status=Attempt.Status.UNKNOWN,
        # Stored untranslated, shown in the reader's language (Attempt.response_shown).
        server_response=gettext_noop(
            "The consumer stopped during this send: it may or may not have gone "
            "out, so it is not sent again."
        ),
    )
    for run_id, count in per_run.items():
        MailingRun.objects.filter(pk=run_id).update(
            unknown_count=F("unknown_count") + count
        )
    return flagged


def waiting_for_lapse(run_id: int, now: datetime) -> dict:
    """Rows of the run held by a consumer that missed its heartbeats: they wait
    for its lease to lapse (count, and when it lapses at the latest)."""
    late = now - timedelta(seconds=2 * settings.SENDING_LEASE_HEARTBEAT)
    stale = ConsumerLease.objects.filter(heartbeat_at__lt=late)
    leases = dict(stale.values_list("pk", "expires_at"))
    if not leases:
        return {"count": 0, "until": None}
    rows = Attempt.objects.filter(run_id=run_id, status__in=HELD, lease__in=leases)
    held = dict(rows.values("lease").annotate(n=Count("pk")).values_list("lease", "n"))
    until = max((leases[pk] for pk in held), default=None)
    return {"count": sum(held.values()), "until": until}
