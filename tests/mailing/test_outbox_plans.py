"""The exchange's plans on PostgreSQL (mailing.sending.outbox): each group costs
the rows it claims and settles, not the run's rows already sent.

Measured on a 10,000-recipient run (benchmarks): the claim walked the table's
primary key from its first row, filtering out every row sent before (quadratic
in the run), and the settle found its rows through the status index; PostgreSQL
CPU per email claim + settle 170-235 us -> 115 us.
"""

import pytest
from django.db import connection, transaction
from django.utils import timezone

from mailing import services
from mailing.models import Client, MailingRun
from mailing.sending import leases
from mailing.sending.outbox import exchange
from mailing.sending.outcome import Outcome
from tests.factories import make_mailing, make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

GROUP = 100
# Enough rows for the claim to be planned as in a real run (indexes, not a scan).
RECIPIENTS = 3000


def explained(plans: list):
    """An execute wrapper that first runs the exchange under EXPLAIN ANALYZE in a
    savepoint rolled back, then for real."""

    def wrapper(execute, sql, params, many, context):
        # Every exchange, whatever parts it carries, starts from the run's row.
        if sql.startswith("WITH locked AS"):
            with transaction.atomic():
                context["cursor"].execute(
                    "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params
                )
                plans.append(context["cursor"].fetchone()[0][0]["Plan"])
                transaction.set_rollback(True)
        return execute(sql, params, many, context)

    return wrapper


def attempt_scans(plan: dict, cte: str) -> list[dict]:
    """The scans of mailing_attempt inside the CTE named `cte`."""
    found = []

    def walk(node: dict, inside: bool):
        inside = inside or node.get("Subplan Name") == f"CTE {cte}"
        if inside and node.get("Relation Name") == "mailing_attempt":
            if "Scan" in node["Node Type"]:
                found.append(node)
        for child in node.get("Plans", []):
            walk(child, inside)

    walk(plan, False)
    return found


def sent(rows) -> list[Outcome]:
    return [Outcome(row[0], row[1], True, response="250 ok") for row in rows]


@pytest.fixture
def half_sent_run():
    """A run with four groups sent and one on the wire, analysed at its start
    (mailing.sending.outbox.analyse_if_stale) as a new install's first run is."""
    owner = make_user()
    Client.objects.bulk_create(
        Client(owner=owner, email=f"r{n}@example.org") for n in range(RECIPIENTS)
    )
    mailing = make_mailing(owner, all_clients=True)
    run = services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE mailing_attempt")
    lease = leases.acquire(timezone.now())
    wire = []
    for _group in range(5):
        exchange(run.pk, lease, timezone.now(), sent(wire))
        wire = exchange(run.pk, lease, timezone.now(), size=GROUP, to_wire=True)
        wire = wire.claimed
    return run, lease, wire


def test_a_group_is_claimed_without_walking_the_rows_sent_before(half_sent_run):
    run, lease, wire = half_sent_run
    plans = []
    with connection.execute_wrapper(explained(plans)):
        swap = exchange(
            run.pk, lease, timezone.now(), sent(wire), size=GROUP, to_wire=True
        )

    assert len(swap.claimed) == GROUP
    (scan,) = attempt_scans(plans[0], "picked")
    # At most the group on the wire is stepped over, never the 400 rows sent.
    assert scan.get("Rows Removed by Filter", 0) <= GROUP, scan


def test_a_group_after_the_cursor_visits_no_row_sent_before(half_sent_run):
    run, lease, wire = half_sent_run
    plans = []
    with connection.execute_wrapper(explained(plans)):
        swap = exchange(
            run.pk,
            lease,
            timezone.now(),
            sent(wire),
            size=GROUP,
            to_wire=True,
            after=wire[-1][0],
        )

    assert [row[0] for row in swap.claimed] == sorted(row[0] for row in swap.claimed)
    assert swap.claimed[0][0] > wire[-1][0]
    (scan,) = attempt_scans(plans[0], "picked")
    # The entries of the 500 rows claimed before (two each: pending, sending)
    # stay in attempt_unsettled while a transaction that could see them is open
    # (here the test's own; in production any long one on the server). From
    # the run's start the scan visited each one's row (~1,000 buffers); past
    # the cursor it reads the group's own rows and a few index pages.
    assert own_buffers(scan) < 2 * GROUP, scan


def own_buffers(node: dict) -> int:
    """Buffers a plan node read itself, without its children (the sendable check
    run for each row)."""

    def total(each: dict) -> int:
        return each["Shared Hit Blocks"] + each["Shared Read Blocks"]

    return total(node) - sum(total(child) for child in node.get("Plans", []))


def test_a_groups_results_find_their_rows_by_id(half_sent_run):
    run, lease, wire = half_sent_run
    plans = []
    with connection.execute_wrapper(explained(plans)):
        exchange(run.pk, lease, timezone.now(), sent(wire))

    (scan,) = attempt_scans(plans[0], "settled")
    # By the ids settled (or, on a small table, a scan of it), not by walking
    # the status index's entries: the planner's figures for a status in flight
    # are always stale (analysed before the run, all rows pending).
    assert "status" not in scan.get("Index Cond", ""), scan
    run.refresh_from_db()
    assert run.sent_count == 5 * GROUP


def test_an_exchange_carries_only_its_own_parts(half_sent_run):
    """PostgreSQL plans every CTE of a statement, used or not: a settle that also
    carried an empty claim and hand-over spent 2 ms planning them."""
    run, lease, wire = half_sent_run
    statements = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        exchange(run.pk, lease, timezone.now(), sent(wire))
        exchange(run.pk, lease, timezone.now(), size=GROUP, to_wire=True)

    settle, claim = [sql for sql in statements if sql.startswith("WITH locked AS")]
    assert "settled AS" in settle, settle
    assert "picked AS" not in settle and "checked AS" not in settle, settle
    assert "picked AS" in claim, claim
    assert "settled AS" not in claim and "checked AS" not in claim, claim
