"""Recording a webhook's events together: one transaction, bulk inserts, one
status update per kind and one rollup upsert for the whole batch.

ESPs post their events in batches (SendGrid, Mandrill, SparkPost, Mailgun's
legacy and Brevo's batched webhooks; up to a thousand a request), and Anymail's
tracking signal fires once per event. Recorded one by one, each event cost a
lookup, an insert, an update, an upsert and a commit; here the batch costs about
as many queries as one event did. What each event does is the same as
mailing.events.record_event: that function stays the one for single events (the
pixel, the redirect) and the fallback when a batch meets a concurrent duplicate.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from operator import itemgetter
from types import SimpleNamespace

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from .classification import classify
from .counters import bump_many
from .events import (
    COUNTED_ONLY,
    TRANSITIONS,
    Happening,
    Kind,
    _hit,
    apply_to_client,
    event_values,
    record_event,
)
from .models import Attempt, Event

CLASSIFIED = (Kind.OPENED, Kind.CLICKED)
ATTEMPTS, EVENTS = Attempt._meta.db_table, Event._meta.db_table
# Their columns are event_values' keys (each field's name is its column's).
EVENT_FIELDS = [f for f in Event._meta.concrete_fields if not f.primary_key]


def record_events(items: list[tuple[int, Happening]]) -> int:
    """Store and apply these (attempt id, happening) pairs; the number new."""
    if len(items) <= 1:  # Postmark and most ESPs: one event a request
        return sum(record_event(*item) is not None for item in items)
    found = _attempts({attempt_id for attempt_id, _ in items})
    rows = _rows(items, found)
    if connection.vendor == "postgresql":
        # ON CONFLICT skips a concurrent duplicate: no retry one by one.
        with transaction.atomic():
            return _store(_insert_new(rows), found)
    rows = _without_stored(rows)
    try:
        with transaction.atomic():
            return _store([Event(**values) for values, _ in rows], found)
    except IntegrityError:
        # The same event arrived at the same time through another request: fall
        # back to one transaction per event, where the duplicate is skipped.
        return sum(record_event(v["attempt_id"], h) is not None for v, h in rows)


def _attempts(ids: set[int]) -> dict[int, tuple[int, int, object]]:
    if connection.vendor == "postgresql":
        # One parameter here and in _insert_new: `__in` binds one per value,
        # and Django's lookup and psycopg's quoting of those thousands were
        # ~18% of the recorder's samples on SparkPost batches (py-spy).
        values = _select(
            f"SELECT id, client_id, run_id, attempted_at FROM {ATTEMPTS} "  # nosec B608 - the model's table name
            "WHERE id = ANY(%s::bigint[])",
            [array_literal(ids)],
        )
    else:
        values = Attempt.objects.filter(pk__in=ids).values_list(
            "pk", "client_id", "run_id", "attempted_at"
        )
    return {pk: (client_id, run_id, at) for pk, client_id, run_id, at in values}


def _without_stored(rows):
    """The embedded SQLite: the rows whose (attempt, key) is not recorded yet."""
    keys = {(values["attempt_id"], values["dedupe_key"]) for values, _ in rows}
    stored = set(
        Event.objects.filter(
            attempt_id__in={a for a, _ in keys},
            dedupe_key__in={k for _, k in keys},
        ).values_list("attempt_id", "dedupe_key")
    )
    return [(v, h) for v, h in rows if (v["attempt_id"], v["dedupe_key"]) not in stored]


def _insert_new(rows) -> list[SimpleNamespace]:
    """PostgreSQL: insert the rows in one statement and return those that were
    new, each with the event's fields as attributes. Looking up stored rows
    first, then bulk_create, cost a second round trip, the unique index probed
    twice and, with a model instance and Django's preparation of each field of
    each row, over half of the recorder's CPU (cProfile); the rows go as one
    JSON document instead, which json.dumps writes in C."""
    if not rows:
        return []
    # (attempt, key) order: two recorders that meet on a key wait, never deadlock.
    values = sorted((v for v, _ in rows), key=itemgetter("attempt_id", "dedupe_key"))
    columns = ", ".join(f.column for f in EVENT_FIELDS)
    sql = (
        f"INSERT INTO {EVENTS} ({columns}) SELECT {columns} "  # nosec B608 - the model's names
        f"FROM json_populate_recordset(NULL::{EVENTS}, %s) "
        "ON CONFLICT (attempt_id, dedupe_key) DO NOTHING "
        "RETURNING id, attempt_id, dedupe_key"
    )
    document = json.dumps(values, default=datetime.isoformat)
    new = {(a, key): pk for pk, a, key in _select(sql, [document])}
    return [
        SimpleNamespace(pk=pk, **v)
        for v in values
        if (pk := new.get((v["attempt_id"], v["dedupe_key"]))) is not None
    ]


def _select(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _rows(items, found) -> list[tuple[dict, Happening]]:
    """The columns of each event (events.event_values), without those repeated
    in the batch."""
    now, rows, keys = timezone.now(), [], set()
    clicks: dict[int, list] = defaultdict(list)  # earlier in the batch, per attempt
    for attempt_id, happening in items:
        if attempt_id not in found:
            continue
        key = happening.dedupe_key()  # before `at` is filled in, as record_event
        if (attempt_id, key) in keys:
            continue
        keys.add((attempt_id, key))
        happening.at = happening.at or happening.received_at or now
        if happening.kind in CLASSIFIED and not happening.verdict:
            _classify(attempt_id, happening, found, clicks[attempt_id])
        rows.append((event_values(attempt_id, happening, key), happening))
    return rows


def _classify(attempt_id: int, happening: Happening, found, clicks: list) -> None:
    """As record_event does, counting the batch's earlier clicks as stored: a
    scanner's clicks on every link often arrive in one batch."""
    _client_id, run_id, sent_at = found[attempt_id]
    hit = _hit(attempt_id, run_id, sent_at, happening, earlier=clicks)
    happening.verdict, happening.verdict_reason = classify(hit)
    if happening.kind == Kind.CLICKED and happening.url:
        clicks.append((happening.url, happening.at))


def _store(events: list, found) -> int:
    """Apply the events (Events, or their fields from _insert_new); those of
    the embedded SQLite are inserted here."""
    if connection.vendor != "postgresql":
        events = Event.objects.bulk_create(events)
    _set_statuses(events)
    for event in events:
        if event.kind not in COUNTED_ONLY:  # rare: one by one
            apply_to_client(event, found[event.attempt_id][0])
    bump_many([(found[event.attempt_id][1], event) for event in events])
    return len(events)


def _set_statuses(events: list[Event]) -> None:
    """One UPDATE per kind, weakest first (TRANSITIONS' order), so that a bounce
    and a delivery in one batch end as the bounce, as one by one."""
    by_kind = defaultdict(dict)
    for event in events:
        if event.kind in TRANSITIONS:
            response = f"{event.source}: {event.description}"
            by_kind[event.kind][event.attempt_id] = response
    for kind, (status, replaces) in TRANSITIONS.items():
        if not by_kind[kind]:
            continue
        if connection.vendor != "postgresql":  # the embedded SQLite: row by row
            for attempt_id, response in by_kind[kind].items():
                Attempt.objects.filter(pk=attempt_id, status__in=replaces).update(
                    status=status, server_response=response[:2000]
                )
            continue
        # The rows as one JSON document, which json.dumps writes in C: as two
        # arrays, psycopg quoted each element in Python, a third of the
        # recorder's time on a batch of deliveries (py-spy, issue 17). In id
        # order: two recorders (event_queue.help_drain) lock rows in one order.
        changes = sorted(by_kind[kind].items())
        rows = [{"id": pk, "response": r[:2000]} for pk, r in changes]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {ATTEMPTS} AS a SET status = %s, server_response = v.response "  # nosec B608 - the model's table name
                "FROM json_to_recordset(%s) AS v(id bigint, response text) "
                "WHERE a.id = v.id AND a.status = ANY(%s::varchar[])",
                [str(status), json.dumps(rows), array_literal(replaces)],
            )


def array_literal(values) -> str:
    """A PostgreSQL array's text ("{1,2}") of ids or plain words, which psycopg
    passes as one string instead of quoting each element in Python."""
    return "{" + ",".join(map(str, values)) + "}"
