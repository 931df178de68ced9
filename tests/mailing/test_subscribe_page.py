"""The subscribe page type (issue 12): an editor places it in the admin, a visitor
subscribes through it in Chromium and confirms from the emailed link, in Russian
and in English; and a change of its list's form reaches the cached page at once.
Screenshots land in .test-artifacts/audiences/."""

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client as Browser
from wagtail.users.models import UserProfile

from home.page_cache import HEADER
from mailing import subscribe
from mailing.models import SubscribePage, Subscription
from tests.factories import home_page, make_list, make_user
from tests.mailing.test_e2e_audiences import shoot
from tests.mailing.test_e2e_workspace import sign_in

TITLES = {"ru": "Новости мастерской", "en": "Workshop news"}
LOCALES = {"ru": "ru-RU", "en": "en-US"}


def enabled_form(owner, name: str, **fields):
    settings = subscribe.form_settings_for(make_list(owner, name=name))
    settings.is_enabled = True
    settings.title = name
    for field, value in fields.items():
        setattr(settings, field, value)
    settings.save()
    return settings


def place(parent, settings, slug: str) -> SubscribePage:
    page = SubscribePage(
        title=settings.title, slug=slug, mailing_list=settings.mailing_list
    )
    parent.add_child(instance=page)
    page.save_revision().publish()
    return page


@pytest.mark.redis
@pytest.mark.django_db
def test_disabling_the_form_drops_the_cached_page_at_once():
    cache.clear()
    settings = enabled_form(make_user("editor"), "News")
    page = place(home_page(), settings, "news-form")
    reader = Browser()
    reader.get(page.url)
    cached = reader.get(page.url)
    assert cached[HEADER] == "hit" and 'name="email"' in cached.text

    settings.is_enabled = False
    settings.save()
    closed = reader.get(page.url)

    assert closed[HEADER] == "miss"
    assert 'name="email"' not in closed.text
    settings.delete()
    assert reader.get(page.url)[HEADER] == "miss"


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["ru", "en"])
def test_an_editor_places_the_page_and_a_visitor_subscribes_through_it(
    live_server, browser, language
):
    cache.clear()
    mail.outbox.clear()
    editor = make_user("editor", email=f"editor-{language}@example.com")
    UserProfile.objects.update_or_create(
        user=editor, defaults={"preferred_language": language}
    )
    settings = enabled_form(editor, TITLES[language], double_opt_in=True)
    parent = home_page(language)
    base = live_server.url
    admin = browser.new_page(
        locale=LOCALES[language], viewport={"width": 1200, "height": 900}
    )
    admin.set_default_timeout(20_000)

    sign_in(admin, base, editor.email)
    admin.goto(f"{base}/admin/pages/add/mailing/subscribepage/{parent.pk}/")
    admin.fill("#id_title", TITLES[language])
    admin.fill("#id_intro", "…" if language == "ru" else "Once a month.")
    admin.select_option("#id_mailing_list", str(settings.mailing_list_id))
    shoot(admin, f"subscribe-page-editor-{language}")
    admin.click("footer .w-dropdown__toggle")
    admin.click("button[name=action-publish]")
    admin.wait_for_url(re.compile(r"/admin/pages/\d+/"))

    page = SubscribePage.objects.get(mailing_list=settings.mailing_list)
    assert page.live
    visitor = browser.new_page(
        locale=LOCALES[language], viewport={"width": 1100, "height": 800}
    )
    visitor.goto(base + page.url)
    visitor.fill("input[name=email]", f"reader-{language}@example.org")
    shoot(visitor, f"subscribe-page-{language}")
    visitor.click("main form button[type=submit]")
    visitor.wait_for_selector("h1")
    shoot(visitor, f"subscribe-page-thanks-{language}")

    (email,) = [m for m in mail.outbox if m.to == [f"reader-{language}@example.org"]]
    link = re.search(r"https?://\S+(/subscribe/confirm/\S+/)", email.body)[1]
    visitor.goto(base + link)
    visitor.click("main form button[type=submit]")
    visitor.wait_for_selector(".alert-success")
    shoot(visitor, f"subscribe-page-confirmed-{language}")

    row = Subscription.objects.get(mailing_list=settings.mailing_list)
    assert row.status == Subscription.Status.SUBSCRIBED
    assert row.client.email == f"reader-{language}@example.org"
    assert row.consents.get().source == "page"
