"""A visitor subscribes through a list's hosted form in Chromium, confirms from the
emailed link, manages their lists, and the owner sees them on the list (issue 12).
In Russian and in English; screenshots land in .test-artifacts/audiences/."""

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from wagtail.users.models import UserProfile

from mailing import subscribe
from mailing.models import Subscription
from mailing.unsubscribe import make_token, unsubscribe_url
from tests.factories import make_list, make_user
from tests.mailing.test_e2e_audiences import shoot
from tests.mailing.test_e2e_workspace import sign_in

LOCALES = {"ru": "ru-RU", "en": "en-US"}
TITLES = {"ru": "Новости сервиса", "en": "Service news"}
CONSENT = {
    "ru": "Я согласен получать новости и знаю, что могу отписаться.",
    "en": "I agree to get the news and know I can unsubscribe.",
}


def enabled_form(owner, language):
    news = make_list(owner, name=TITLES[language])
    settings = subscribe.form_settings_for(news)
    settings.is_enabled = True
    settings.title = TITLES[language]
    settings.intro = "…" if language == "ru" else "Once a month, no more."
    settings.consent_text = CONSENT[language]
    settings.save()
    return settings


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["ru", "en"])
def test_a_visitor_subscribes_confirms_and_appears_on_the_list(
    live_server, browser, language
):
    cache.clear()
    mail.outbox.clear()
    owner = make_user(email=f"owner-{language}@example.com")
    UserProfile.objects.update_or_create(
        user=owner, defaults={"preferred_language": language}
    )
    settings = enabled_form(owner, language)
    base = live_server.url
    visitor = browser.new_page(
        locale=LOCALES[language], viewport={"width": 1100, "height": 800}
    )

    visitor.goto(base + reverse("mailing:subscribe", args=[settings.key]))
    visitor.fill("input[name=email]", f"reader-{language}@example.org")
    visitor.fill("input[name=name]", "Анна Кошкина")
    visitor.check("input[name=consent]")
    shoot(visitor, f"subscribe-form-{language}")
    visitor.click("main form button[type=submit]")
    visitor.wait_for_selector("h1")
    shoot(visitor, f"subscribe-thanks-{language}")

    (email,) = mail.outbox
    link = re.search(r"https?://\S+/subscribe/confirm/\S+/", email.body)[0]
    path = link[link.index("/subscribe/") :]
    visitor.goto(base + path)
    shoot(visitor, f"subscribe-confirm-{language}")
    visitor.click("main form button[type=submit]")
    visitor.wait_for_selector(".alert-success")
    shoot(visitor, f"subscribe-confirmed-{language}")
    row = Subscription.objects.get(mailing_list=settings.mailing_list)
    assert row.status == Subscription.Status.SUBSCRIBED

    preferences = unsubscribe_url(make_token(row.client_id))
    visitor.goto(base + preferences[preferences.index("/unsubscribe/") :])
    assert visitor.is_checked(f"#list-{settings.mailing_list_id}")
    shoot(visitor, f"subscribe-preferences-{language}")
    visitor.close()

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, base, owner.email)
    query = f"?mailing_list={settings.mailing_list_id}&list_status=subscribed"
    page.goto(base + reverse("mailing_client:list") + query)
    assert page.locator("table.listing tbody tr").count() == 1
    assert f"reader-{language}@example.org" in page.content()
    page.goto(
        base
        + reverse("mailing_mailinglist:subscribe_form", args=[settings.mailing_list_id])
    )
    assert settings.key in page.input_value("[data-testid=embed-snippet]")
    shoot(page, f"subscribe-admin-{language}")
    page.close()
