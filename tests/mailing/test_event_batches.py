"""A webhook's batch of events (SparkPost posts up to a thousand at once) is
recorded in one transaction with bulk statements: the same effects as one by
one, duplicates skipped, and a query count that does not grow with the batch."""

import base64
import json

import pytest
from django.db import connection
from django.test import Client as Browser
from django.test.utils import CaptureQueriesContext

from mailing.counters import rebuild_counters
from mailing.models import (
    Attempt,
    Client,
    Event,
    RunDayCounts,
    TrackedLink,
)
from mailing.tokens import attempt_token
from tests.factories import make_sent_attempts

pytestmark = pytest.mark.django_db

URL = "/anymail/sparkpost/tracking/"
AUTH = "Basic " + base64.b64encode(b"test:webhook-secret").decode()
COUNTED = [f.name for f in RunDayCounts._meta.fields if f.name not in ("id", "run")]


def event(kind: str, attempt_id: int, event_id: str, **fields) -> dict:
    return {
        "msys": {
            "message_event": {
                "type": kind,
                "event_id": event_id,
                "timestamp": "1700000000",
                "rcpt_to": "r@example.com",
                "rcpt_meta": {"attempt": attempt_token(attempt_id)},
                **fields,
            }
        }
    }


def post(events: list[dict]):
    response = Browser().post(
        URL, json.dumps(events), content_type="application/json",
        HTTP_AUTHORIZATION=AUTH,
    )  # fmt: skip
    assert response.status_code == 200, response.content
    return response


def counts() -> list[dict]:
    return list(RunDayCounts.objects.order_by("run", "day").values(*COUNTED))


def test_a_batch_has_the_effects_of_its_events_one_by_one():
    a, b = make_sent_attempts(2)
    batch = [
        event("delivery", a, "1"),
        event("bounce", a, "2", bounce_class="10", raw_reason="550 no such user"),
        event("delivery", a, "1"),  # the same event twice in one batch
        event("delivery", b, "3"),
        event("open", b, "4", user_agent="Mozilla/5.0 (X11; Linux x86_64)"),
    ]
    post(batch)
    post(batch)  # the ESP retries the whole batch: nothing changes
    assert Event.objects.filter(attempt_id=a).count() == 2
    assert Event.objects.filter(attempt_id=b).count() == 2
    statuses = dict(Attempt.objects.filter(pk__in=[a, b]).values_list("pk", "status"))
    assert statuses == {a: Attempt.Status.BOUNCED, b: Attempt.Status.DELIVERED}
    assert Client.objects.get(attempts__pk=a).suppressed_reason
    assert not Client.objects.get(attempts__pk=b).suppressed_reason
    incremental = counts()
    assert incremental[0]["delivered"] == 2 and incremental[0]["hard_bounces"] == 1
    rebuild_counters()
    assert counts() == incremental


@pytest.mark.postgres  # set-wise there; the embedded SQLite updates row by row
def test_a_batch_costs_the_same_queries_at_5_and_at_50_events():
    ids = make_sent_attempts(55)

    def queries(attempts: list[int]) -> int:
        batch = [event("delivery", pk, f"d-{pk}") for pk in attempts]
        with CaptureQueriesContext(connection) as captured:
            post(batch)
        return len(captured)

    assert queries(ids[:5]) == queries(ids[5:55])
    assert Attempt.objects.filter(status=Attempt.Status.DELIVERED).count() == 55


def test_a_scanner_clicking_every_link_in_one_batch_is_told_apart():
    (a,) = make_sent_attempts(1)
    run_id = Attempt.objects.get(pk=a).run_id
    links = ["https://example.org/one", "https://example.org/two"]
    for url in links:
        TrackedLink.objects.create(run_id=run_id, url=url, url_digest=url[-3:] * 20)
    human = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/128.0"
    post(
        [
            event("click", a, f"c-{n}", target_link_url=url, user_agent=human,
                  timestamp="1767261600")
            for n, url in enumerate(links)
        ]
    )  # fmt: skip
    verdicts = list(
        Event.objects.filter(kind="clicked")
        .order_by("id")
        .values_list("verdict", "verdict_reason")
    )
    assert verdicts[-1] == ("scanner", "all 2 links clicked at once")


def test_events_have_one_index_leading_with_their_attempt():
    """Each recorded event inserts into every index of mailing_event: the unique
    (attempt, dedupe_key) one serves lookups by attempt, so there is no second."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, Event._meta.db_table)
    # PostgreSQL lists a unique constraint apart from its index; SQLite may list both.
    leading = {
        (tuple(c["columns"]), c["unique"])
        for c in found.values()
        if (c["index"] or c["unique"]) and c["columns"][:1] == ["attempt_id"]
    }
    assert leading == {(("attempt_id", "dedupe_key"), True)}


@pytest.mark.postgres  # the embedded SQLite looks the stored events up first
def test_a_batch_finds_its_duplicates_in_the_insert_not_a_lookup():
    """ON CONFLICT DO NOTHING tells new events from stored ones in the INSERT
    itself: no query reads mailing_event first, and a retried batch adds nothing."""
    ids = make_sent_attempts(3)
    batch = [event("delivery", pk, f"d-{pk}") for pk in ids]
    for _ in range(2):
        with CaptureQueriesContext(connection) as captured:
            post(batch)
        reads = [
            q["sql"] for q in captured
            if q["sql"].startswith("SELECT") and "mailing_event" in q["sql"]
        ]  # fmt: skip
        assert reads == []
    assert Event.objects.filter(attempt_id__in=ids).count() == 3
    assert counts()[0]["delivered"] == 3


def test_a_batch_stores_each_field_as_given():
    """The rows travel to PostgreSQL as one JSON document: quotes, backslashes,
    newlines, any script, an address and the exact instant come back unchanged."""
    from datetime import UTC, datetime

    from mailing.event_batches import record_events
    from mailing.events import Happening

    a, b = make_sent_attempts(2)
    at = datetime(2026, 3, 29, 1, 30, 5, 123456, tzinfo=UTC)
    odd = 'he said "no" \\ back\nslash — Привет 😀 \t%s {}'
    batch = [
        Happening(
            kind="opened",
            source="sparkpost",
            at=at,
            esp_event_id=f"o-{pk}",
            description=odd,
            url='https://пример.рф/?q=1&r="2"',
            user_agent=odd,
            ip="2001:db8::1",
            verdict="human",
            verdict_reason=odd,
        )  # fmt: skip
        for pk in (a, b)
    ]
    assert record_events(list(zip((a, b), batch, strict=True))) == 2
    stored = Event.objects.get(attempt_id=b)
    assert (stored.at, stored.description, stored.user_agent) == (at, odd, odd)
    assert (stored.url, stored.ip) == ('https://пример.рф/?q=1&r="2"', "2001:db8::1")
    assert stored.verdict_reason == odd
