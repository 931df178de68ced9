"""In Chromium, in Russian and in English: a mailing's report shows what came back
from the rollups (bounces, complaints over the limit with its warning, opens by
people beside all opens) and the Attempts listing walks its keyset pages.
SCREENSHOTS=<folder> keeps a picture of each screen."""

import pytest
from django.urls import reverse
from wagtail.users.models import UserProfile

from tests.factories import make_client
from tests.mailing.test_e2e_schedule import shoot
from tests.mailing.test_e2e_workspace import sign_in
from tests.mailing.test_report_rollups import rates_mailing, sent_run

TEXTS = {
    "ru": ("Жалобы", "Старше", "Новее"),
    "en": ("Complaints", "Older", "Newer"),
}


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_owner_reads_the_report_and_walks_the_attempts(live_server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    for language, (complaints, older, newer) in TEXTS.items():
        owner, mailing = rates_mailing(complaints=4)
        UserProfile.objects.update_or_create(
            user=owner, defaults={"preferred_language": language}
        )
        sent_run(mailing, [make_client(owner) for _ in range(25)])
        sign_in(page, live_server.url, owner.email)

        page.goto(
            live_server.url + reverse("mailing_mailing:report", args=[mailing.pk])
        )
        assert page.is_visible("[data-testid=complaints-warning]")
        assert page.inner_text("[data-testid=complaints]") == "4"
        assert page.inner_text("[data-testid=human-opens]") == "2"
        assert complaints in page.content()
        shoot(page, f"report-rates-{language}")

        page.goto(live_server.url + reverse("mailing_attempt:list") + "?per_page=20")
        first = page.locator("main table tbody tr").count()
        page.get_by_role("link", name=older).click()
        page.wait_for_url("**after=*")
        assert page.locator("main table tbody tr").count() == 35 - first
        page.locator("[data-testid=keyset-pagination]").scroll_into_view_if_needed()
        assert page.get_by_role("link", name=newer).is_visible()
        shoot(page, f"attempts-keyset-{language}")
        page.context.clear_cookies()
