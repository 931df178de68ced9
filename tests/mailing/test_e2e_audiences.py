"""Lists in Chromium, in Russian and in English (issue 12): the owner ticks lists on
the mailing form and sees the audience's count change (never the people), sees
the lists listing with its counts, and adds clients to a list from the clients
listing. Screenshots land in .test-artifacts/audiences/ for a person to look at."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from wagtail.users.models import UserProfile

from mailing.models import Client
from tests.factories import make_client, make_list, make_message, make_user
from tests.mailing.test_e2e_workspace import sign_in

SCREENSHOTS = Path(settings.BASE_DIR) / ".test-artifacts" / "audiences"
COUNTS = {
    "ru": ("Аудитория: 3 получателя", "Аудитория: 5 получателей"),
    "en": ("Audience: 3 recipients now.", "Audience: 5 recipients now."),
}
ADD_TO_LIST = {"ru": "Добавить в список", "en": "Add to list"}


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_owner_targets_lists_and_sees_counts_in_chromium(
    live_server, browser, language
):
    owner = make_user(email=f"owner-{language}@example.com")
    UserProfile.objects.update_or_create(
        user=owner, defaults={"preferred_language": language}
    )
    clients = [make_client(owner, email=f"r{n}@example.org") for n in range(5)]
    make_list(owner, name="Новости", clients=clients[:3])
    offers = make_list(owner, name="Акции", clients=clients[2:4])
    make_message(owner, subject="Letter")
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    sign_in(page, live_server.url, owner.email)
    three, five = COUNTS[language]

    page.goto(live_server.url + reverse("mailing_mailing:add"))
    page.check("text=Новости")
    count = page.locator("[data-testid=audience-count]")
    count.filter(has_text=three).wait_for()
    page.check("input[name=all_clients]")
    count.filter(has_text=five).wait_for()
    assert "r0@example.org" not in page.content()
    shoot(page, f"mailing-form-{language}")

    page.goto(live_server.url + reverse("mailing_mailinglist:list"))
    assert page.get_by_text("Акции").count() == 1
    shoot(page, f"lists-{language}")

    page.goto(live_server.url + reverse("mailing_client:list"))
    for email in ("r0@example.org", "r1@example.org"):
        row = page.locator("tr", has_text=email)
        row.locator("input[type=checkbox]").check()
    button = page.locator("[data-bulk-action-button][href*='add_to_list']")
    assert button.inner_text().strip() == ADD_TO_LIST[language]
    button.click()
    page.wait_for_url(re.compile(r".*/bulk/mailing/client/add_to_list/.*"))
    page.select_option("select[name=mailing_list]", label="Акции")
    shoot(page, f"add-to-list-{language}")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/mailing/clients/.*"))
    shoot(page, f"clients-{language}")
    on_offers = Client.objects.filter(subscriptions__mailing_list=offers)
    assert on_offers.count() == 4
    page.close()
