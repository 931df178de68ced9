"""pipeline._pump's scheduling: a connection sending one by one always has its
next group claimed while one is on the wire, never more than half a batch each.

The pool is a stand-in whose groups finish after a delay (the database, the claims
and the settles are real): what is measured is when _pump claims, not how emails go.
"""

import threading
from concurrent.futures import Future

import pytest
from django.test import override_settings
from django.utils import timezone

from mailing import services
from mailing.models import Attempt, MailingRun
from mailing.sending import leases, pipeline
from mailing.sending.delivery import Outcome
from tests.factories import make_client, make_mailing, make_user

pytestmark = pytest.mark.django_db

BATCH = 8
ON_THE_WIRE_SECONDS = 0.3


class SlowPool:
    """One connection whose groups take a while on the wire."""

    size = 1

    def __init__(self, run: MailingRun):
        self.run = run
        self.unfinished: list[Future] = []
        self.seen: list[tuple[int, int]] = []  # (groups unfinished, rows sending)

    def send(self, rows, build=None) -> Future:
        self.unfinished = [f for f in self.unfinished if not f.done()]
        sending = self.run.attempts.filter(status=Attempt.Status.SENDING).count()
        self.seen.append((len(self.unfinished), sending))
        future = Future()
        outcomes = [Outcome(pk, tries, True, False, "250 OK") for pk, tries, *_ in rows]
        timer = threading.Timer(ON_THE_WIRE_SECONDS, future.set_result, [outcomes])
        timer.start()
        self.unfinished.append(future)
        return future


@override_settings(
    SENDING_BATCH_SIZE=BATCH, SENDING_RATE_PER_OWNER=0, SENDING_RATE_GLOBAL=0
)
def test_the_next_group_is_claimed_while_one_is_on_the_wire_within_half_a_batch():
    owner = make_user()
    mailing = make_mailing(owner, clients=[make_client(owner) for _ in range(12)])
    run = services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())
    job = pipeline.RunJob(run)
    pool = SlowPool(run)
    lease = leases.Lease(timezone.now())
    try:
        assert pipeline._pump(job, pool, lease)
    finally:
        leases.release(lease.id)

    # Groups of BATCH / 2 / 2 rows: the second was claimed (`sending`, beside
    # the first's) while the first was still on the wire, and no third.
    assert job.group_size(1) == 2 and len(pool.seen) == 6
    assert pool.seen[1] == (1, 4)
    assert max(groups for groups, _rows in pool.seen) == 1
    assert max(rows for _groups, rows in pool.seen) == BATCH // 2
    run.refresh_from_db()
    assert run.sent_count == run.total == 12
