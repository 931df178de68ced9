"""Issue 17: the admin home's "Last 30 days" panel draws the days as bars (the
timeline's chart) with the same figures as a table: sent and failed from the runs
made that day, people's opens and clicks from the day rollups. An owner's chart
counts only their mailings; a manager's sums the whole service. In Chromium, ru
and en (SCREENSHOTS=<folder> keeps them)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from wagtail.users.models import UserProfile

from mailing.dashboard import last_days_chart
from mailing.models import MailingRun, RunDayCounts
from tests.factories import make_mailing, make_user
from tests.mailing.test_dashboard import panel
from tests.mailing.test_e2e_schedule import shoot
from tests.mailing.test_e2e_workspace import sign_in


def seed_day(owner, days_ago: int, *, sent, failed=0, human_opens=0, human_clicks=0):
    """A run made `days_ago` days ago with its send counters and that day's rollup."""
    when = timezone.now() - timedelta(days=days_ago)
    run = MailingRun.objects.create(
        mailing=make_mailing(owner),
        kind=MailingRun.Kind.MANUAL,
        slot=when,
        status=MailingRun.Status.FINISHED,
        total=sent + failed,
        sent_count=sent,
        failed_count=failed,
        started_at=when,
    )
    MailingRun.objects.filter(pk=run.pk).update(created_at=when)
    RunDayCounts.objects.create(
        run=run,
        day=timezone.localdate(when),
        opens=human_opens * 3,
        human_opens=human_opens,
        clicks=human_clicks * 2,
        human_clicks=human_clicks,
    )
    return run


@pytest.fixture
def owners():
    owner = make_user(email="owner@example.com", language="en")
    other = make_user(email="other@example.com", language="en")
    seed_day(owner, 2, sent=7, failed=2, human_opens=4, human_clicks=3)
    seed_day(owner, 10, sent=5)
    seed_day(owner, 40, sent=900)  # before the 30 days
    seed_day(other, 2, sent=100, failed=9, human_opens=50, human_clicks=20)
    return owner, other


def day(chart, days_ago):
    return chart["days"][-1 - days_ago]


@pytest.mark.django_db
def test_an_owners_bars_are_their_rollups_and_no_one_elses(owners):
    owner, _other = owners
    chart = last_days_chart(owner)

    assert len(chart["days"]) == 30
    figures = {"sent": 7, "failed": 2, "human_opens": 4, "human_clicks": 3}
    assert {name: day(chart, 2)[name] for name in figures} == figures
    assert day(chart, 10)["sent"] == 5
    assert sum(point["sent"] for point in chart["days"]) == 12
    for row in chart["chart"]["rows"]:
        values = [bar["value"] for bar in row["bars"]]
        assert values == [point[row["name"]] for point in chart["days"]]
        assert row["peak"] == max(values + [1])
    sent = chart["chart"]["rows"][0]
    assert [bar["height"] for bar in sent["bars"] if bar["value"]] == [34, 48]


@pytest.mark.django_db
def test_a_manager_sees_every_owners_days_summed(owners):
    chart = last_days_chart(make_user("manager"))
    assert day(chart, 2)["sent"] == 107
    assert day(chart, 2)["human_opens"] == 54


@pytest.mark.django_db
def test_the_chart_costs_two_queries(owners, django_assert_num_queries):
    owner, _other = owners
    last_days_chart(owner)  # the user's permissions, read once per request
    with django_assert_num_queries(2):
        last_days_chart(owner)


@pytest.mark.django_db
def test_the_owners_panel_draws_and_tabulates_only_their_days(client, owners):
    owner, _other = owners
    client.force_login(owner)
    last_days = panel(client.get("/admin/").content.decode(), "mailing_last_days")

    assert 'data-testid="last-days-chart"' in last_days
    bars = re.findall(r"<rect [^>]*><title>[^<]*: ([^<]+)</title>", last_days)
    assert sorted(bars) == sorted(
        ["Sent 7", "Sent 5", "Failed to send 2", "Opens by people 4",
         "Clicks by people 3"]
    )  # fmt: skip
    assert "<td>7</td><td>2</td><td>4</td><td>3</td>" in last_days
    assert "<td>100</td>" not in last_days


def owner_in(language: str):
    """An owner whose admin speaks `language`."""
    owner = make_user(language=language)
    profile = UserProfile.get_for_user(owner)
    profile.preferred_language = language
    profile.save()
    return owner


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language, title", [("ru", "30 дней"), ("en", "30 days")])
def test_the_dashboard_chart_in_chromium(live_server, browser, language, title):
    owner = owner_in(language)
    for days_ago in range(0, 30, 3):
        seed_day(owner, days_ago, sent=10 + days_ago, failed=days_ago % 4,
                 human_opens=days_ago // 2, human_clicks=days_ago // 5)  # fmt: skip
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    sign_in(page, live_server.url, owner.email)
    page.goto(live_server.url + "/admin/")
    chart = page.locator("[data-testid=mailing_last_days]")
    assert title in chart.inner_text()
    assert chart.locator("[data-testid=last-days-chart] rect").count() >= 30
    chart.locator("[data-testid=last-days-table] summary").click()
    chart.scroll_into_view_if_needed()
    shoot(page, f"dashboard-chart-{language}")
