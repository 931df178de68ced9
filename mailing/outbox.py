"""The outbox: Attempt rows claimed for sending and settled with their outcome.

A row moves pending -> sending (claimed and committed before the mail server is
called) -> success / failure, or back to pending with a retry time (committed
after). Several consumers share a run: on PostgreSQL rows are claimed with
SELECT ... FOR UPDATE SKIP LOCKED, elsewhere with one conditional UPDATE.

People act on a run while it sends (issue 10): pause, cancel, disable, block,
unsubscribe, removal from the audience. The claim re-checks all of that in its own
statement (`SENDABLE`), so a row is handed to a connection only while it may still
be sent, whatever signal did or did not arrive; at most the groups already claimed
(one per open connection) go out after an action. Rows that can no longer be sent
are marked `cancelled` (drop_unsendable).

One lock order for everything that writes a run and its rows: the MailingRun row
first, then its Attempt rows. The claim takes the run's row in its first CTE;
mailing.control locks the runs (ordered by id) before touching rows, and deleting a
mailing or a client locks the runs involved first (mailing.signals), so a delete
waits for a claim, or a claim for a delete, but never each for the other.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q

from .control import OPEN_RUN
from .delivery import Outcome
from .models import Attempt, Client, Mailing, MailingRun, Subscription


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


def claim_batch(
    run_id: int, size: int, now: datetime, settle: list[Outcome] = ()
) -> list[tuple]:
    """Record `settle` (the last group's outcomes), then take up to `size` pending
    rows of the run for this consumer; both committed.

    Rows move to `sending` and that is committed before any email leaves, so a
    crash can never make a row look unsent after its email went out.
    """
    if connection.features.has_select_for_update_skip_locked:
        # One statement in autocommit: committed when it returns.
        return _claim_skip_locked(run_id, size, now, settle)
    record_outcomes(run_id, settle, now)
    ids = _claim_by_update(run_id, size, now)
    if not ids:
        return []
    return list(
        Attempt.objects.filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", "tries", "client_id", "client__email", "client__full_name")
    )


def _claim_skip_locked(
    run_id: int, size: int, now: datetime, settle: list[Outcome]
) -> list[tuple]:
    """PostgreSQL: count and write the results, then lock, mark and read the group,
    in one statement: one round trip per connection's group.

    Rows another consumer holds are skipped, never waited for; the status check
    keeps a row that changed meanwhile out. The locked ids are a MATERIALIZED CTE,
    not an `id IN (subquery)`: the planner may run such a subquery again for each
    outer row (a nested loop, e.g. on a table not yet analysed after open_run's
    INSERT), and each rerun skips the rows this statement already updated, takes
    the next LIMIT and so claims the whole run at once (seen: 2,000 rows for a
    batch of 25). All parts see one snapshot: rows being settled are `sending`
    there, so none of them is claimed again here.

    The run's row comes back from `counted` as it is after waiting for its lock:
    a pause or cancel committed meanwhile is seen here, not only in the snapshot.

    Lock order: the run's row first (the InitPlan `SELECT id FROM counted` runs
    before either scan takes a row), then Attempt rows. FOR UPDATE also keeps the
    lock on a row it then skips (claimed by another consumer since this snapshot),
    so without that order two consumers deadlock: each holding the other's rows,
    one waiting for the run's row.
    """
    table = Attempt._meta.db_table
    client_table = Attempt.client.field.related_model._meta.db_table
    pending = Attempt.Status.PENDING
    settled_sql, settled_params = _settle_sql(run_id, settle, now)
    sendable = sendable_sql()
    sql = f"""
        WITH {settled_sql},
        picked AS MATERIALIZED (
            SELECT a.id FROM {table} a
            WHERE a.run_id = (SELECT id FROM counted WHERE status IN (%s, %s))
                AND a.status = %s AND (a.retry_at IS NULL OR a.retry_at <= %s)
                AND {sendable}
            ORDER BY a.id LIMIT %s FOR UPDATE OF a SKIP LOCKED),
        claimed AS (
            UPDATE {table} AS a SET status = %s, claimed_at = %s, tries = a.tries + 1
            FROM picked WHERE a.id = picked.id AND a.status = %s
            RETURNING a.id, a.tries, a.client_id)
        SELECT claimed.id, claimed.tries, claimed.client_id, c.email, c.full_name
        FROM claimed JOIN {client_table} c ON c.id = claimed.client_id
        ORDER BY claimed.id
    """  # nosec B608 - table names from the models, values are parameters
    params = [*OPEN_RUN, pending, now, size, Attempt.Status.SENDING, now, pending]
    with connection.cursor() as cursor:
        cursor.execute(sql, settled_params + params)
        return cursor.fetchall()


def _settle_sql(run_id: int, settle: list[Outcome], now: datetime):
    """Two CTEs: the counts (and heartbeat) onto the run, the results onto rows.

    Arrays, not a VALUES list (or bulk_update's slow CASE): the statement's text is
    the same for every group, so psycopg parses it once.
    """
    table, run_table = Attempt._meta.db_table, MailingRun._meta.db_table
    rows, sent, failed = result_rows(settle, now)
    columns = [list(column) for column in zip(*rows, strict=True)] or [[]] * 5
    sql = f"""counted AS (
            UPDATE {run_table} SET sent_count = sent_count + %s,
                failed_count = failed_count + %s, heartbeat_at = %s
            WHERE id = %s RETURNING id, status),
        settled AS (
            UPDATE {table} AS a SET status = v.status, attempted_at = %s,
                server_response = v.response, esp_message_id = v.esp_id,
                retry_at = v.retry_at
            FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[],
                %s::timestamptz[]) AS v(id, status, response, esp_id, retry_at)
            WHERE a.id = v.id AND a.status IN (%s, %s)
                AND a.run_id = (SELECT id FROM counted))"""  # nosec B608
    params = [sent, failed, now, run_id, now, *columns, *SETTLED]
    return sql, params


def claimable(run_id: int, now: datetime):
    return Attempt.objects.filter(
        Q(retry_at__isnull=True) | Q(retry_at__lte=now),
        run_id=run_id,
        status=Attempt.Status.PENDING,
    )


def _claim_by_update(run_id: int, size: int, now: datetime) -> list[int]:
    """SQLite: one conditional UPDATE ... RETURNING is the claim (one writer)."""
    table, run_table = Attempt._meta.db_table, MailingRun._meta.db_table
    sendable = sendable_sql()
    sql = f"""
        UPDATE {table} SET status = %s, claimed_at = %s, tries = tries + 1
        WHERE status = %s AND id IN (
            SELECT a.id FROM {table} a JOIN {run_table} r ON r.id = a.run_id
            WHERE a.run_id = %s AND r.status IN (%s, %s) AND a.status = %s
                AND (a.retry_at IS NULL OR a.retry_at <= %s) AND {sendable}
            ORDER BY a.id LIMIT %s)
        RETURNING id
    """  # nosec B608 - table names from the models, values are parameters
    pending, sending = Attempt.Status.PENDING, Attempt.Status.SENDING
    params = [sending, now, pending, run_id, *OPEN_RUN, pending, now, size]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


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
        elif outcome.transient and outcome.tries < settings.SENDING_MAX_TRIES:
            status, retry_at = Attempt.Status.PENDING, now + retry_delay(outcome.tries)
        else:
            status, failed = Attempt.Status.FAILURE, failed + 1
        response, esp_id = outcome.response[:2000], outcome.esp_message_id[:255]
        rows.append((outcome.attempt_id, status, response, esp_id, retry_at))
    return rows, sent, failed


# Only rows still `sending` (or flagged `unknown` by the sweeper meanwhile) take a
# result: nothing else may overwrite a recorded outcome.
SETTLED = (Attempt.Status.SENDING, Attempt.Status.UNKNOWN)


def record_outcomes(run_id: int, outcomes: list[Outcome], now: datetime) -> None:
    """Without skip_locked (SQLite): each result, and the counts with F()."""
    rows, sent, failed = result_rows(outcomes, now)
    if not rows:
        return
    table = Attempt._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            f"""UPDATE {table} SET status = %s, attempted_at = %s,
                server_response = %s, esp_message_id = %s, retry_at = %s
            WHERE id = %s AND status IN (%s, %s)""",  # nosec B608
            [(s, now, r, e, t, pk, *SETTLED) for pk, s, r, e, t in rows],
        )
        MailingRun.objects.filter(pk=run_id).update(
            sent_count=F("sent_count") + sent,
            failed_count=F("failed_count") + failed,
            heartbeat_at=now,
        )


def retry_delay(tries: int) -> timedelta:
    """Exponential backoff: base, 2 x base, 4 x base, ..."""
    return timedelta(seconds=settings.SENDING_RETRY_BACKOFF * 2 ** max(tries - 1, 0))
