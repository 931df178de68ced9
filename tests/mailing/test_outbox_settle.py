"""The settle's values arrive unchanged (mailing.sending.outbox, issue 13).

On PostgreSQL the results travel as one JSON document read by json_to_recordset
(psycopg quoting five arrays in Python was 41% of the consumer's time with an
ESP); these round-trip the awkward values through it. On SQLite the same checks
go through record_outcomes.
"""

import zoneinfo
from datetime import datetime

import pytest
from django.db import connection
from django.utils import timezone

from mailing import services
from mailing.models import Attempt, MailingRun
from mailing.sending import leases
from mailing.sending.outbox import exchange
from mailing.sending.outcome import Outcome
from mailing.sending.policy import retry_delay
from tests.factories import make_client, make_mailing, make_user

pytestmark = pytest.mark.django_db

ROW = Attempt.Status

AWKWARD = [
    "",
    "NULL",
    "null",
    "{a,b}",
    '{"json": [1, "two"]}',
    'it\'s "quoted" with a \\ backslash and \\\\ two, \\n not a newline',
    "550 5.1.1 line one\r\n550 line two\nthree\ttabbed",
    "\\u0041 is not an A",
    "Привет, мир — ✓ 🙂 \u2028 ß ﬁ",
    "x" * 1999 + "я",
]


def sending_rows(count: int, lease: int) -> tuple[MailingRun, list[tuple]]:
    owner = make_user()
    clients = [make_client(owner) for _ in range(count)]
    mailing = make_mailing(owner, clients=clients)
    run = services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())
    rows = exchange(run.pk, lease, timezone.now(), size=count, to_wire=True).claimed
    return run, rows


def outcomes(rows: list[tuple]) -> list[Outcome]:
    """Each awkward text as a success's response and ESP id, then as a retryable
    failure (a retry time), then as a final one."""
    made = []
    for index, (pk, tries, *_rest) in enumerate(rows):
        text = AWKWARD[index % len(AWKWARD)]
        kind = index // len(AWKWARD)
        if kind == 0:
            made.append(Outcome(pk, tries, True, False, text, text[:255]))
        else:
            made.append(Outcome(pk, tries, False, kind == 1, text))
    return made


def stored(run: MailingRun) -> dict[int, tuple]:
    fields = ("pk", "status", "server_response", "esp_message_id", "retry_at")
    return {row[0]: row[1:] for row in run.attempts.values_list(*fields)}


def test_awkward_responses_ids_and_retry_times_are_stored_exactly():
    lease = leases.acquire(timezone.now())
    run, rows = sending_rows(3 * len(AWKWARD), lease)
    # Away from UTC and with microseconds: the retry time must keep both.
    vladivostok = zoneinfo.ZoneInfo("Asia/Vladivostok")
    now = datetime(2026, 12, 2, 9, 30, 15, 123457, tzinfo=vladivostok)
    settle = outcomes(rows)

    written = exchange(run.pk, lease, now, settle=settle)

    assert written.handed == [] and written.claimed == []
    retry = now + retry_delay(1)
    expected = {}
    for outcome in settle:
        if outcome.ok:
            value = (ROW.SUCCESS, outcome.response, outcome.esp_message_id, None)
        elif outcome.transient:
            value = (ROW.PENDING, outcome.response, "", retry)
        else:
            value = (ROW.FAILURE, outcome.response, "", None)
        expected[outcome.attempt_id] = value
    assert stored(run) == expected
    run.refresh_from_db()
    assert (run.sent_count, run.failed_count) == (len(AWKWARD), len(AWKWARD))


@pytest.mark.postgres
def test_the_results_go_to_postgresql_as_one_document_not_arrays_of_values():
    """No list of texts or times among the statement's parameters: psycopg would
    quote each element in Python."""
    lease = leases.acquire(timezone.now())
    run, rows = sending_rows(len(AWKWARD), lease)
    seen = []

    def keep(execute, sql, params, many, context):
        seen.append(params)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        exchange(run.pk, lease, timezone.now(), settle=outcomes(rows))

    lists = [p for params in seen for p in params if isinstance(p, list | tuple)]
    assert not [p for p in lists if any(isinstance(v, str | datetime) for v in p)]
    assert stored(run)[rows[0][0]][0] == ROW.SUCCESS
