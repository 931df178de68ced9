"""Consumer leases with real consumer processes on PostgreSQL (issue 18, Must show).

Two consumers (tests/mailing/consumer_runner.py, the code a Huey consumer runs) send
a 3,000-recipient run to an SMTP sink counting deliveries per attempt. Leases are
short here (SENDING_LEASE_SECONDS=5, a heartbeat a second) so the test is quick;
the rules are those of the 30 s default.
"""

import signal
import time

import pytest

from mailing.models import Attempt, ConsumerLease, MailingRun

from .consumer_runner import BATCH_SIZE, CONCURRENCY
from .smtp_servers import smtp_server
from .test_consumers_pg import CountingSink, big_run, consumer, finish

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

RECIPIENTS = 3000
LEASE_SECONDS = 5
# A connection's group on the wire (pipeline._pump), per consumer: what a kill may
# leave `unknown`.
ON_THE_WIRE = CONCURRENCY * -(-BATCH_SIZE // (2 * CONCURRENCY))


@pytest.fixture
def short_leases(monkeypatch):
    import tests.mailing.test_consumers_pg as helpers

    monkeypatch.setattr(helpers, "RECIPIENTS", RECIPIENTS)
    monkeypatch.setenv("SENDING_LEASE_SECONDS", str(LEASE_SECONDS))
    monkeypatch.setenv("SENDING_LEASE_HEARTBEAT", "1")


def delivered(sink: CountingSink) -> int:
    return sum(sink.received.values())


def wait_for_deliveries(sink: CountingSink, count: int) -> None:
    deadline = time.monotonic() + 60
    while delivered(sink) < count and time.monotonic() < deadline:
        time.sleep(0.005)
    assert delivered(sink) < RECIPIENTS, "the run ended before the fault"


def lease_of(process) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        lease = ConsumerLease.objects.filter(pid=process.pid).first()
        if lease is not None:
            return lease.pk
        time.sleep(0.01)
    raise AssertionError("the consumer took no lease")


def held_by(lease_id: int, status: str) -> set[int]:
    rows = Attempt.objects.filter(lease=lease_id, status=status)
    return set(rows.values_list("pk", flat=True))


def wait_until_finished(run: MailingRun, seconds: float) -> None:
    """Until the run is closed, for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status != MailingRun.Status.RUNNING:
            return
        time.sleep(0.05)


def tally(run: MailingRun, sink: CountingSink) -> dict:
    rows = dict(run.attempts.values_list("pk", "status"))
    received = sink.received
    unknown = {pk for pk, s in rows.items() if s == Attempt.Status.UNKNOWN}
    return {
        "rows": rows,
        "unknown": unknown,
        "missing": [pk for pk in rows if not received[pk] and pk not in unknown],
        "duplicated": sum(n - 1 for n in received.values() if n > 1),
    }


def test_a_consumer_killed_at_ten_percent_costs_only_its_groups_on_the_wire(
    short_leases,
):
    run = big_run()
    sink = CountingSink()
    with smtp_server(sink) as port:
        victim, survivor = consumer("send", run, port), consumer("send", run, port)
        victim_lease = lease_of(victim)
        wait_for_deliveries(sink, RECIPIENTS // 10)
        victim.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        victim.wait()
        time.sleep(0.5)  # the killed client's backend finishes its statement
        on_the_wire = held_by(victim_lease, Attempt.Status.SENDING)
        claimed = held_by(victim_lease, Attempt.Status.CLAIMED)
        wait_until_finished(run, 60 - (time.monotonic() - killed_at))
        to_finish = time.monotonic() - killed_at
        finish(survivor)

    counted = tally(run, sink)
    unknown = counted["unknown"]
    print(
        f"\nkill at 10% of {RECIPIENTS}, two consumers: "
        f"missing={len(counted['missing'])} duplicated={counted['duplicated']} "
        f"unknown={len(unknown)} (on the wire at the kill: {len(on_the_wire)}, "
        f"claimed ahead and sent by the other: {len(claimed)}, bound "
        f"{ON_THE_WIRE}) time to finish after the kill={to_finish:.1f}s"
    )
    assert counted["missing"] == []
    assert counted["duplicated"] <= len(unknown)
    assert unknown == on_the_wire and len(unknown) <= ON_THE_WIRE
    assert all(sink.received[pk] == 1 for pk in claimed)  # sent once, by the other
    run.refresh_from_db()
    assert run.status == MailingRun.Status.FINISHED and to_finish < 60
    assert (run.sent_count, run.unknown_count) == (
        RECIPIENTS - len(unknown),
        len(unknown),
    )
    assert not ConsumerLease.objects.exists()


def test_a_consumer_stopped_past_its_lease_writes_nothing_over_taken_rows(
    short_leases,
):
    run = big_run()
    sink = CountingSink()
    with smtp_server(sink) as port:
        sleeper, other = consumer("send", run, port), consumer("send", run, port)
        sleeper_lease = lease_of(sleeper)
        wait_for_deliveries(sink, RECIPIENTS // 10)
        sleeper.send_signal(signal.SIGSTOP)
        time.sleep(0.5)
        on_the_wire = held_by(sleeper_lease, Attempt.Status.SENDING)
        claimed = held_by(sleeper_lease, Attempt.Status.CLAIMED)
        deadline = time.monotonic() + 60
        # The other consumer reaps the lapsed lease and takes the claimed rows.
        while ConsumerLease.objects.filter(pk=sleeper_lease).exists():
            assert time.monotonic() < deadline, "the lapsed lease was not reaped"
            time.sleep(0.1)
        wait_until_finished(run, 60)
        sleeper.send_signal(signal.SIGCONT)
        finish(sleeper)
        finish(other)

    counted = tally(run, sink)
    rows = Attempt.objects.filter(run=run)
    taken = rows.filter(pk__in=claimed)
    print(
        f"\nSIGSTOP past the lease, then SIGCONT: missing={len(counted['missing'])} "
        f"duplicated={counted['duplicated']} unknown={len(counted['unknown'])} "
        f"(on the wire at the stop: {len(on_the_wire)}); claimed rows taken by the "
        f"other consumer: {len(claimed)}, left with the sleeper's lease: "
        f"{taken.filter(lease=sleeper_lease).count()}"
    )
    assert counted["missing"] == [] and counted["duplicated"] == 0
    # Fencing: the sleeper's sends finished after SIGCONT were not recorded...
    assert counted["unknown"] == on_the_wire
    # ...and the rows taken from it carry the other lease and its result alone.
    assert not taken.exclude(status=Attempt.Status.SUCCESS).exists()
    assert not taken.filter(lease=sleeper_lease).exists()
    run.refresh_from_db()
    assert run.status == MailingRun.Status.FINISHED
    success = rows.filter(status=Attempt.Status.SUCCESS).count()
    assert run.sent_count == success == RECIPIENTS - len(on_the_wire)
    assert run.unknown_count == len(on_the_wire)
