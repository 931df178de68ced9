"""20 SIGKILLs in a 10,000-recipient run (`make stress`; minutes, not in `make test`).

One kill in a 2,000-recipient run is in the suite: tests/mailing/test_consumers_pg.py
(test_a_consumer_killed_mid_run_loses_nothing). This is its heavy version: a
consumer process (tests/mailing/consumer_runner.py, the same code a Huey consumer
runs) is killed with SIGKILL 20 times while sending, a fresh one is started after
each kill, and at the end the sweeper settles what the dead ones left.

Promise checked: none missing, duplicates no more than the sends in flight at the
kills (each of those flagged `unknown`, never re-sent), no row left `sending`, the
run closed, and no database session of a dead consumer holding a lock.
"""

import signal
import time

import pytest
from django.db import connection

from mailing.models import Attempt, MailingRun
from tests.mailing.smtp_servers import smtp_server
from tests.mailing.test_consumers_pg import (
    CountingSink,
    big_run,
    consumer,
    finish,
)

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
    run = big_run()
    sink = CountingSink()
    step = RECIPIENTS // (KILLS + 2)
    in_flight: set[int] = set()
    kills = 0
    with smtp_server(sink) as port:
        for kill in range(1, KILLS + 1):
            victim = consumer("send", run, port)
            deadline = time.monotonic() + 60
            while sent(sink) < step * kill and time.monotonic() < deadline:
                time.sleep(0.01)
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            kills += 1
            in_flight |= set(
                run.attempts.filter(status=Attempt.Status.SENDING).values_list(
                    "pk", flat=True
                )
            )
        assert sent(sink) < RECIPIENTS, "the run ended before the last kill"
        finish(consumer("send", run, port))  # the restarted consumer finishes
        finish(consumer("sweep", run, port))  # the sweeper settles the dead claims

    rows = dict(run.attempts.values_list("pk", "status"))
    received = sink.received
    lost = [pk for pk, s in rows.items() if not received[pk] and s != "unknown"]
    duplicated = sum(n - 1 for n in received.values() if n > 1)
    unknown = {pk for pk, s in rows.items() if s == Attempt.Status.UNKNOWN}
    stuck = sum(1 for s in rows.values() if s in ("sending", "pending"))
    locks = locks_held_by_others()
    run.refresh_from_db()
    print(
        f"\nfault injected: {kills} SIGKILLs of the consumer in a {RECIPIENTS}-"
        f"recipient run, restarted each time; counted: lost={len(lost)} "
        f"duplicated={duplicated} in_flight={len(in_flight)} "
        f"(flagged unknown={len(unknown)}), rows left sending/pending={stuck}, "
        f"locks held by other sessions={locks}, run {run.status}"
    )
    assert lost == []
    assert duplicated <= len(in_flight)
    assert unknown == in_flight
    assert stuck == 0 and locks == 0
    assert run.status == MailingRun.Status.FINISHED
    assert run.sent_count == RECIPIENTS - len(unknown)
