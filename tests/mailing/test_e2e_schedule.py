"""In Chromium: an owner in Berlin sets a delivery window on a mailing; its page
names the owner's zone and the recipients waiting for their window, in Russian and
in English. SCREENSHOTS=<folder> keeps a picture of each screen."""

import os
import re
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from wagtail.users.models import UserProfile

from mailing import services
from mailing.models import Mailing, MailingRun
from tests.factories import make_client, make_message, make_user, set_recipients
from tests.mailing.test_e2e_workspace import sign_in
from tests.pickers import close_date_pickers

BERLIN = ZoneInfo("Europe/Berlin")
TEXTS = {
    "ru": ("Окно доставки", "часовом поясе её владельца", "ждут своего окна"),
    "en": ("Delivery window", "owner's time zone", "waiting for their delivery window"),
}


def shoot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_owner_sets_a_window_and_sees_who_waits(live_server, browser):
    owner = make_user(email="berlin@example.com")
    profile = UserProfile.objects.update_or_create(
        user=owner, defaults={"current_time_zone": "Europe/Berlin"}
    )[0]
    make_message(owner, subject="Weekly digest")
    for n in range(3):
        make_client(owner, email=f"reader{n}@example.org", time_zone="Asia/Tokyo")
    page = browser.new_page(viewport={"width": 1280, "height": 1800})
    sign_in(page, live_server.url, owner.email)
    for language in ("ru", "en"):
        profile.preferred_language = language
        profile.save()
        walk_the_screens(page, live_server.url, owner, language)
    page.close()


def walk_the_screens(page, base: str, owner, language: str) -> None:
    # A window that opens two hours from now in Berlin: everyone waits for it.
    opens = (timezone.now() + timedelta(hours=2)).astimezone(BERLIN)
    name = f"Digest in the morning ({language})"
    page.goto(base + reverse("mailing_mailing:add"))
    page.fill("input[name=name]", name)
    page.select_option("select[name=message]", label="Weekly digest")
    page.check("input[name=all_clients]")
    page.fill("input[name=first_send_at]", "2031-01-06 09:00")
    page.fill("input[name=window_start]", opens.strftime("%H:00"))
    page.fill("input[name=window_end]", (opens + timedelta(hours=2)).strftime("%H:00"))
    close_date_pickers(page)  # an open picker covers Save
    assert TEXTS[language][0] in page.content()
    assert "Europe/Berlin" in page.content()
    shoot(page, f"mailing-form-{language}")
    page.click("button.action-save")
    page.wait_for_url(re.compile(r".*/mailing/mailings/$"))

    mailing = Mailing.objects.get(owner=owner, name=name)
    assert mailing.window_start.hour == opens.hour
    set_recipients(mailing, owner.clients.all())
    services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())
    page.goto(base + reverse("mailing_mailing:inspect", args=[mailing.pk]))
    text = page.inner_text("main")
    assert TEXTS[language][1] in text and "Europe/Berlin" in text
    assert TEXTS[language][2] in text
    shoot(page, f"mailing-inspect-{language}")

    page.goto(base + reverse("mailing_mailing:report", args=[mailing.pk]))
    assert page.inner_text("[data-testid=run-waiting]") == "3"
    shoot(page, f"mailing-report-{language}")

    client = owner.clients.first()
    page.goto(base + reverse("mailing_client:edit", args=[client.pk]))
    assert page.input_value("select[name=time_zone]") == "Asia/Tokyo"
    shoot(page, f"client-form-{language}")
