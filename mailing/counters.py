"""Per run and day counts of events: bumped in the event's own transaction
(mailing.events), rebuilt from the events by `manage.py rebuild_counters`.

The bump is one INSERT ... ON CONFLICT DO UPDATE adding 1 in the database:
concurrent webhooks never lose an increment, and no row is read first.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC

from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate

from .models import Event, RunDayCounts

Kind, Verdict = Event.Kind, Event.Verdict
HUMAN = Q(verdict=Verdict.HUMAN)
# Counter column -> the events it counts.
COUNTED = {
    "delivered": Q(kind=Kind.DELIVERED),
    "soft_bounces": Q(kind=Kind.SOFT_BOUNCE),
    "hard_bounces": Q(kind=Kind.HARD_BOUNCE),
    "complaints": Q(kind=Kind.COMPLAINED),
    "rejected": Q(kind=Kind.REJECTED),
    "deferred": Q(kind=Kind.DEFERRED),
    "unsubscribes": Q(kind=Kind.UNSUBSCRIBED),
    "opens": Q(kind=Kind.OPENED),
    "human_opens": Q(kind=Kind.OPENED) & HUMAN,
    "clicks": Q(kind=Kind.CLICKED),
    "human_clicks": Q(kind=Kind.CLICKED) & HUMAN,
}
COLUMNS = list(COUNTED)


def columns_for(kind: str, verdict: str) -> list[str]:
    """The counters one event adds 1 to."""
    found = {
        Kind.DELIVERED: ["delivered"],
        Kind.SOFT_BOUNCE: ["soft_bounces"],
        Kind.HARD_BOUNCE: ["hard_bounces"],
        Kind.COMPLAINED: ["complaints"],
        Kind.REJECTED: ["rejected"],
        Kind.DEFERRED: ["deferred"],
        Kind.UNSUBSCRIBED: ["unsubscribes"],
        Kind.OPENED: ["opens"],
        Kind.CLICKED: ["clicks"],
    }[kind]
    if verdict == Verdict.HUMAN and kind in (Kind.OPENED, Kind.CLICKED):
        found = [*found, f"human_{found[0]}"]
    return found


def bump(run_id: int, event: Event) -> None:
    """Count the event; call inside the transaction that stores it."""
    names = columns_for(event.kind, event.verdict)
    day = event.at.astimezone(UTC).date()
    table = RunDayCounts._meta.db_table
    # Column names come from COLUMNS above, never from input.
    values = ", ".join("1" if name in names else "0" for name in COLUMNS)
    updates = ", ".join(f"{n} = {table}.{n} + EXCLUDED.{n}" for n in names)
    sql = (
        f"INSERT INTO {table} (run_id, day, {', '.join(COLUMNS)}) "  # nosec B608 - names from COLUMNS
        f"VALUES (%s, %s, {values}) "
        f"ON CONFLICT (run_id, day) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [run_id, day])


def bump_many(counted: list[tuple[int, Event]]) -> None:
    """Count (run id, event) pairs with one upsert: a batch of a webhook."""
    totals: dict[tuple, Counter] = {}
    for run_id, event in counted:
        key = (run_id, event.at.astimezone(UTC).date())
        totals.setdefault(key, Counter()).update(columns_for(event.kind, event.verdict))
    if not totals:
        return
    table = RunDayCounts._meta.db_table
    row = "(%s, %s, " + ", ".join(["%s"] * len(COLUMNS)) + ")"
    updates = ", ".join(f"{n} = {table}.{n} + EXCLUDED.{n}" for n in COLUMNS)
    sql = (
        f"INSERT INTO {table} (run_id, day, {', '.join(COLUMNS)}) "  # nosec B608 - names from COLUMNS
        f"VALUES {', '.join([row] * len(totals))} "
        f"ON CONFLICT (run_id, day) DO UPDATE SET {updates}"
    )
    params = []
    for (run_id, day), counts in sorted(totals.items()):
        params += [run_id, day, *(counts[name] for name in COLUMNS)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def rebuild_counters(run_ids=None) -> int:
    """Recount from the events (all runs, or these); the number of rows written."""
    events = Event.objects.all()
    counts = RunDayCounts.objects.all()
    if run_ids is not None:
        events = events.filter(attempt__run_id__in=run_ids)
        counts = counts.filter(run_id__in=run_ids)
    grouped = (
        events.values(run=F("attempt__run_id"), on=TruncDate("at", tzinfo=UTC))
        .annotate(**{name: Count("id", filter=q) for name, q in COUNTED.items()})
        .order_by()
    )
    rows = [
        RunDayCounts(run_id=g["run"], day=g["on"], **{n: g[n] for n in COLUMNS})
        for g in grouped
    ]
    with transaction.atomic():
        counts.delete()
        RunDayCounts.objects.bulk_create(rows, batch_size=2000)
    return len(rows)
