"""The outbox: Attempt rows claimed for sending and settled with their outcome.

States (issue 18): pending -> sending (a free connection's group, claimed under the
consumer's lease and committed right before it goes out, at most one group queued behind
a connection's group on the wire; see pipeline._pump) -> success / failure, or back to
pending with a retry time (committed after). `exchange` can also claim a group ahead
(`claimed`, under the lease) and hand it over later: two writes of every index of the
row where the pump's one claim (`to_wire`) is one. Several consumers share a run: on
PostgreSQL rows are claimed with SELECT ... FOR UPDATE SKIP LOCKED, elsewhere with one
conditional UPDATE.

Lease rules (mailing.sending.leases): every claim, hand-over and result is fenced by the
consumer's lease id (the rows must still carry it) and a claim or hand-over needs
the lease alive. When a lease lapses, its `claimed` rows go back to `pending`
(never on the wire) and only its `sending` rows become `unknown`; a consumer woken
after that finds no row of its own, so it writes and sends nothing more. Rows
claimed without a lease (claim_batch, rows from before leases) go straight to
`sending` and fall back on SENDING_UNKNOWN_AFTER.

People act on a run while it sends (issue 10): pause, cancel, disable, block,
unsubscribe, removal from the audience. The claim re-checks all of that in its own
statement (`SENDABLE`), so a row is handed to a connection only while it may still
be sent, whatever signal did or did not arrive; at most the groups already claimed
(two half-size ones per open connection sending one by one, one ESP batch per
connection) go out after an action. Rows that can no longer be sent
are marked `cancelled` (drop_unsendable).

One lock order for everything that writes a run and its rows: the MailingRun row
first, then its Attempt rows. The claim takes the run's row in its first CTE;
mailing.control locks the runs (ordered by id) before touching rows, and deleting a
mailing or a client locks the runs involved first (mailing.signals), so a delete
waits for a claim, or a claim for a delete, but never each for the other.
"""

import json
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import F, Q

from ..bounces import record_send_bounces
from ..control import OPEN_RUN
from ..counters import bump_sends
from ..models import (
    Attempt,
    Client,
    ConsumerLease,
    Mailing,
    MailingRun,
    Subscription,
)
from . import policy
from .delivery import Outcome


def _tables() -> dict[str, str]:
    from accounts.models import User

    return {
        "attempt": Attempt._meta.db_table,
        "run": MailingRun._meta.db_table,
        "mailing": Mailing._meta.db_table,
        "user": User._meta.db_table,
        "client": Client._meta.db_table,
        "targets": Mailing.lists.through._meta.db_table,
        "subscription": Subscription._meta.db_table,
        "subscribed": Subscription.Status.SUBSCRIBED,
    }


def sendable_sql(paused_too: bool = True) -> str:
    """Whether the row `a` may still be sent: its mailing enabled (and, unless
    `paused_too` is False, not paused), the owner active and not blocked, the
    client subscribed, not suppressed and still a recipient of the mailing.
    Literals only: no parameters to keep in step."""
    paused = "AND NOT m.is_paused" if paused_too else ""
    return SENDABLE.format(**_tables(), paused=paused)


SENDABLE = """EXISTS (
    SELECT 1 FROM {mailing} m JOIN {user} u ON u.id = m.owner_id
        JOIN {client} c ON c.id = a.client_id
    WHERE m.id = a.mailing_id AND m.is_enabled {paused}
        AND u.is_active AND NOT u.is_blocked
        AND c.unsubscribed_at IS NULL AND c.suppressed_reason = ''
        AND (m.all_clients OR EXISTS (SELECT 1 FROM {targets} t
            JOIN {subscription} s ON s.mailing_list_id = t.mailinglist_id
            WHERE t.mailing_id = a.mailing_id AND s.client_id = a.client_id
                AND s.status = '{subscribed}')))"""


@dataclass(frozen=True)
class Exchange:
    """What one exchange gave this consumer: the rows it may now hand to the mail
    server (`handed`, in the order asked) and the group it claimed behind them."""

    handed: list[tuple]
    claimed: list[tuple]


def claim_batch(
    run_id: int, size: int, now: datetime, settle: list[Outcome] = ()
) -> list[tuple]:
    """Without a lease (tests, tools): record `settle`, claim up to `size` rows
    straight to `sending`; SENDING_UNKNOWN_AFTER covers them."""
    return exchange(run_id, None, now, settle=settle, size=size).claimed


def exchange(
    run_id: int,
    lease: int | None,
    now: datetime,
    settle: list[Outcome] = (),
    hand_over: list[tuple] = (),
    size: int = 0,
    to_wire: bool = False,
    after: int = 0,
) -> Exchange:
    """Record `settle` (the last group's outcomes), hand `hand_over` (claimed rows)
    to the wire, claim up to `size` more; all committed, all fenced by `lease`.
    `to_wire`: the rows claimed go straight to `sending` (a group taken for a free
    connection), with one write per row instead of a claim and a hand-over.
    `after`: claim only rows with a greater id (the consumer's claim cursor, see
    pipeline._next_group).

    Results land only on rows still `sending` under this lease; rows are handed
    over only while still `claimed` under it, the lease alive and the row sendable
    (else they go back to `pending`). A row is `sending`, committed, before its
    email leaves, so a crash can never make a row look unsent after it went out.
    """
    if connection.features.has_select_for_update_skip_locked:
        # One statement in autocommit: committed when it returns.
        handed, claimed, written = _exchange_skip_locked(
            run_id,
            lease,
            now,
            settle,
            [row[0] for row in hand_over],
            size,
            to_wire,
            after,
        )
    else:
        with transaction.atomic():
            written = record_outcomes(run_id, settle, now, lease)
            handed = _hand_over_by_update(run_id, lease, hand_over, now)
            claimed = []
            if size:
                claimed = _claim_by_update(run_id, lease, size, now, to_wire, after)
    handed, written = set(handed), set(written)
    # Committed: now the timeline's sends and the bounces' events (issue 17), of
    # the results actually written (a fenced consumer's late ones are not).
    settled = [outcome for outcome in settle if outcome.attempt_id in written]
    bump_sends(run_id, sum(outcome.ok for outcome in settled), now)
    record_send_bounces(settled)
    return Exchange([row for row in hand_over if row[0] in handed], claimed)


def _exchange_skip_locked(
    run_id: int,
    lease: int | None,
    now: datetime,
    settle: list[Outcome],
    hand_over: list[int],
    size: int,
    to_wire: bool = False,
    after: int = 0,
) -> tuple[list[int], list[tuple], list[int]]:
    """PostgreSQL: write the results, hand over, then lock, mark and read the next
    group, in one statement made of only the parts this exchange carries.

    Rows another consumer holds are skipped, never waited for; the status check
    keeps a row that changed meanwhile out. The locked ids are a MATERIALIZED CTE,
    not an `id IN (subquery)`: the planner may run such a subquery again for each
    outer row (a nested loop, e.g. on a table not yet analysed after open_run's
    INSERT), and each rerun skips the rows this statement already updated, takes
    the next LIMIT and so claims the whole run at once (seen: 2,000 rows for a
    batch of 25). The hand-over's check is MATERIALIZED for the same reason: as a
    subquery it was inlined, its sendable test run once per reference to `go`
    and its id list searched again for every row. Rows are updated by
    `id = ANY(array)` or joined to the results' own unnest (a literal array, its
    row count exact), never joined to a CTE: before the table is analysed after
    open_run, the planner takes such a CTE for one row and rescans it for every
    row of the run (4,000 x 1,000 comparisons, 3.7 s, for one 1,000-row group).
    The group is picked from attempt_unsettled in (run, id) order, which the
    primary key cannot give: with `run_id = X ORDER BY id` the planner, whose
    statistics say every row of the run is pending (analysed at its start),
    walked the primary key from the run's first row, stepping over every row
    sent before (5,200 rows for a group of 100 half way through 10,000). The
    `= ANY` keeps the run out of the planner's constants, so `run_id` stays in
    the order asked. The settle finds its rows by id from the results' array:
    with the status equality indexable it walked the status index's
    `sending` entries (dead ones included), which the same statistics count as
    none; `status || ''` keeps that index out. Measured on 10,000 rows: claim
    100-166 -> 56-60 us and settle 68-73 -> 55-57 us of PostgreSQL CPU per email.
    The group starts after the consumer's cursor (`after`): attempt_unsettled
    still holds the entries of rows sent before (two per row: pending, sending)
    until they are found dead to every transaction, which one long transaction
    anywhere on the server postpones (seen: a test run idle in transaction), and
    each such entry costs a visit to its row. From the start of the run, half
    way through 10,000 that was 10,900 buffers for a group of 100.
    All parts see one snapshot: rows being settled or handed over
    are not `pending` there, so none of them is claimed again here.

    The run's row comes back from `locked` as it is after waiting for its lock:
    a pause or cancel committed meanwhile is seen here, not only in the snapshot.

    Lock order: the run's row first (the InitPlan `SELECT id FROM locked` runs
    before any scan takes a row), then Attempt rows. FOR UPDATE also keeps the
    lock on a row it then skips (claimed by another consumer since this snapshot),
    so without that order two consumers deadlock: each holding the other's rows,
    one waiting for the run's row.
    """
    parts, params, selects = [_LOCKED], [run_id], []
    if settle:
        sql, more = _settle_sql(lease, settle, now)
        parts, params = parts + [sql], params + more
        selects.append("SELECT 's', id, NULL, NULL, NULL, NULL FROM settled")
    if hand_over:
        sql, more = _hand_over_sql(lease, hand_over, now)
        parts, params = parts + [sql], params + more
        selects.append("SELECT 'h', id, NULL, NULL, NULL, NULL FROM handed")
    if size:
        sql, more = _claim_sql(run_id, lease, now, size, to_wire, after)
        parts, params = parts + [sql], params + more
        selects.insert(0, _CLAIMED_ROWS.format(**_tables()))
    if not selects:
        return [], [], []
    # Only the parts this exchange carries: PostgreSQL plans every part, used or
    # not (a settle of 100 rows with an empty claim and hand-over: 2.0 ms of
    # planning, 0.2-0.4 ms without them; 112 -> 84 us of its CPU per email).
    sql = f"WITH {', '.join(parts)} {' UNION ALL '.join(selects)} ORDER BY 2"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    by_kind = {"c": [], "h": [], "s": []}
    for kind, *row in rows:
        by_kind[kind].append(row if kind == "c" else row[0])
    return by_kind["h"], [tuple(row) for row in by_kind["c"]], by_kind["s"]


# The lease is alive (none: a claim without lease, see claim_batch).
_LEASE_ALIVE = f"""CAST(%s AS bigint) IS NULL OR EXISTS (
    SELECT 1 FROM {ConsumerLease._meta.db_table} l
    WHERE l.id = %s AND l.expires_at >= %s)"""  # nosec B608 - a model's table


# The run's row, locked first (see _exchange_skip_locked); every part reads it.
_LOCKED = f"""locked AS (
    SELECT id, status FROM {MailingRun._meta.db_table} WHERE id = %s FOR UPDATE)"""  # nosec B608


def _settle_sql(lease: int | None, settle: list[Outcome], now: datetime):
    """Two CTEs: the results onto rows, the counts (of the rows actually settled:
    fenced ones are not counted) and heartbeat onto the run.

    The results go as one JSON document, not a VALUES list (or bulk_update's slow
    CASE): the statement's text is the same for every group. Not as five arrays
    either: psycopg quoted each of their elements in Python, 11.7-12.8 us per row
    and 41% of the consumer's GIL time with Mailgun (py-spy, issue 13); json.dumps
    writes the document in C (1.6-1.9 us per row), as in event_batches.
    """
    table, run_table = Attempt._meta.db_table, MailingRun._meta.db_table
    rows, _sent, _failed = result_rows(settle, now)
    sql = f"""settled AS (
            UPDATE {table} AS a SET status = v.status, attempted_at = %s,
                server_response = v.response, esp_message_id = v.esp_id,
                retry_at = v.retry_at
            FROM json_to_recordset(%s::json) AS v(id bigint, status text,
                response text, esp_id text, retry_at timestamptz)
            WHERE a.id = v.id AND a.status || '' = %s
                AND a.lease IS NOT DISTINCT FROM %s::bigint
                AND a.run_id = (SELECT id FROM locked)
            RETURNING a.id, a.status),
        counted AS (
            UPDATE {run_table} SET
                sent_count = sent_count
                    + (SELECT count(*) FROM settled WHERE status = %s),
                failed_count = failed_count
                    + (SELECT count(*) FROM settled WHERE status = %s),
                heartbeat_at = %s
            WHERE id = (SELECT id FROM locked) RETURNING id)"""  # nosec B608
    success, failure = Attempt.Status.SUCCESS, Attempt.Status.FAILURE
    params = [now, results_document(rows), Attempt.Status.SENDING, lease]
    return sql, params + [success, failure, now]


def _hand_over_sql(lease: int | None, hand_over: list[int], now: datetime):
    """Three CTEs: which claimed rows may still go (run open, row sendable, lease
    alive), those handed to the wire, the others returned to `pending`."""
    t = _tables()
    go = f"""(SELECT status FROM locked) IN (%s, %s) AND {sendable_sql()}
        AND ({_LEASE_ALIVE})"""  # nosec B608 - literals only, values are parameters
    mine = "a.status = %s AND a.lease = %s AND a.run_id = (SELECT id FROM locked)"
    sql = f"""checked AS MATERIALIZED (
            SELECT a.id, {go} AS go FROM {t["attempt"]} a
            WHERE a.id = ANY(%s::bigint[])),
        handed AS (
            UPDATE {t["attempt"]} AS a SET status = %s
            WHERE a.id = ANY(ARRAY(SELECT id FROM checked WHERE go))
                AND {mine} RETURNING a.id),
        returned AS (
            UPDATE {t["attempt"]} AS a SET status = %s, tries = a.tries - 1
            WHERE a.id = ANY(ARRAY(SELECT id FROM checked WHERE NOT go))
                AND {mine} RETURNING a.id)"""  # nosec B608 - literals, parameters
    status = Attempt.Status
    return sql, [
        *(*OPEN_RUN, lease, lease, now, hand_over),
        *(status.SENDING, status.CLAIMED, lease),
        *(status.PENDING, status.CLAIMED, lease),
    ]


def _claim_sql(
    run_id: int, lease: int | None, now: datetime, size: int, to_wire: bool, after: int
):
    """Two CTEs: up to `size` pending rows past `after`, sendable and due, locked
    (skipping those another consumer holds), then marked as this lease's."""
    t = _tables()
    sql = f"""picked AS MATERIALIZED (
            SELECT a.id FROM {t["attempt"]} a
            WHERE a.run_id = ANY(%s::bigint[]) AND a.id > %s AND EXISTS (
                    SELECT FROM locked WHERE status IN (%s, %s))
                AND a.status = %s AND (a.retry_at IS NULL OR a.retry_at <= %s)
                AND {sendable_sql()} AND ({_LEASE_ALIVE})
            ORDER BY a.run_id, a.id LIMIT %s FOR UPDATE OF a SKIP LOCKED),
        claimed AS (
            UPDATE {t["attempt"]} AS a SET status = %s, lease = %s, claimed_at = %s,
                tries = a.tries + 1
            WHERE a.id = ANY(ARRAY(SELECT id FROM picked)) AND a.status = %s
            RETURNING a.id, a.tries, a.client_id)"""  # nosec B608 - literals, parameters
    pending = Attempt.Status.PENDING
    return sql, [
        *([run_id], after, *OPEN_RUN, pending, now, lease, lease, now, size),
        *(_first_status(lease, to_wire), lease, now, pending),
    ]


_CLAIMED_ROWS = """SELECT 'c', claimed.id, claimed.tries, claimed.client_id, c.email,
        c.full_name FROM claimed JOIN {client} c ON c.id = claimed.client_id"""


def results_document(rows: list[tuple]) -> str:
    """result_rows as the JSON array of objects json_to_recordset reads; times in
    ISO 8601 with their offset, which timestamptz reads back to the microsecond."""
    keys = ("id", "status", "response", "esp_id", "retry_at")
    objects = [dict(zip(keys, row, strict=True)) for row in rows]
    return json.dumps(objects, default=datetime.isoformat, ensure_ascii=False)


def analyse_if_stale(total: int) -> bool:
    """ANALYZE the attempts table when the planner's picture of it is smaller than
    this run alone (a new install, or a table emptied and filled again).

    The exchange's plans rest on row counts: with a count of almost nothing the
    planner reads `id = ANY(group)` through a whole other index, one group's
    hand-over taking seconds. Autovacuum gets there, but only after the run.
    True if it analysed."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = %s::regclass",
            [Attempt._meta.db_table],
        )
        known = cursor.fetchone()[0]
        if known >= total:
            return False
        cursor.execute(f"ANALYZE {Attempt._meta.db_table}")  # nosec B608 - a model's table
    return True


def claimable(run_id: int, now: datetime):
    return Attempt.objects.filter(
        Q(retry_at__isnull=True) | Q(retry_at__lte=now),
        run_id=run_id,
        status=Attempt.Status.PENDING,
    )


def _first_status(lease: int | None, to_wire: bool) -> str:
    """What a claim makes of a row: `claimed` (held ahead under a lease), or
    `sending` when it goes to the wire now (or has no lease to return it)."""
    status = Attempt.Status
    return status.CLAIMED if lease and not to_wire else status.SENDING


def _claim_by_update(
    run_id: int,
    lease: int | None,
    size: int,
    now: datetime,
    to_wire: bool = False,
    after: int = 0,
) -> list[tuple]:
    """SQLite: one conditional UPDATE ... RETURNING is the claim (one writer)."""
    table, run_table = Attempt._meta.db_table, MailingRun._meta.db_table
    sql = f"""
        UPDATE {table} SET status = %s, lease = %s, claimed_at = %s,
            tries = tries + 1
        WHERE status = %s AND id IN (
            SELECT a.id FROM {table} a JOIN {run_table} r ON r.id = a.run_id
            WHERE a.run_id = %s AND a.id > %s AND r.status IN (%s, %s)
                AND a.status = %s AND (a.retry_at IS NULL OR a.retry_at <= %s)
                AND {sendable_sql()} AND ({_LEASE_ALIVE})
            ORDER BY a.id LIMIT %s)
        RETURNING id
    """  # nosec B608 - table names from the models, values are parameters
    pending = Attempt.Status.PENDING
    first = _first_status(lease, to_wire)
    params = [first, lease, now, pending, run_id, after, *OPEN_RUN, pending, now]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, lease, lease, now, size])
        ids = [row[0] for row in cursor.fetchall()]
    return list(
        Attempt.objects.filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", "tries", "client_id", "client__email", "client__full_name")
    )


def _hand_over_by_update(
    run_id: int, lease: int | None, rows: list[tuple], now: datetime
) -> list[int]:
    """SQLite: the rows still claimed under a live lease and sendable go to the
    wire; the rest of them back to pending."""
    if not rows:
        return []
    table, run_table = Attempt._meta.db_table, MailingRun._meta.db_table
    ids = ", ".join(str(int(row[0])) for row in rows)
    mine = f"id IN ({ids}) AND status = %s AND lease = %s"
    sql = f"""
        UPDATE {table} SET status = %s WHERE {mine} AND id IN (
            SELECT a.id FROM {table} a JOIN {run_table} r ON r.id = a.run_id
            WHERE a.run_id = %s AND r.status IN (%s, %s) AND {sendable_sql()}
                AND ({_LEASE_ALIVE}))
        RETURNING id
    """  # nosec B608 - table names from the models, ids are integers
    status = Attempt.Status
    with connection.cursor() as cursor:
        params = [status.SENDING, status.CLAIMED, lease, run_id, *OPEN_RUN]
        cursor.execute(sql, [*params, lease, lease, now])
        handed = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            f"UPDATE {table} SET status = %s, tries = tries - 1 WHERE {mine}",  # nosec B608
            [status.PENDING, status.CLAIMED, lease],
        )
    return handed


def drop_unsendable(run_id: int) -> int:
    """Mark `cancelled` the run's pending rows that may no longer be sent; counted.

    A paused mailing keeps its rows (they wait for resume), so pause is not a
    reason here; everything else the claim checks is. Run row first (lock order).
    """
    sql = f"""
        UPDATE {Attempt._meta.db_table} AS a SET status = %s
        WHERE a.run_id = %s AND a.status = %s AND NOT {sendable_sql(paused_too=False)}
    """  # nosec B608 - table names from the models, values are parameters
    with transaction.atomic():
        if not MailingRun.objects.select_for_update().filter(pk=run_id).exists():
            return 0
        with connection.cursor() as cursor:
            cursor.execute(
                sql, [Attempt.Status.CANCELLED, run_id, Attempt.Status.PENDING]
            )
            dropped = cursor.rowcount
        if dropped:
            MailingRun.objects.filter(pk=run_id).update(
                cancelled_count=F("cancelled_count") + dropped
            )
    return dropped


def result_rows(outcomes: list[Outcome], now: datetime) -> tuple[list[tuple], int, int]:
    """(id, status, response, esp id, retry at) per outcome; sent and failed counts."""
    rows, sent, failed = [], 0, 0
    for outcome in outcomes:
        retry_at = None
        if outcome.ok:
            status, sent = Attempt.Status.SUCCESS, sent + 1
        elif (retry_at := policy.retry_at(outcome, now)) is not None:
            status = Attempt.Status.PENDING
        else:
            status, failed = Attempt.Status.FAILURE, failed + 1
        response, esp_id = outcome.response[:2000], outcome.esp_message_id[:255]
        rows.append((outcome.attempt_id, status, response, esp_id, retry_at))
    return rows, sent, failed


def record_outcomes(
    run_id: int, outcomes: list[Outcome], now: datetime, lease: int | None = None
) -> list[int]:
    """Without skip_locked (SQLite): each result on a row still `sending` under
    this lease, and the counts of the rows written, with F(). Returns the ids
    written."""
    rows, _sent, _failed = result_rows(outcomes, now)
    written = []
    if not rows:
        return written
    table, sending = Attempt._meta.db_table, Attempt.Status.SENDING
    counts = {Attempt.Status.SUCCESS: 0, Attempt.Status.FAILURE: 0}
    with transaction.atomic(), connection.cursor() as cursor:
        for pk, status, response, esp_id, retry_at in rows:
            cursor.execute(
                f"""UPDATE {table} SET status = %s, attempted_at = %s,
                    server_response = %s, esp_message_id = %s, retry_at = %s
                WHERE id = %s AND status = %s AND lease IS %s""",  # nosec B608
                [status, now, response, esp_id, retry_at, pk, sending, lease],
            )
            if cursor.rowcount:
                written.append(pk)
                counts[status] = counts.get(status, 0) + 1
        MailingRun.objects.filter(pk=run_id).update(
            sent_count=F("sent_count") + counts[Attempt.Status.SUCCESS],
            failed_count=F("failed_count") + counts[Attempt.Status.FAILURE],
            heartbeat_at=now,
        )
    return written
