"""A mailing's timeline: sends, opens and clicks by hour for the first 48 hours of
its latest run, from RunHourCounts kept as events arrive and as the outbox
settles rows; a rebuild from the raw rows gives the same; the report shows it as
an SVG and as a table. In Chromium, ru and en (SCREENSHOTS=<folder> keeps them)."""

from datetime import timedelta

import pytest
from django.test import Client as Browser
from django.urls import reverse
from django.utils import timezone
from wagtail.users.models import UserProfile

from mailing.counters import bump_sends, rebuild_timeline
from mailing.events import Happening, record_event
from mailing.models import RunHourCounts
from mailing.timeline import mailing_timeline
from tests.factories import make_client, make_mailing, make_user
from tests.mailing.test_e2e_schedule import shoot
from tests.mailing.test_e2e_workspace import sign_in
from tests.mailing.test_report_rollups import sent_run

HUMAN = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/128.0"


def timeline_mailing(language: str = "en"):
    owner = make_user(language=language)
    mailing = make_mailing(owner, name="Timeline")
    start = (timezone.now() - timedelta(hours=30)).replace(minute=5)
    run = sent_run(mailing, [make_client(owner) for _ in range(6)], at=start)
    bump_sends(run.pk, 6, start)  # as outbox.exchange does when it settles them
    rows = list(run.attempts.order_by("pk"))
    for n, attempt in enumerate(rows[:4]):
        at = start + timedelta(hours=n, minutes=20)
        opened = Happening(kind="opened", source="pixel", at=at, user_agent=HUMAN)
        record_event(attempt.pk, opened)
    late = start + timedelta(hours=3, minutes=50)
    clicked = Happening(kind="clicked", source="postmark", at=late, verdict="human",
                        url="https://example.org/")  # fmt: skip
    record_event(rows[0].pk, clicked)
    record_event(rows[1].pk, Happening(kind="opened", source="pixel",
                                       at=start + timedelta(hours=60)))  # fmt: skip
    return owner, mailing, run


@pytest.mark.django_db
def test_the_timeline_counts_the_first_48_hours_and_equals_its_rebuild():
    _owner, mailing, run = timeline_mailing()
    timeline = mailing_timeline(mailing)
    hours = timeline["hours"]
    assert len(hours) == 48 and timeline["run"] == run
    assert [h["sends"] for h in hours[:2]] == [6, 0]
    assert [h["opens"] for h in hours[:5]] == [1, 1, 1, 1, 0]
    assert sum(h["opens"] for h in hours) == 4  # the open at hour 60 is left out
    assert hours[3]["clicks"] == hours[3]["human_clicks"] == 1
    assert [b["value"] for b in timeline["chart"]["rows"][1]["bars"][:5]] == [
        1, 1, 1, 1, 0
    ]  # fmt: skip
    incremental = list(RunHourCounts.objects.order_by("hour").values())
    rebuild_timeline([run.pk])
    rebuilt = list(RunHourCounts.objects.order_by("hour").values())
    assert [{**r, "id": 0} for r in rebuilt] == [{**r, "id": 0} for r in incremental]


@pytest.mark.django_db
def test_the_report_shows_the_timeline_to_its_owner_only():
    owner, mailing, _run = timeline_mailing()
    url = reverse("mailing_mailing:report", args=[mailing.pk])
    http = Browser()
    http.force_login(owner)
    page = http.get(url).content.decode()
    assert 'data-testid="timeline-chart"' in page and "<rect" in page
    assert "Sent" in page and "busiest hour" in page
    http.force_login(make_user())
    assert 'data-testid="timeline-chart"' not in http.get(url).content.decode()


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_timeline_in_chromium_ru_and_en(live_server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    for language, title in {"ru": "48 часов", "en": "48 hours"}.items():
        owner, mailing, _run = timeline_mailing(language)
        UserProfile.objects.update_or_create(
            user=owner, defaults={"preferred_language": language}
        )
        sign_in(page, live_server.url, owner.email)
        page.goto(
            live_server.url + reverse("mailing_mailing:report", args=[mailing.pk])
        )
        assert title in page.inner_text("#timeline")
        assert page.locator("[data-testid=timeline-chart] rect").count() >= 6
        page.locator("[data-testid=timeline-table] summary").click()
        page.locator("#timeline").scroll_into_view_if_needed()
        shoot(page, f"report-timeline-{language}")
        page.context.clear_cookies()
