"""A list's public form in the admin, consents on the client's page, and the
subscribe page type: each only for whom it belongs to (issue 12)."""

import pytest
from django.core.cache import cache
from django.test import Client as Browser
from django.urls import reverse
from wagtail.test.utils.form_data import nested_form_data

from mailing import subscribe
from mailing.models import Consent, SubscribeForm, SubscribePage
from tests.factories import english, home_page, make_list, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_counters():
    cache.clear()
    yield
    cache.clear()


def form_url(mailing_list) -> str:
    return reverse("mailing_mailinglist:subscribe_form", args=[mailing_list.pk])


def test_the_owner_enables_the_form_and_sees_its_address_and_html(client):
    owner = english(make_user())
    news = make_list(owner, name="News")
    client.force_login(owner)

    page = client.get(form_url(news)).content.decode()
    settings = SubscribeForm.objects.get(mailing_list=news)
    assert settings.key in page and len(settings.key) >= 20  # not the pk
    assert "&lt;form method=&quot;post&quot;" in page  # the HTML to embed, escaped
    assert "Public subscribe form" in page

    response = client.post(
        form_url(news),
        {
            "is_enabled": "on",
            "title": "Our news",
            "consent_text": "I agree",
            "double_opt_in": "on",
            "redirect_url": "",
        },
    )

    assert response.status_code == 302
    settings.refresh_from_db()
    assert settings.is_enabled and settings.consent_text == "I agree"
    assert Browser().get(f"/subscribe/{settings.key}/").status_code == 200


def test_the_lists_listing_links_the_form_for_the_owner_only(client):
    owner = english(make_user())
    news = make_list(owner, name="News")
    client.force_login(owner)
    assert (
        form_url(news)
        in client.get(reverse("mailing_mailinglist:list")).content.decode()
    )

    client.force_login(make_user("manager"))
    assert (
        form_url(news)
        not in client.get(reverse("mailing_mailinglist:list")).content.decode()
    )


@pytest.mark.parametrize("role", ["mailing_user", "manager", "editor"])
def test_another_owner_cannot_open_or_change_the_form(client, role):
    news = make_list(make_user(), name="News")
    client.force_login(make_user(role))

    for response in (client.get(form_url(news)), client.post(form_url(news), {})):
        assert response.status_code in (302, 403)
        assert response.status_code == 403 or response["Location"] == "/admin/"
    assert not SubscribeForm.objects.filter(is_enabled=True).exists()


def enabled_form(owner, **fields):
    settings = subscribe.form_settings_for(make_list(owner, name="News"))
    settings.is_enabled = True
    for name, value in fields.items():
        setattr(settings, name, value)
    settings.save()
    return settings


def test_the_clients_page_shows_each_consent(client):
    owner = english(make_user())
    settings = enabled_form(owner, consent_text="I agree to the news")
    Browser().post(
        f"/subscribe/{settings.key}/",
        {"email": "reader@example.org", "consent": "on"},
        REMOTE_ADDR="203.0.113.5",
        HTTP_USER_AGENT="TestAgent/1.0",
    )
    consent = Consent.objects.select_related("subscription").get()
    client.force_login(owner)

    page = client.get(
        reverse("mailing_client:inspect", args=[consent.subscription.client_id])
    ).content.decode()

    assert "I agree to the news" in page
    assert "203.0.113.5" in page and "TestAgent/1.0" in page
    assert "not confirmed" in page


def page_form(mailing_list, title="Subscribe") -> dict:
    return nested_form_data(
        {
            "title": title,
            "slug": "subscribe",
            "intro": "Our letters",
            "mailing_list": mailing_list.pk,
            "action-publish": "action-publish",
        }
    )


def add_url() -> str:
    return f"/admin/pages/add/mailing/subscribepage/{home_page().pk}/"


def test_an_editor_places_a_page_with_their_own_list_and_it_subscribes(client):
    editor = english(make_user("editor"))
    settings = enabled_form(editor)
    client.force_login(editor)

    response = client.post(add_url(), page_form(settings.mailing_list))

    assert response.status_code == 302, response.content[:3000]
    page = SubscribePage.objects.get()
    shown = Browser().get(page.url).content.decode()
    assert f'action="/subscribe/{settings.key}/"' in shown
    assert f'name="page" value="{page.pk}"' in shown
    Browser().post(
        f"/subscribe/{settings.key}/", {"email": "r@example.org", "page": page.pk}
    )
    consent = Consent.objects.get()
    assert (consent.source, consent.source_detail) == ("page", f"page:{page.pk}")


def test_an_editor_cannot_place_another_owners_list(client):
    editor = english(make_user("editor"))
    foreign = enabled_form(make_user())
    client.force_login(editor)

    response = client.post(add_url(), page_form(foreign.mailing_list))

    assert response.status_code == 200
    assert not SubscribePage.objects.exists()
    assert "Select a valid choice" in response.content.decode()
