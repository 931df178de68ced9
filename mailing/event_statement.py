"""An event that only counts, stored in one statement (PostgreSQL).

Deliveries, deferrals, opens and clicks change an attempt's status and the
rollups, never a client. Most ESPs post them one a request (Postmark), so each
cost a lookup, an insert, an update, two upserts and a durable commit, and the
ORM's query building was most of the process's time. Here one statement with
data-modifying CTEs does the same, in one transaction: the event is inserted
only when its attempt exists and it is new (ON CONFLICT DO NOTHING, so a
concurrent duplicate waits and then adds nothing), and only an inserted event
changes the status and the counters. What it writes is what mailing.events
writes (same row from new_event, same TRANSITIONS, same counter columns); the
rollup rebuild test holds the two equal.
"""

from __future__ import annotations

from datetime import UTC

from django.db import connection, transaction

from .counters import COLUMNS, HOUR_COLUMNS, columns_for, upsert_sql
from .models import Attempt, Event, RunDayCounts, RunHourCounts

# Table and column names below come from the models, never from input.
FIELDS = [field for field in Event._meta.concrete_fields if not field.primary_key]


def usable() -> bool:
    return connection.vendor == "postgresql"


def store(event: Event, transition) -> bool:
    """Insert the unsaved event with its effects; False if it was not new or its
    attempt is gone. `transition`: (status, statuses it replaces) or None."""
    parts, params = [_run(), _insert()], [event.attempt_id]
    params += _values(event)
    if transition:
        sql, values = _status(event, *transition)
        parts.append(sql)
        params += values
    for sql, values in _counters(event):
        parts.append(sql)
        params += values
    statement = "WITH " + ",\n".join(parts) + "\nSELECT id FROM stored"  # nosec B608
    with transaction.atomic(), connection.cursor() as cursor:
        commit_without_waiting_for_disk()
        cursor.execute(statement, params)
        row = cursor.fetchone()
    if row is None:
        return False
    event.pk = row[0]
    return True


def commit_without_waiting_for_disk() -> None:
    """Let this transaction's COMMIT return before its WAL reaches the disk.

    A durable commit waits for an fsync (about 5 ms on the benchmark machine), most
    of a single-event webhook's time. PostgreSQL's asynchronous commit (docs:
    "Asynchronous Commit") keeps the database consistent; a crash of PostgreSQL
    itself can lose the last moments of commits, and an ESP never sends an event
    it was answered 200 for again. That loss costs a figure here (a delivery, an
    open), so only these events take it: bounces, complaints and unsubscriptions,
    which suppress, stay durable.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _run() -> str:
    table = Attempt._meta.db_table
    return f"run AS (SELECT run_id FROM {table} WHERE id = %s)"  # nosec B608


def _insert() -> str:
    names = ", ".join(field.column for field in FIELDS)
    marks = ", ".join(["%s"] * len(FIELDS))
    return (
        f"stored AS (INSERT INTO {Event._meta.db_table} ({names}) "  # nosec B608
        f"SELECT {marks} FROM run ON CONFLICT (attempt_id, dedupe_key) DO NOTHING "
        "RETURNING id, attempt_id)"
    )


def _values(event: Event) -> list:
    return [
        field.get_db_prep_save(getattr(event, field.attname), connection)
        for field in FIELDS
    ]


def _status(event: Event, status: str, replaces: list[str]) -> tuple[str, list]:
    sql = (
        f"status AS (UPDATE {Attempt._meta.db_table} AS a "  # nosec B608
        "SET status = %s, server_response = %s FROM stored "
        "WHERE a.id = stored.attempt_id AND a.status = ANY(%s))"
    )
    response = f"{event.source}: {event.description}"[:2000]
    return sql, [str(status), response, [str(s) for s in replaces]]


def _counters(event: Event) -> list[tuple[str, list]]:
    names = set(columns_for(event.kind, event.verdict, event.source))
    at = event.at.astimezone(UTC)
    found = [("days", RunDayCounts, "day", at.date(), COLUMNS)]
    if names & set(HOUR_COLUMNS):
        hour = at.replace(minute=0, second=0, microsecond=0)
        found.append(("hours", RunHourCounts, "hour", hour, HOUR_COLUMNS))
    statements = []
    for name, model, period, when, columns in found:
        insert, conflict = upsert_sql(model, period, columns)
        marks = ", ".join(["%s"] * len(columns))
        rows = f"SELECT run_id, %s, {marks} FROM run, stored"  # nosec B608
        sql = f"{name} AS ({insert} {rows} {conflict})"
        statements.append((sql, [when, *(int(c in names) for c in columns)]))
    return statements
