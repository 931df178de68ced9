"""The event queue (mailing.event_queue) on real Redis and PostgreSQL: a webhook's
deliveries and opens are queued and recorded in batches, its bounces in the
request; a recorder killed between taking entries and acknowledging them loses
nothing and, killed after its commit, counts nothing twice."""

import base64
import io
import json
import os
import signal
import subprocess  # nosec B404 - runs this project's Python, no shell
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client as Browser
from django.test.utils import CaptureQueriesContext

from mailing import event_queue
from mailing.counters import rebuild_counters
from mailing.models import Attempt, Client, Event, RunDayCounts
from mailing.tokens import attempt_token
from tests.factories import make_sent_attempts

ROOT = Path(__file__).resolve().parents[2]
URL = "/anymail/postmark/tracking/"
AUTH = "Basic " + base64.b64encode(b"test:webhook-secret").decode()
COUNTED = [f.name for f in RunDayCounts._meta.fields if f.name not in ("id", "run")]

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not settings.REDIS_URL, reason="the event queue needs Redis"),
]

# A recorder that takes entries from the stream and is killed: before recording
# them ("before") or after its commit, before acknowledging them ("after").
RECORDER = """
import sys, time
import django
django.setup()
from mailing import event_queue
record = event_queue.record_events
def stalled(items):
    if sys.argv[1] == "after":
        record(items)
    print("taken", len(items), flush=True)
    time.sleep(600)
event_queue.record_events = stalled
event_queue.drain()
"""


@pytest.fixture(autouse=True)
def empty_stream():
    from django_redis import get_redis_connection

    client = get_redis_connection("default")
    keys = [event_queue.stream_key(), f"{event_queue.stream_key()}:kick"]
    keys.append(event_queue.dead_letter_key())
    client.delete(*keys)
    yield client
    client.delete(*keys)


def post(record_type: str, attempt_id: int, **fields) -> None:
    body = {
        "RecordType": record_type,
        "MessageID": f"pm-{attempt_id}",
        "Metadata": {"attempt": attempt_token(attempt_id)},
        **fields,
    }
    response = Browser().post(
        URL, json.dumps(body), content_type="application/json",
        HTTP_AUTHORIZATION=AUTH,
    )  # fmt: skip
    assert response.status_code == 200, response.content


def deliver_all(ids: list[int]) -> None:
    for pk in ids:
        post("Delivery", pk, DeliveredAt="2026-01-01T10:00:00Z")


def counts() -> list[dict]:
    return list(RunDayCounts.objects.order_by("run", "day").values(*COUNTED))


def no_recorder_woken(client) -> None:
    """As if a drain were already enqueued: the events wait in the stream."""
    client.set(f"{event_queue.stream_key()}:kick", 1, ex=60)


def test_deliveries_wait_in_the_stream_a_bounce_is_recorded_at_once(empty_stream):
    a, b = make_sent_attempts(2)
    no_recorder_woken(empty_stream)
    deliver_all([a, b])
    post("Bounce", b, Type="HardBounce", BouncedAt="2026-01-01T10:05:00Z")

    assert event_queue.pending_count() == 2
    assert list(Event.objects.values_list("attempt_id", "kind")) == [
        (b, Event.Kind.HARD_BOUNCE)
    ]
    assert Client.objects.get(attempts__pk=b).suppressed_reason

    assert event_queue.drain() == 2
    statuses = dict(Attempt.objects.filter(pk__in=[a, b]).values_list("pk", "status"))
    # The late delivery does not undo the bounce recorded before it.
    assert statuses == {a: Attempt.Status.DELIVERED, b: Attempt.Status.BOUNCED}
    assert event_queue.pending_count() == 0
    incremental = counts()
    assert incremental[0]["delivered"] == 2 and incremental[0]["hard_bounces"] == 1
    rebuild_counters()
    assert counts() == incremental


def test_a_queued_delivery_costs_its_request_no_database_query(empty_stream):
    (a,) = make_sent_attempts(1)
    no_recorder_woken(empty_stream)
    with CaptureQueriesContext(connection) as queries:
        deliver_all([a])
    assert [query["sql"] for query in queries] == []
    assert event_queue.pending_count() == 1


def test_an_entry_names_only_the_fields_set_and_old_entries_still_record(
    empty_stream,
):
    a, b = make_sent_attempts(2)
    no_recorder_woken(empty_stream)
    deliver_all([a])
    ((_id, fields),) = empty_stream.xrange(event_queue.stream_key())
    ((attempt_id, queued),) = json.loads(fields[b"items"])
    # Writing every empty field was a quarter of a batch request's CPU.
    assert (attempt_id, sorted(queued)) == (a, ["at", "kind", "received_at", "source"])
    # As queued before this shape: every field, the empty dates as null.
    old = dict.fromkeys(["esp_event_id", "description", "reject_reason", "url"], "")
    old.update(kind="delivered", source="postmark", at=None, received_at=None)
    empty_stream.xadd(event_queue.stream_key(), {"items": json.dumps([[b, old]])})

    assert event_queue.drain() == 2
    statuses = set(Attempt.objects.filter(pk__in=[a, b]).values_list("status"))
    assert statuses == {(Attempt.Status.DELIVERED,)}


def test_the_request_wakes_a_recorder():
    (a,) = make_sent_attempts(1)
    deliver_all([a])  # tasks run inline in the suite (HUEY immediate)
    assert Attempt.objects.get(pk=a).status == Attempt.Status.DELIVERED
    assert event_queue.pending_count() == 0


def test_events_posted_during_a_drain_wake_nobody_and_are_taken_by_it(
    empty_stream, monkeypatch
):
    a, b = make_sent_attempts(2)
    record, woken = event_queue.record_events, []
    monkeypatch.setattr(event_queue, "_wake", lambda: woken.append(1))

    def record_and_receive_another(items):
        if not woken:
            woken.append(0)
            deliver_all([b])  # arrives while the drain holds the key
        return record(items)

    monkeypatch.setattr(event_queue, "record_events", record_and_receive_another)
    no_recorder_woken(empty_stream)
    deliver_all([a])
    assert event_queue.drain() == 2
    assert woken == [0]  # the second event woke no recorder
    assert event_queue.pending_count() == 0
    deliver_all([b])  # the stream was empty: the drain let go of the key
    assert woken == [0, 1]


def test_a_backed_up_stream_wakes_one_helper_which_lets_go_when_done(
    empty_stream, monkeypatch
):
    ids = make_sent_attempts(5)
    monkeypatch.setattr(event_queue, "BATCH_ENTRIES", 2)
    woken = []
    monkeypatch.setattr(event_queue, "_wake", lambda helper=False: woken.append(helper))
    no_recorder_woken(empty_stream)
    deliver_all(ids[:3])

    # Full batches: one helper called, not one per batch (it has not run yet).
    assert event_queue.drain() == 3
    assert woken == [True]
    deliver_all(ids[3:])
    assert event_queue.help_drain() == 2
    assert not empty_stream.exists(f"{event_queue.stream_key()}:helper")
    assert event_queue.pending_count() == 0
    statuses = set(Attempt.objects.filter(pk__in=ids).values_list("status"))
    assert statuses == {(Attempt.Status.DELIVERED,)}


def test_without_the_queue_each_event_is_recorded_in_its_request(settings):
    settings.WEBHOOK_EVENT_QUEUE = False
    (a,) = make_sent_attempts(1)
    deliver_all([a])
    assert Attempt.objects.get(pk=a).status == Attempt.Status.DELIVERED


def kill_a_recorder(when: str) -> str:
    """Start a recorder that takes the entries, kill it at `when`; its output."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="site_config.settings.test")
    env["DATABASE_URL"] = database_url()
    recorder = subprocess.Popen(  # nosec B603 - fixed argv
        [sys.executable, "-c", RECORDER, when],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = recorder.stdout.readline()  # it has taken them (and maybe committed)
    finally:
        recorder.send_signal(signal.SIGKILL)
        recorder.wait(timeout=30)
    return line


def database_url() -> str:
    """The suite's database, for the recorder's process."""
    db = connection.settings_dict
    user = f"{db['USER']}:{db['PASSWORD']}" if db["PASSWORD"] else db["USER"]
    return f"postgres://{user}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


# Committed for real: the recorder is another process.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("when", ["before", "after"])
def test_a_recorder_killed_loses_nothing_and_counts_nothing_twice(empty_stream, when):
    if connection.vendor != "postgresql":
        pytest.skip("the recorder's process needs the suite's PostgreSQL database")
    ids = make_sent_attempts(30)
    no_recorder_woken(empty_stream)
    deliver_all(ids)
    assert event_queue.pending_count() == 30

    assert kill_a_recorder(when) == "taken 30\n"
    recorded_by_the_dead = Event.objects.count()
    assert recorded_by_the_dead == (30 if when == "after" else 0)

    # The next drain claims what the dead recorder left pending (its idle time
    # is shortened here; in production a minute).
    assert event_queue.drain(claim_idle_ms=0) == 30 - recorded_by_the_dead
    assert event_queue.pending_count() == 0
    delivered = Attempt.objects.filter(pk__in=ids, status=Attempt.Status.DELIVERED)
    assert delivered.count() == 30
    assert Event.objects.count() == 30
    incremental = counts()
    assert incremental[0]["delivered"] == 30
    rebuild_counters()
    assert counts() == incremental


def test_an_entry_that_keeps_failing_goes_to_the_dead_letters(
    empty_stream, monkeypatch, caplog
):
    """Retried each sweep until MAX_DELIVERIES tries, then moved aside, logged
    and counted; put back once the cause is fixed, it is recorded."""
    (a,) = make_sent_attempts(1)
    record = event_queue.record_events

    def broken(items):
        raise ValueError("a bug in recording")

    monkeypatch.setattr(event_queue, "record_events", broken)
    no_recorder_woken(empty_stream)
    deliver_all([a])
    for _ in range(event_queue.MAX_DELIVERIES - 1):
        assert event_queue.drain(claim_idle_ms=0) == 0  # each sweep tries again
    assert event_queue.pending_count() == 1
    assert event_queue.dead_letter_count() == 0

    event_queue.drain(claim_idle_ms=0)
    assert event_queue.pending_count() == 0
    assert event_queue.dead_letter_count() == 1
    (dead,) = empty_stream.xrange(event_queue.dead_letter_key())
    assert dead[1][b"error"] == b"ValueError: a bug in recording"
    assert f"failed {event_queue.MAX_DELIVERIES} times" in caplog.text
    assert event_queue.drain(claim_idle_ms=0) == 0  # no more tries
    assert shown_by_command() == "0 entries waiting.\n1 dead letters.\n"

    monkeypatch.setattr(event_queue, "record_events", record)
    assert shown_by_command("--requeue").startswith("1 dead letters put back")
    assert event_queue.drain() == 1
    assert Attempt.objects.get(pk=a).status == Attempt.Status.DELIVERED
    assert event_queue.dead_letter_count() == event_queue.pending_count() == 0


def shown_by_command(*args) -> str:
    out = io.StringIO()
    call_command("queued_events", *args, stdout=out, no_color=True)
    return out.getvalue()


def test_a_thread_queues_over_one_connection_it_keeps(empty_stream, monkeypatch):
    """No connection is taken from the pool per request, and one Redis closed
    under the thread is reopened: the next event is queued, not lost."""
    a, b, c = make_sent_attempts(3)
    no_recorder_woken(empty_stream)
    deliver_all([a])
    pool = empty_stream.connection_pool
    taken = []
    take = pool.get_connection
    monkeypatch.setattr(pool, "get_connection", lambda: taken.append(1) or take())
    deliver_all([b])
    assert taken == []
    own = event_queue._client()
    own.client_kill_filter(_id=own.client_id())  # as if Redis had dropped it
    deliver_all([c])
    assert event_queue.pending_count() == 3
    assert event_queue.drain() == 3


def test_a_queued_delivery_is_one_redis_command_of_its_thread(
    empty_stream, monkeypatch
):
    """The append and the wake-up check go in one command (APPEND_AND_KICK)."""
    a, b = make_sent_attempts(2)
    no_recorder_woken(empty_stream)
    deliver_all([a])  # the script is loaded on the first
    connection = event_queue._client().connection
    sent = []
    send = connection.send_packed_command
    monkeypatch.setattr(
        connection,
        "send_packed_command",
        lambda *args, **kwargs: sent.append(1) or send(*args, **kwargs),
    )
    deliver_all([b])
    assert sent == [1]
    assert event_queue.pending_count() == 2
