"""Deliveries, deferrals, opens and clicks stored in one statement (PostgreSQL):
the same rows, statuses and counters as the ORM path, committed without waiting
for the disk, while bounces and complaints stay durable."""

import random
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mailing import event_statement
from mailing.counters import rebuild_counters
from mailing.events import Happening, record_event
from mailing.models import Attempt, Event, MailingRun, RunDayCounts, RunHourCounts
from mailing.services import open_run
from tests.factories import make_client, make_mailing, make_user

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not event_statement.usable(), reason="one-statement events need PostgreSQL"
    ),
]
ASYNC = "synchronous_commit TO OFF"


def sent_attempts(count: int) -> list[int]:
    owner = make_user()
    mailing = make_mailing(owner, clients=[make_client(owner) for _ in range(count)])
    run = open_run(mailing, MailingRun.Kind.MANUAL, mailing.first_send_at)
    run.attempts.update(status=Attempt.Status.SUCCESS, attempted_at=timezone.now())
    return list(run.attempts.order_by("pk").values_list("pk", flat=True))


def statements(queries) -> list[str]:
    return [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]


def test_a_delivery_is_one_statement_committed_without_waiting_for_disk():
    [attempt_id] = sent_attempts(1)

    with CaptureQueriesContext(connection) as queries:
        event = record_event(attempt_id, Happening(kind="delivered", source="postmark"))

    assert event is not None and event.pk
    sql = statements(queries)
    assert len(sql) == 2 and ASYNC in sql[0]
    assert Attempt.objects.get(pk=attempt_id).status == Attempt.Status.DELIVERED
    assert RunDayCounts.objects.get().delivered == 1


def test_a_bounce_stays_durable():
    [attempt_id] = sent_attempts(1)

    with CaptureQueriesContext(connection) as queries:
        record_event(attempt_id, Happening(kind="hard_bounce", source="postmark"))

    assert not any(ASYNC in sql for sql in statements(queries))
    assert RunDayCounts.objects.get().hard_bounces == 1


def test_the_same_delivery_twice_and_a_missing_attempt_add_nothing():
    [attempt_id] = sent_attempts(1)
    delivered = Happening(kind="delivered", source="postmark", esp_event_id="e1")

    assert record_event(attempt_id, delivered) is not None
    again = Happening(kind="delivered", source="postmark", esp_event_id="e1")
    assert record_event(attempt_id, again) is None
    assert record_event(attempt_id + 10_000, delivered) is None

    assert Event.objects.count() == 1
    assert RunDayCounts.objects.get().delivered == 1


def test_an_open_counts_in_the_day_and_the_hour():
    [attempt_id] = sent_attempts(1)
    record_event(
        attempt_id,
        Happening(kind="opened", source="pixel", user_agent="Mozilla/5.0 (X11)"),
    )
    hours = list(RunHourCounts.objects.values_list("opens", "human_opens"))
    days = list(RunDayCounts.objects.values_list("opens", "human_opens"))

    rebuild_counters()

    assert list(RunHourCounts.objects.values_list("opens", "human_opens")) == hours
    assert list(RunDayCounts.objects.values_list("opens", "human_opens")) == days
    assert days == [(1, Event.objects.get().verdict == Event.Verdict.HUMAN)]


def outcome(ids: list[int]) -> tuple:
    statuses = list(
        Attempt.objects.filter(pk__in=ids).order_by("pk").values_list("status")
    )
    events = list(
        Event.objects.filter(attempt_id__in=ids)
        .order_by("attempt_id", "kind", "at")
        .values_list("kind", "verdict", "description")
    )
    run = Attempt.objects.get(pk=ids[0]).run_id
    fields = [f.name for f in RunDayCounts._meta.fields[3:]]
    days = RunDayCounts.objects.filter(run_id=run).order_by("day")
    counts = list(days.values_list(*fields))
    return statuses, events, counts


def play(ids: list[int]) -> None:
    """The same random mix of events for any set of attempts."""
    rng, now = random.Random(5), timezone.now()
    for _ in range(80):
        at = now - timedelta(minutes=rng.randrange(600))
        happening = Happening(
            kind=rng.choice(Event.Kind.values),
            source="postmark",
            at=at,
            esp_event_id=str(rng.randrange(60)),
            description="250 ok",
            url="https://example.org/a",
            user_agent="Mozilla/5.0 (X11)",
        )
        record_event(ids[rng.randrange(len(ids))], happening)


def test_the_statement_writes_what_the_orm_path_writes(monkeypatch):
    fast, orm = sent_attempts(4), sent_attempts(4)

    play(fast)
    monkeypatch.setattr(event_statement, "usable", lambda: False)
    play(orm)

    assert outcome(fast) == outcome(orm)
