"""The suppression list and the data-subject tools in Chromium, in Russian and in
English (issue 12): the owner finds an address by typing it, removes the entry with
a reason, and erases a client. Screenshots land in .test-artifacts/audiences/."""

import re

import pytest
from django.urls import reverse
from wagtail.users.models import UserProfile

from mailing import suppression
from mailing.models import Client, Suppression, SuppressionRemoval
from tests.factories import make_client, make_user
from tests.mailing.test_e2e_audiences import shoot
from tests.mailing.test_e2e_workspace import sign_in


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_owner_finds_removes_and_erases_in_chromium(live_server, browser, language):
    owner = make_user(email=f"owner-{language}@example.com")
    UserProfile.objects.update_or_create(
        user=owner, defaults={"preferred_language": language}
    )
    suppression.suppress_address(owner.pk, "bounced@example.org", "hard_bounce", "550")
    suppression.suppress_address(owner.pk, "other@example.org", "complaint")
    person = make_client(owner, email="anna@example.org", full_name="Анна")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, live_server.url, owner.email)
    base = live_server.url

    page.goto(
        base + reverse("mailing_suppression:list") + "?address=Bounced@example.org"
    )
    rows = page.locator("table.listing tbody tr")
    assert rows.count() == 1
    shoot(page, f"suppressions-{language}")

    entry = Suppression.objects.get(
        address_hash=suppression.address_hash("bounced@example.org")
    )
    page.goto(base + reverse("mailing_suppression:remove", args=[entry.pk]))
    page.fill("textarea[name=note]", "Mailbox fixed, confirmed by phone")
    shoot(page, f"suppression-remove-{language}")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/mailing/suppressions/$"))
    assert SuppressionRemoval.objects.get().note.startswith("Mailbox fixed")

    page.goto(base + reverse("mailing_client:erase", args=[person.pk]))
    page.check("input[name=confirm]")
    shoot(page, f"client-erase-{language}")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/mailing/clients/$"))
    assert not Client.objects.filter(pk=person.pk).exists()
    assert Suppression.objects.filter(
        owner=owner, address_hash=suppression.address_hash("anna@example.org")
    ).exists()
    page.close()
