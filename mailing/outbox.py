"""The outbox: Attempt rows claimed for sending and settled with their outcome.

A row moves pending -> sending (claimed and committed before the mail server is
called) -> success / failure, or back to pending with a retry time (committed
after). Several consumers share a run: on PostgreSQL rows are claimed with
SELECT ... FOR UPDATE SKIP LOCKED, elsewhere with one conditional UPDATE.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q

from .delivery import Outcome
from .models import Attempt, MailingRun


def claim_batch(run_id: int, size: int, now: datetime) -> list[tuple]:
    """Take up to `size` pending rows of the run for this consumer, committed.

    Rows move to `sending` and that is committed before any email leaves, so a
    crash can never make a row look unsent after its email went out.
    """
    if connection.features.has_select_for_update_skip_locked:
        # One statement in autocommit: committed when it returns.
        return _claim_skip_locked(run_id, size, now)
    ids = _claim_by_update(run_id, size, now)
    if not ids:
        return []
    return list(
        Attempt.objects.filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", "tries", "client_id", "client__email", "client__full_name")
    )


def _claim_skip_locked(run_id: int, size: int, now: datetime) -> list[tuple]:
    """PostgreSQL: lock, mark and read the batch in one statement.

    Rows another consumer holds are skipped, never waited for; the status check
    keeps a row that changed meanwhile out. The locked ids are a MATERIALIZED CTE,
    not an `id IN (subquery)`: the planner may run such a subquery again for each
    outer row (a nested loop, e.g. on a table not yet analysed after open_run's
    INSERT), and each rerun skips the rows this statement already updated, takes
    the next LIMIT and so claims the whole run at once (seen: 2,000 rows for a
    batch of 25).
    """
    table = Attempt._meta.db_table
    client_table = Attempt.client.field.related_model._meta.db_table
    pending = Attempt.Status.PENDING
    sql = f"""
        WITH picked AS MATERIALIZED (
            SELECT id FROM {table}
            WHERE run_id = %s AND status = %s AND (retry_at IS NULL OR retry_at <= %s)
            ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED),
        claimed AS (
            UPDATE {table} AS a SET status = %s, claimed_at = %s, tries = a.tries + 1
            FROM picked WHERE a.id = picked.id AND a.status = %s
            RETURNING a.id, a.tries, a.client_id)
        SELECT claimed.id, claimed.tries, claimed.client_id, c.email, c.full_name
        FROM claimed JOIN {client_table} c ON c.id = claimed.client_id
        ORDER BY claimed.id
    """  # nosec B608 - table names from the models, values are parameters
    params = [run_id, pending, now, size, Attempt.Status.SENDING, now, pending]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def claimable(run_id: int, now: datetime):
    return Attempt.objects.filter(
        Q(retry_at__isnull=True) | Q(retry_at__lte=now),
        run_id=run_id,
        status=Attempt.Status.PENDING,
    )


def _claim_by_update(run_id: int, size: int, now: datetime) -> list[int]:
    """SQLite: one conditional UPDATE ... RETURNING is the claim (one writer)."""
    table = Attempt._meta.db_table
    sql = f"""
        UPDATE {table} SET status = %s, claimed_at = %s, tries = tries + 1
        WHERE status = %s AND id IN (
            SELECT id FROM {table}
            WHERE run_id = %s AND status = %s AND (retry_at IS NULL OR retry_at <= %s)
            ORDER BY id LIMIT %s)
        RETURNING id
    """  # nosec B608 - table name from the model, values are parameters
    pending, sending = Attempt.Status.PENDING, Attempt.Status.SENDING
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [sending, now, pending, run_id, pending, now, size])
        return [row[0] for row in cursor.fetchall()]


def record_outcomes(run_id: int, outcomes: list[Outcome], now: datetime) -> None:
    """Write each result (committed after the send) and count it with F()."""
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
    if not rows:
        return
    if connection.vendor == "postgresql":
        _write_results_pg(run_id, rows, (sent, failed), now)
        return
    with transaction.atomic():
        _write_results(rows, now)
        MailingRun.objects.filter(pk=run_id).update(
            sent_count=F("sent_count") + sent,
            failed_count=F("failed_count") + failed,
            heartbeat_at=now,
        )


# Only rows still `sending` (or flagged `unknown` by the sweeper meanwhile) take a
# result: nothing else may overwrite a recorded outcome.
SETTLED = (Attempt.Status.SENDING, Attempt.Status.UNKNOWN)


def _write_results_pg(
    run_id: int, rows: list[tuple], counts: tuple[int, int], now: datetime
) -> None:
    """PostgreSQL: the results and the run's counters in one statement.

    Arrays, not a VALUES list (or bulk_update's slow CASE): the statement's text is
    the same for every group, so psycopg parses it once. One statement is atomic
    on its own, and results are written per connection's group, so it is kept to
    one round trip.
    """
    table, run_table = Attempt._meta.db_table, MailingRun._meta.db_table
    ids, statuses, responses, esp_ids, retry_ats = map(list, zip(*rows, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH settled AS (
                UPDATE {table} AS a SET status = v.status, attempted_at = %s,
                    server_response = v.response, esp_message_id = v.esp_id,
                    retry_at = v.retry_at
                FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[],
                    %s::timestamptz[]) AS v(id, status, response, esp_id, retry_at)
                WHERE a.id = v.id AND a.status IN (%s, %s))
            UPDATE {run_table} SET sent_count = sent_count + %s,
                failed_count = failed_count + %s, heartbeat_at = %s
            WHERE id = %s""",  # nosec B608 - table names from the models
            [now, ids, statuses, responses, esp_ids, retry_ats, *SETTLED]
            + [*counts, now, run_id],
        )


def _write_results(rows: list[tuple], now: datetime) -> None:
    table = Attempt._meta.db_table
    with connection.cursor() as cursor:
        cursor.executemany(
            f"""UPDATE {table} SET status = %s, attempted_at = %s,
                server_response = %s, esp_message_id = %s, retry_at = %s
            WHERE id = %s AND status IN (%s, %s)""",  # nosec B608
            [(s, now, r, e, t, pk, *SETTLED) for pk, s, r, e, t in rows],
        )


def retry_delay(tries: int) -> timedelta:
    """Exponential backoff: base, 2 x base, 4 x base, ..."""
    return timedelta(seconds=settings.SENDING_RETRY_BACKOFF * 2 ** max(tries - 1, 0))
