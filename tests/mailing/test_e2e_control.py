"""In Chromium: an owner pauses a sending mailing through its confirm page, cancels
it, and reads the cancelled rows on the report, in Russian and in English.
SCREENSHOTS=<folder> keeps a picture of each screen."""

import pytest
from django.urls import reverse
from django.utils import timezone
from wagtail.users.models import UserProfile

from mailing import services
from mailing.models import Attempt, MailingRun
from tests.factories import make_client, make_mailing, make_user
from tests.mailing.test_e2e_schedule import shoot
from tests.mailing.test_e2e_workspace import sign_in

TEXTS = {
    "ru": ("Приостановить эту рассылку?", "Рассылка приостановлена.", "отменено"),
    "en": ("Pause this mailing?", "The mailing is paused.", "cancelled"),
}


def sending_mailing(owner, language: str):
    clients = [make_client(owner) for _ in range(3)]
    mailing = make_mailing(owner, name=f"Spring news ({language})", clients=clients)
    run = services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())
    first = run.attempts.order_by("pk").first()
    Attempt.objects.filter(pk=first.pk).update(
        status=Attempt.Status.SUCCESS, attempted_at=timezone.now()
    )
    MailingRun.objects.filter(pk=run.pk).update(
        status=MailingRun.Status.RUNNING, sent_count=1
    )
    return mailing, run


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_owner_pauses_and_cancels_and_reads_the_report(live_server, browser):
    owner = make_user(email="control@example.com")
    profile = UserProfile.get_for_user(owner)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    sign_in(page, live_server.url, owner.email)
    for language, (question, paused, cancelled) in TEXTS.items():
        profile.preferred_language = language
        profile.save()
        mailing, run = sending_mailing(owner, language)
        page.goto(live_server.url + reverse("mailing_mailing:pause", args=[mailing.pk]))
        assert question in page.content()
        shoot(page, f"control-confirm-{language}")
        page.click("main form button.button[type=submit]")
        page.wait_for_url(f"**{reverse('mailing_mailing:inspect', args=[mailing.pk])}")
        assert paused in page.content()
        run.refresh_from_db()
        assert run.status == MailingRun.Status.PAUSED

        page.goto(
            live_server.url + reverse("mailing_mailing:cancel", args=[mailing.pk])
        )
        page.click("main form button.button[type=submit]")
        page.goto(
            live_server.url + reverse("mailing_mailing:report", args=[mailing.pk])
        )
        assert page.inner_text("[data-testid=cancelled]") == "2"
        assert page.inner_text("[data-testid=run-cancelled]") == "2"
        assert cancelled in page.inner_text("main")
        shoot(page, f"control-report-{language}")
    page.close()
