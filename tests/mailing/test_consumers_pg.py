"""Several consumer processes on one run, on PostgreSQL, through a real SMTP sink.

Exactly-once over SMTP is impossible; the promise is: nothing lost, duplicates no
more than the sends in flight when a consumer died, and each of those flagged.
"""

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from mailing import services
from mailing.models import Attempt, Client, Mailing, MailingRun
from tests.factories import make_message, make_user, set_recipients

from .smtp_servers import smtp_server

# Real commits (other processes must see the rows); serialized_rollback restores
# the groups and pages the migrations created, which the flush removes.
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ROOT = Path(__file__).resolve().parents[2]
RECIPIENTS = 2000
MESSAGE_ID = re.compile(rb"^Message-ID: <attempt\.(\d+)\.", re.M | re.I)


class CountingSink:
    """Counts each attempt id it receives; raw bytes, no parsing, to keep up."""

    def __init__(self):
        self.received = Counter()
        self.connections = set()

    async def handle_DATA(self, server, session, envelope):
        self.connections.add(session.peer)
        match = MESSAGE_ID.search(envelope.content)
        self.received[int(match.group(1)) if match else 0] += 1
        return "250 OK"


def big_run() -> MailingRun:
    # No role: transactional_db flushes the groups that migrations created.
    owner = make_user(role="none")
    clients = Client.objects.bulk_create(
        Client(owner=owner, email=f"r{n}@example.org", full_name=f"R {n}")
        for n in range(RECIPIENTS)
    )
    mailing = Mailing.objects.create(
        owner=owner,
        name="big",
        message=make_message(owner),
        first_send_at=timezone.now(),
    )
    set_recipients(mailing, clients)
    return services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())


def consumer(mode: str, run: MailingRun, port: int) -> subprocess.Popen:
    url = urlsplit(os.environ["DATABASE_URL"])
    test_db = url._replace(path="/" + settings.DATABASES["default"]["NAME"])
    env = {**os.environ, "DATABASE_URL": urlunsplit(test_db)}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.mailing.consumer_runner",
            mode,
            str(run.pk),
            str(port),
        ],
        cwd=ROOT,
        env=env,
    )


def finish(process: subprocess.Popen) -> None:
    # A hang guard, not a timing: a 2-core machine under load took over 60 s.
    assert process.wait(timeout=300) == 0


def wait_for_other_sessions_to_end() -> None:
    """A killed client's PostgreSQL backend still finishes (and commits) the
    statement it was running: count what is in flight once it has."""
    sql = (
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    with connection.cursor() as cursor:
        for _poll in range(1000):
            cursor.execute(sql)
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.01)


def statuses(run: MailingRun) -> Counter:
    return Counter(run.attempts.values_list("status", flat=True))


def test_two_consumers_send_each_recipient_exactly_once():
    run = big_run()
    sink = CountingSink()
    with smtp_server(sink) as port:
        first, second = consumer("send", run, port), consumer("send", run, port)
        finish(first)
        finish(second)

    ids = set(run.attempts.values_list("pk", flat=True))
    run.refresh_from_db()
    duplicated = sum(n - 1 for n in sink.received.values() if n > 1)
    lost = len(ids - set(sink.received))
    print(
        f"\ntwo consumers: lost={lost} duplicated={duplicated} in_flight=0 "
        f"(SMTP connections used: {len(sink.connections)}, 2 per consumer)"
    )
    assert set(sink.received) == ids
    assert duplicated == 0 and lost == 0
    assert statuses(run) == {Attempt.Status.SUCCESS: RECIPIENTS}
    assert (run.status, run.sent_count) == (MailingRun.Status.FINISHED, RECIPIENTS)


def test_a_consumer_killed_mid_run_loses_nothing():
    run = big_run()
    sink = CountingSink()
    with smtp_server(sink) as port:
        victim = consumer("send", run, port)
        deadline = time.monotonic() + 30
        while sum(sink.received.values()) < 300 and time.monotonic() < deadline:
            time.sleep(0.01)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        wait_for_other_sessions_to_end()
        in_flight = set(
            run.attempts.filter(status=Attempt.Status.SENDING).values_list(
                "pk", flat=True
            )
        )
        assert 0 < sum(sink.received.values()) < RECIPIENTS, "kill was not mid-run"
        finish(consumer("sweep", run, port))

    rows = dict(run.attempts.values_list("pk", "status"))
    received = sink.received
    lost = [pk for pk, s in rows.items() if not received[pk] and s != "unknown"]
    duplicated = sum(n - 1 for n in received.values() if n > 1)
    unknown = {pk for pk, s in rows.items() if s == Attempt.Status.UNKNOWN}
    unknown_unsent = sum(1 for pk in unknown if not received[pk])
    print(
        f"\nkilled consumer: lost={len(lost)} duplicated={duplicated} "
        f"in_flight={len(in_flight)} (flagged unknown={len(unknown)}, "
        f"of which never reached the server={unknown_unsent})"
    )
    assert lost == []
    assert duplicated <= len(in_flight)
    assert unknown == in_flight  # every send in flight is flagged, none re-sent
    assert all(received[pk] == 1 for pk, s in rows.items() if s == "success")
    run.refresh_from_db()
    assert run.status == MailingRun.Status.FINISHED
    assert run.sent_count == RECIPIENTS - len(unknown)
