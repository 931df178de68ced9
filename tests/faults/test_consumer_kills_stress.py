"""20 SIGKILLs in a 10,000-recipient run (`make stress`; minutes, not in `make test`).

One kill in a 2,000-recipient run is in the suite: tests/mailing/test_consumers_pg.py
(test_a_consumer_killed_mid_run_loses_nothing). This is its heavy version: a
consumer process (tests/mailing/consumer_runner.py, the same code a Huey consumer
runs) is killed with SIGKILL 20 times while sending, a fresh one is started after
each kill. Leases are short (5 s): each fresh consumer reaps the lease of the one
before once it lapses, sends the rows it had claimed ahead, and finishes the run;
the sweeper then finds nothing left.

Promise checked (issue 18): none missing, duplicates no more than `unknown`, and
`unknown` exactly the rows on the wire at the kills (at most 20 x the groups on
the wire per consumer), no row left pending, claimed or sending, the run closed,
no lease left, and no database session of a dead consumer holding a lock.
"""

import signal
import time

import pytest
from django.db import connection

from mailing.models import Attempt, ConsumerLease, MailingRun
from tests.mailing.smtp_servers import smtp_server
from tests.mailing.test_consumers_pg import (
    CountingSink,
    big_run,
    consumer,
    finish,
    wait_for_other_sessions_to_end,
)
from tests.mailing.test_leases_pg import ON_THE_WIRE, held_by, lease_of

pytestmark = [
    pytest.mark.stress,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

RECIPIENTS = 10_000
KILLS = 20


def sent(sink: CountingSink) -> int:
    return sum(sink.received.values())


def locks_held_by_others() -> int:
    """Row or advisory locks held by any other session of this database."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
               WHERE a.datname = current_database() AND l.pid <> pg_backend_pid()
                 AND l.locktype IN ('tuple', 'transactionid', 'advisory')"""
        )
        return cursor.fetchone()[0]


def test_twenty_consumer_kills_in_a_10000_recipient_run_lose_nothing(monkeypatch):
    import tests.mailing.test_consumers_pg as helpers

    monkeypatch.setattr(helpers, "RECIPIENTS", RECIPIENTS)
    monkeypatch.setenv("SENDING_LEASE_SECONDS", "5")
    monkeypatch.setenv("SENDING_LEASE_HEARTBEAT", "1")
    run = big_run()
    sink = CountingSink()
    step = RECIPIENTS // (KILLS + 2)
    in_flight: set[int] = set()
    kills = 0
    with smtp_server(sink) as port:
        started = time.monotonic()
        for kill in range(1, KILLS + 1):
            victim = consumer("send", run, port)
            lease = lease_of(victim)
            deadline = time.monotonic() + 60
            while sent(sink) < step * kill and time.monotonic() < deadline:
                time.sleep(0.01)
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            kills += 1
            wait_for_other_sessions_to_end()
            in_flight |= held_by(lease, Attempt.Status.SENDING)
        assert sent(sink) < RECIPIENTS, "the run ended before the last kill"
        finish(consumer("send", run, port))  # the restarted consumer finishes
        took = time.monotonic() - started
        finish(consumer("sweep", run, port))  # nothing left for the sweeper

    rows = dict(run.attempts.values_list("pk", "status"))
    received = sink.received
    lost = [pk for pk, s in rows.items() if not received[pk] and s != "unknown"]
    duplicated = sum(n - 1 for n in received.values() if n > 1)
    unknown = {pk for pk, s in rows.items() if s == Attempt.Status.UNKNOWN}
    stuck = sum(1 for s in rows.values() if s in ("sending", "claimed", "pending"))
    locks = locks_held_by_others()
    run.refresh_from_db()
    print(
        f"\nfault injected: {kills} SIGKILLs of the consumer in a {RECIPIENTS}-"
        f"recipient run, restarted each time; counted: missing={len(lost)} "
        f"duplicated={duplicated} unknown={len(unknown)} (on the wire at the kills="
        f"{len(in_flight)}, bound {KILLS} x {ON_THE_WIRE}={KILLS * ON_THE_WIRE}), "
        f"rows left pending/claimed/sending={stuck}, locks held by other sessions="
        f"{locks}, run {run.status} in {took:.0f}s"
    )
    assert lost == []
    assert duplicated <= len(unknown)
    assert unknown == in_flight and len(unknown) <= KILLS * ON_THE_WIRE
    assert stuck == 0 and locks == 0
    assert run.status == MailingRun.Status.FINISHED
    assert run.sent_count == RECIPIENTS - len(unknown) == RECIPIENTS - run.unknown_count
    assert not ConsumerLease.objects.exists()
