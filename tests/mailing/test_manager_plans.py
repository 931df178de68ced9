"""The manager's pages read the whole service: each query an index range or the
rows it names, never a scan or sort of every user, mailing or run (issue 17).
Measured at 20,000 users, 200,000 mailings and 2,000,000 runs: the last 30 days
took 3.7 s of the database's time, the disabled mailings 92 ms, the newest
mailings 88 ms; with these plans 0.2 s, 0.1 ms and under 1 ms."""

from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mailing import dashboard, moderation
from mailing.admin_reports import ReportIndexView
from mailing.models import MailingRun
from mailing.rollups import recent_figures
from tests.factories import make_mailing, make_user

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans"),
]


def plans_of(step) -> list[str]:
    """The plans of the SELECTs `step` makes, with scans made as dear as the
    planner allows: what a large table gets whatever its size here."""
    with CaptureQueriesContext(connection) as captured:
        step()
    plans = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for query in captured.captured_queries:
            if query["sql"].startswith("SELECT"):
                cursor.execute("EXPLAIN " + query["sql"])
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans


def plans_over(plans: list[str], table: str) -> list[str]:
    return [plan for plan in plans if f" on {table}" in plan]


@pytest.fixture
def manager():
    return make_user("manager", email="manager@example.com")


def test_the_last_30_days_read_index_ranges_and_no_mailing(manager):
    plans = plans_of(lambda: dashboard.last_days_figures(manager))

    [runs] = plans_over(plans, "mailing_mailingrun")
    [counts] = plans_over(plans, "mailing_rundaycounts")
    for plan in (runs, counts):
        assert "Seq Scan" not in plan, plan
        assert "mailing_mailing " not in plan, plan
    assert "run_created" in runs and "counts_day" in counts


def test_the_last_30_days_start_at_the_local_days_first_instant():
    mailing = make_mailing(make_user())
    since = timezone.localdate() - timedelta(days=29)
    start = timezone.make_aware(datetime.combine(since, time.min))
    for at, sent in ((start - timedelta(microseconds=1), 1), (start, 10)):
        run = MailingRun.objects.create(
            mailing=mailing, kind="manual", slot=at, status="finished", sent_count=sent
        )
        MailingRun.objects.filter(pk=run.pk).update(created_at=at)

    assert recent_figures(None, since)["sent"] == 10


def test_blocked_users_are_looked_up_by_their_keys(manager):
    blocked = make_user(email="blocked@example.com")
    moderation.set_user_blocked(blocked, True, by=manager)
    panel = dashboard.BlockedUsersPanel(manager)

    plans = plans_over(plans_of(panel.rows), "accounts_user")

    assert plans and all("Seq Scan" not in plan for plan in plans), plans
    assert [entry.object_id for entry in panel.rows()] == [str(blocked.pk)]


def test_the_latest_disabled_mailings_come_from_their_own_index(manager):
    mailing = make_mailing(make_user())
    moderation.set_mailing_enabled(mailing, False, by=manager)
    panel = dashboard.DisabledMailingsPanel(manager)

    [plan] = plans_over(plans_of(panel.rows), "mailing_mailing")

    assert "mailing_disabled_recent" in plan and "Sort" not in plan, plan
    assert panel.rows() == [mailing]


def test_the_reports_index_takes_the_newest_mailings_from_an_index(manager, rf):
    request = rf.get("/")
    request.user = manager
    view = ReportIndexView(request=request)

    plans = plans_of(lambda: list(view.get_context_data()["mailings"]))

    newest = [plan for plan in plans if "Limit" in plan]
    assert newest and "mailing_created" in newest[0], plans
    assert "Sort" not in newest[0], newest[0]
