"""In Chromium: an owner reads, on the mailing's page and on its report, the rows a
stopped consumer holds until its lease lapses and the rows left unknown, with the
way to resend them, in Russian and in English (issue 18).
SCREENSHOTS=<folder> keeps a picture of each screen."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from wagtail.users.models import UserProfile

from mailing import services
from mailing.models import ConsumerLease, MailingRun
from mailing.sending import leases
from mailing.sending.outbox import exchange
from tests.factories import make_client, make_mailing, make_user
from tests.mailing.test_e2e_schedule import shoot
from tests.mailing.test_e2e_workspace import sign_in

TEXTS = {
    "ru": ("под вопросом", "удерживаются обработчиком", "перестал отвечать"),
    "en": ("are unknown", "are held by a consumer", "stopped answering"),
}


def run_with_a_dead_and_a_stalled_consumer(owner, language: str) -> MailingRun:
    clients = [make_client(owner) for _ in range(8)]
    mailing = make_mailing(owner, name=f"Autumn news ({language})", clients=clients)
    run = services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())
    dead = leases.acquire(timezone.now())
    ahead = exchange(run.pk, dead, timezone.now(), size=2).claimed
    exchange(run.pk, dead, timezone.now(), hand_over=ahead)
    ConsumerLease.objects.filter(pk=dead).update(expires_at=timezone.now())
    leases.reap_lapsed(timezone.now() + timedelta(seconds=1))
    stalled = leases.acquire(timezone.now())
    exchange(run.pk, stalled, timezone.now(), size=3)
    quiet = timezone.now() - timedelta(seconds=15)
    ConsumerLease.objects.filter(pk=stalled).update(heartbeat_at=quiet)
    MailingRun.objects.filter(pk=run.pk).update(status=MailingRun.Status.RUNNING)
    return run


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_owner_sees_held_and_unknown_rows_and_the_resend_offer(live_server, browser):
    owner = make_user(email="leases@example.com")
    profile = UserProfile.get_for_user(owner)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    sign_in(page, live_server.url, owner.email)
    for language, (unknown, held, column) in TEXTS.items():
        profile.preferred_language = language
        profile.save()
        run = run_with_a_dead_and_a_stalled_consumer(owner, language)
        inspect = reverse("mailing_mailing:inspect", args=[run.mailing_id])
        page.goto(live_server.url + inspect)
        assert unknown in page.inner_text("[data-testid=run-unknown]")
        assert held in page.inner_text("[data-testid=run-held]")
        shoot(page, f"leases-mailing-{language}")

        page.click("[data-testid=run-unknown] a")
        page.wait_for_url("**/report/**")
        assert page.inner_text("[data-testid=run-unknown]") == "2"
        assert page.inner_text("[data-testid=run-held]") == "3"
        assert column in page.inner_text("main")
        assert page.is_visible("[data-testid=resend-unknown]")
        pause = page.locator("main table.listing a.button-secondary").last
        assert pause.bounding_box()["x"] + pause.bounding_box()["width"] <= 1280
        shoot(page, f"leases-report-{language}")
    page.close()
