"""Per run and day counts of events: bumped in the event's own transaction
(mailing.events), rebuilt from the events by `manage.py rebuild_counters`.

The bump is one INSERT ... ON CONFLICT DO UPDATE adding 1 in the database:
concurrent webhooks never lose an increment, and no row is read first.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from functools import cache

from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate, TruncHour

from .models import Attempt, Event, RunDayCounts, RunHourCounts

Kind, Verdict = Event.Kind, Event.Verdict
SMTP_SOURCE = "smtp"  # a 5xx reply to RCPT TO while sending (mailing.bounces)
HUMAN = Q(verdict=Verdict.HUMAN)
# Counter column -> the events it counts.
COUNTED = {
    "delivered": Q(kind=Kind.DELIVERED),
    "soft_bounces": Q(kind=Kind.SOFT_BOUNCE),
    "hard_bounces": Q(kind=Kind.HARD_BOUNCE),
    "send_bounces": Q(kind=Kind.HARD_BOUNCE, source=SMTP_SOURCE),
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
# The timeline's event columns (RunHourCounts also has `sends`).
HOUR_COLUMNS = ["opens", "human_opens", "clicks", "human_clicks"]


# Asked once per event of every batch (mailing.event_batches): building the
# mapping each time was a tenth of the recorder's samples (py-spy, issue 17).
@cache
def columns_for(kind: str, verdict: str, source: str = "") -> tuple[str, ...]:
    """The counters one event adds 1 to."""
    found = {
        Kind.DELIVERED: ("delivered",),
        Kind.SOFT_BOUNCE: ("soft_bounces",),
        Kind.HARD_BOUNCE: ("hard_bounces",),
        Kind.COMPLAINED: ("complaints",),
        Kind.REJECTED: ("rejected",),
        Kind.DEFERRED: ("deferred",),
        Kind.UNSUBSCRIBED: ("unsubscribes",),
        Kind.OPENED: ("opens",),
        Kind.CLICKED: ("clicks",),
    }[kind]
    if verdict == Verdict.HUMAN and kind in (Kind.OPENED, Kind.CLICKED):
        found = (*found, f"human_{found[0]}")
    if kind == Kind.HARD_BOUNCE and source == SMTP_SOURCE:
        found = (*found, "send_bounces")
    return found


def bump(run_id: int, event: Event) -> None:
    """Count the event; call inside the transaction that stores it."""
    bump_many([(run_id, event)])


def bump_many(counted: list[tuple[int, Event]]) -> None:
    """Count (run id, event) pairs: one upsert per table for a webhook's batch."""
    days: dict[tuple, Counter] = {}
    hours: dict[tuple, Counter] = {}
    for run_id, event in counted:
        names = columns_for(event.kind, event.verdict, event.source)
        at = event.at.astimezone(UTC)
        days.setdefault((run_id, at.date()), Counter()).update(names)
        hourly = [name for name in names if name in HOUR_COLUMNS]
        if hourly:
            hour = at.replace(minute=0, second=0, microsecond=0)
            hours.setdefault((run_id, hour), Counter()).update(hourly)
    add(RunDayCounts, "day", days, COLUMNS)
    add(RunHourCounts, "hour", hours, HOUR_COLUMNS)


def bump_sends(run_id: int, sent: int, at: datetime) -> None:
    """Count emails the outbox settled as sent in the hour of `at` (the timeline).

    Called right after the settling statement commits (outbox.exchange), not in
    it: that statement stays as the lease work left it. A process killed in
    between loses one group's sends from the timeline only (the run's own
    counters have them); `manage.py rebuild_counters` recounts from attempts."""
    if sent:
        hour = at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        add(RunHourCounts, "hour", {(run_id, hour): Counter(sends=sent)}, ["sends"])


def add(model, period: str, totals: dict[tuple, Counter], columns: list[str]) -> None:
    """INSERT ... ON CONFLICT DO UPDATE adding the totals, in (run, period) order
    so that two batches never wait for each other's rows in opposite orders."""
    if not totals:
        return
    row = "(%s, %s, " + ", ".join(["%s"] * len(columns)) + ")"
    insert, conflict = upsert_sql(model, period, columns)
    sql = f"{insert} VALUES {', '.join([row] * len(totals))} {conflict}"
    params = []
    for (run_id, when), counts in sorted(totals.items()):
        params += [run_id, when, *(counts[name] for name in columns)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def upsert_sql(model, period: str, columns: list[str]) -> tuple[str, str]:
    """(INSERT INTO ... (columns), ON CONFLICT ... adding them) around the rows."""
    table = model._meta.db_table
    updates = ", ".join(f"{n} = {table}.{n} + EXCLUDED.{n}" for n in columns)
    # Table and column names come from the models and constants, never from input.
    return (
        f"INSERT INTO {table} (run_id, {period}, {', '.join(columns)})",  # nosec B608
        f"ON CONFLICT (run_id, {period}) DO UPDATE SET {updates}",  # nosec B608
    )


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
        return len(rows) + rebuild_timeline(run_ids)


# Attempts the outbox counted as sent, whatever happened to them later.
SENT_STATUSES = [
    Attempt.Status.SUCCESS,
    Attempt.Status.DELIVERED,
    Attempt.Status.BOUNCED,
    Attempt.Status.COMPLAINED,
]


def rebuild_timeline(run_ids=None) -> int:
    """Recount RunHourCounts: sends from the attempts, the rest from the events."""
    hours: dict[tuple, Counter] = {}
    events = Event.objects.filter(kind__in=[Kind.OPENED, Kind.CLICKED])
    attempts = Attempt.objects.filter(
        status__in=SENT_STATUSES, attempted_at__isnull=False
    )
    stale = RunHourCounts.objects.all()
    if run_ids is not None:
        events = events.filter(attempt__run_id__in=run_ids)
        attempts = attempts.filter(run_id__in=run_ids)
        stale = stale.filter(run_id__in=run_ids)
    by_hour = TruncHour("at", tzinfo=UTC)
    grouped = (
        events.values(run=F("attempt__run_id"), on=by_hour)
        .annotate(**{n: Count("id", filter=COUNTED[n]) for n in HOUR_COLUMNS})
        .order_by()
    )
    for g in grouped:
        hours[(g["run"], g["on"])] = Counter({n: g[n] for n in HOUR_COLUMNS})
    sent = (
        attempts.values("run_id", on=TruncHour("attempted_at", tzinfo=UTC))
        .annotate(sends=Count("id"))
        .order_by()
    )
    for g in sent:
        hours.setdefault((g["run_id"], g["on"]), Counter())["sends"] = g["sends"]
    stale.delete()
    keys = sorted(hours)
    for start in range(0, len(keys), 5000):  # under PostgreSQL's 65,535 parameters
        chunk = {key: hours[key] for key in keys[start : start + 5000]}
        add(RunHourCounts, "hour", chunk, ["sends", *HOUR_COLUMNS])
    return len(hours)
