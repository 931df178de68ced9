"""Acting on a run while two consumer processes send it (issue 10, "Control").

PostgreSQL, two consumers (tests/mailing/consumer_runner.py: the code the huey task
runs, in its own process) throttled to RATE msg/s, an SMTP sink on loopback that
counts by recipient and Message-ID, 2,000 recipients. At about 30 % of the run the
test acts and counts what the sink receives afterwards: at most one claimed group
per open connection (BOUND), nothing doubled, nothing lost on resume.
"""

import os
import re
import threading
import time
from collections import Counter

import pytest

from mailing import control, moderation
from mailing.models import Attempt, Client, MailingRun
from mailing.unsubscribe import unsubscribe_client
from tests.factories import make_user, remove_recipients

from .consumer_runner import BATCH_SIZE, CONCURRENCY
from .smtp_servers import smtp_server
from .test_consumers_pg import RECIPIENTS, big_run, consumer, finish

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

RATE = 150
CONSUMERS = 2
MESSAGE_ID = re.compile(rb"^Message-ID: <attempt\.(\d+)\.", re.M | re.I)


def bound() -> int:
    """Emails that may still leave after an action: one group per connection
    (pipeline._pump's group size, with the consumers' settings)."""
    group = -(-BATCH_SIZE // (2 * CONCURRENCY))
    return CONSUMERS * CONCURRENCY * group


class LoggingSink:
    """Every email in arrival order: (attempt id from the Message-ID, recipient)."""

    def __init__(self):
        self.log: list[tuple[int, str]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        match = MESSAGE_ID.search(envelope.content)
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.log.append((int(match.group(1)) if match else 0, rcpt.lower()))
        return "250 OK"

    def count(self) -> int:
        with self.lock:
            return len(self.log)

    def since(self, mark: int) -> list[tuple[int, str]]:
        with self.lock:
            return self.log[mark:]


@pytest.fixture
def throttled(monkeypatch):
    monkeypatch.setenv("VESTNIK_TEST_RATE", str(RATE))
    if not os.environ.get("REDIS_URL"):
        pytest.skip("the shared rate limit needs REDIS_URL")


def start(run: MailingRun, port: int) -> list:
    return [consumer("send", run, port) for _ in range(CONSUMERS)]


def act_at(sink: LoggingSink, fraction: float, action) -> int:
    """Wait for `fraction` of the run, act; the sink's count when the action
    committed (everything after it counts against the bound)."""
    deadline = time.monotonic() + 120
    while sink.count() < RECIPIENTS * fraction and time.monotonic() < deadline:
        time.sleep(0.005)
    assert sink.count() < RECIPIENTS * 0.6, "the run was not caught mid-way"
    action()
    return sink.count()


def doubled(sink: LoggingSink) -> int:
    return sum(n - 1 for n in Counter(sink.since(0)).values() if n > 1)


def report(name: str, after: int, sink: LoggingSink) -> None:
    print(
        f"\n{name}: bound={bound()} after_action={after} "
        f"received={sink.count()} doubled={doubled(sink)}"
    )


def statuses(run: MailingRun) -> Counter:
    return Counter(Attempt.objects.filter(run=run).values_list("status", flat=True))


def test_pause_then_resume_loses_and_doubles_nothing(throttled, monkeypatch):
    run = big_run()
    sink = LoggingSink()
    with smtp_server(sink) as port:
        consumers = start(run, port)
        mark = act_at(sink, 0.3, lambda: control.pause_mailing(run.mailing))
        for process in consumers:
            finish(process)  # they stop by themselves: the run is paused
        after = len(sink.since(mark))
        report("pause", after, sink)
        assert after <= bound()
        run.refresh_from_db()
        assert run.status == MailingRun.Status.PAUSED
        assert statuses(run)[Attempt.Status.PENDING] == RECIPIENTS - sink.count()

        # The test's own Huey is immediate: consumers are started by hand instead.
        monkeypatch.setattr("mailing.services.enqueue_run", lambda run_id: None)
        control.resume_mailing(run.mailing)
        for process in start(run, port):
            finish(process)

    ids = set(Attempt.objects.filter(run=run).values_list("pk", flat=True))
    received = Counter(pk for pk, _rcpt in sink.since(0))
    assert set(received) == ids  # none lost
    assert doubled(sink) == 0 and max(received.values()) == 1
    run.refresh_from_db()
    assert (run.status, run.sent_count) == (MailingRun.Status.FINISHED, RECIPIENTS)


def _acted(run: MailingRun, sink: LoggingSink, name: str, action) -> int:
    """Send the run with two consumers, act at 30 %; the sink's count then."""
    with smtp_server(sink) as port:
        consumers = start(run, port)
        mark = act_at(sink, 0.3, action)
        for process in consumers:
            finish(process)
    report(name, len(sink.since(mark)), sink)
    assert doubled(sink) == 0
    return mark


def _stopped(run: MailingRun, sink: LoggingSink, name: str, action) -> None:
    mark = _acted(run, sink, name, action)
    assert len(sink.since(mark)) <= bound()


@pytest.mark.stress
@pytest.mark.parametrize("name", ["cancel", "disable", "block"])
def test_stopping_a_run_mid_way_sends_at_most_the_claimed_groups(throttled, name):
    run = big_run()
    mailing, moderator = run.mailing, make_user(role="none")
    actions = {
        "cancel": lambda: control.cancel_mailing(mailing),
        "disable": lambda: moderation.set_mailing_enabled(mailing, False, moderator),
        "block": lambda: moderation.set_user_blocked(mailing.owner, True, moderator),
    }
    _stopped(run, LoggingSink(), name, actions[name])
    run.refresh_from_db()
    rows = statuses(run)
    assert run.status == MailingRun.Status.CANCELLED
    assert rows[Attempt.Status.PENDING] == rows[Attempt.Status.SENDING] == 0
    assert run.cancelled_count == rows[Attempt.Status.CANCELLED] > 0
    assert run.sent_count == rows[Attempt.Status.SUCCESS]


@pytest.mark.stress
def test_deleting_a_mailing_mid_run_neither_deadlocks_nor_sends_on(throttled):
    run = big_run()
    took = []

    def delete():
        began = time.monotonic()
        run.mailing.delete()
        took.append(time.monotonic() - began)

    _stopped(run, LoggingSink(), "delete", delete)
    print(f"delete took {took[0]:.2f} s")
    assert not MailingRun.objects.filter(pk=run.pk).exists()
    assert not Attempt.objects.filter(run_id=run.pk).exists()


def _later_clients(run: MailingRun, count: int, step: int) -> list[int]:
    """Recipients well past the point of the action: the last rows of the run."""
    rows = Attempt.objects.filter(run=run).order_by("-pk")
    return list(rows.values_list("client_id", flat=True)[: count * step : step])


@pytest.mark.stress
def test_unsubscribes_mid_run_are_not_mailed(throttled):
    run = big_run()
    sink = LoggingSink()
    gone = _later_clients(run, 10, 100)
    emails = set(Client.objects.filter(pk__in=gone).values_list("email", flat=True))

    def unsubscribe():
        for client_id in gone:
            unsubscribe_client(client_id)

    _acted(run, sink, "unsubscribes", unsubscribe)
    mailed = [rcpt for _pk, rcpt in sink.since(0) if rcpt in emails]
    print(f"unsubscribed clients mailed: {len(mailed)}")
    assert mailed == []
    run.refresh_from_db()
    assert (run.status, run.cancelled_count) == (MailingRun.Status.FINISHED, 10)
    assert run.sent_count == RECIPIENTS - 10 == sink.count()


@pytest.mark.stress
def test_recipients_removed_mid_run_are_not_mailed(throttled):
    run = big_run()
    sink = LoggingSink()
    removed = _later_clients(run, 1000, 1)
    emails = set(Client.objects.filter(pk__in=removed).values_list("email", flat=True))
    mark = []

    def remove():
        remove_recipients(run.mailing, *removed)
        mark.append(sink.count())

    _acted(run, sink, "removal", remove)
    mailed_after = [rcpt for _pk, rcpt in sink.since(mark[0]) if rcpt in emails]
    print(f"removed recipients mailed after the removal: {len(mailed_after)}")
    assert len(mailed_after) <= bound()
    run.refresh_from_db()
    rows = statuses(run)
    assert run.status == MailingRun.Status.FINISHED
    assert rows[Attempt.Status.CANCELLED] == run.cancelled_count
    assert run.cancelled_count + run.sent_count == RECIPIENTS == run.total
    assert run.sent_count == sink.count()
