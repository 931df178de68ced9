"""In Chromium, in Russian and in English: an owner resends the rows left `unknown`
from the report (the confirm page warns that some may arrive twice) and copies a
mailing (the add form, filled; the copy exists once saved). SCREENSHOTS=<folder>
keeps a picture of each screen."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from wagtail.users.models import UserProfile

from mailing import services
from mailing.models import Attempt, Mailing, MailingRun
from tests.factories import make_client, make_mailing, make_user, recipients_of
from tests.mailing.test_e2e_schedule import shoot
from tests.mailing.test_e2e_workspace import sign_in

TEXTS = {
    "ru": {
        "warning": "могут получить это письмо дважды",
        "resent": "повторно отправляет рассылку 2 получателям",
        "copy": "Копия: News",
    },
    "en": {
        "warning": "may get this email twice",
        "resent": "resends the mailing to 2 recipients",
        "copy": "Copy of News",
    },
}


def mailing_with_unknown_rows(owner, language: str) -> Mailing:
    clients = [make_client(owner, email=f"{language}{n}@example.org") for n in range(4)]
    mailing = make_mailing(
        owner,
        name=f"News ({language})",
        clients=clients,
        periodicity="weekly",
        first_send_at=timezone.now() + timedelta(days=1),
    )
    run = services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())
    rows = list(run.attempts.order_by("pk"))
    Attempt.objects.filter(pk__in=[a.pk for a in rows[:2]]).update(
        status=Attempt.Status.UNKNOWN, claimed_at=timezone.now()
    )
    Attempt.objects.filter(pk__in=[a.pk for a in rows[2:]]).update(
        status=Attempt.Status.SUCCESS, attempted_at=timezone.now()
    )
    MailingRun.objects.filter(pk=run.pk).update(status=MailingRun.Status.FINISHED)
    return mailing


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_owner_resends_the_unknown_and_copies_a_mailing(live_server, browser):
    owner = make_user(email="owner@example.com")
    profile = UserProfile.get_for_user(owner)
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    sign_in(page, live_server.url, owner.email)
    for language in ("ru", "en"):
        profile.preferred_language = language
        profile.save()
        mailing = mailing_with_unknown_rows(owner, language)
        resend_the_unknown(page, live_server.url, mailing, language)
        copy_the_mailing(page, live_server.url, mailing, language)
    page.close()


def resend_the_unknown(page, base: str, mailing: Mailing, language: str) -> None:
    texts = TEXTS[language]
    page.goto(base + reverse("mailing_mailing:report", args=[mailing.pk]))
    page.click("[data-testid=resend-unknown]")
    warning = page.inner_text("[data-testid=resend-warning]")
    assert texts["warning"] in warning
    assert page.inner_text("[data-testid=unknown-rows]").count("@example.org") == 2
    shoot(page, f"resend-confirm-{language}")
    page.click("main form button[type=submit]")
    page.wait_for_url(lambda url: "/inspect/" in url)
    assert texts["resent"] in page.content()
    shoot(page, f"resend-done-{language}")
    assert MailingRun.objects.filter(mailing=mailing).count() == 2


def copy_the_mailing(page, base: str, mailing: Mailing, language: str) -> None:
    texts = TEXTS[language]
    page.goto(base + reverse("mailing_mailing:copy", args=[mailing.pk]))
    name = page.input_value("input[name=name]")
    assert name == f"{texts['copy']} ({language})"
    assert page.locator("input[name=lists]:checked").count() == 1
    shoot(page, f"copy-form-{language}")
    page.click("button.action-save")
    page.wait_for_url(lambda url: url.rstrip("/").endswith("/mailing/mailings"))
    assert name in page.content()
    shoot(page, f"copy-saved-{language}")
    copy = Mailing.objects.get(name=name)
    assert recipients_of(copy).count() == 4 and copy.pk != mailing.pk
