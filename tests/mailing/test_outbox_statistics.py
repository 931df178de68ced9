"""The exchange's plans rest on the planner's row counts (mailing.sending.outbox): a run
bigger than what the planner knows of the attempts table gets it analysed first."""

import pytest
from django.db import connection
from django.utils import timezone

from mailing import services
from mailing.models import Attempt, MailingRun
from mailing.sending.outbox import analyse_if_stale
from tests.factories import make_client, make_mailing, make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def known_rows() -> float:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = %s::regclass",
            [Attempt._meta.db_table],
        )
        return cursor.fetchone()[0]


def test_a_run_bigger_than_the_planner_knows_gets_the_table_analysed():
    owner = make_user()
    clients = [make_client(owner) for _ in range(30)]
    mailing = make_mailing(owner, clients=clients)
    run = services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())
    # Earlier tests may have left the planner any count: ask for more than it knows.
    bigger = max(run.total, int(known_rows()) + 1)
    assert analyse_if_stale(bigger)
    assert known_rows() >= run.total  # counted now, this run's rows included
    assert not analyse_if_stale(run.total)  # known now: no second ANALYZE
