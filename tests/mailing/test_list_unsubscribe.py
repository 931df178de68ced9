"""A mailing's email to a list carries, besides the global unsubscribe (the
preference page) a link that leaves that list only (issue 12): read out of the
email an SMTP sink received, it asks, and its one button leaves that list; the
other lists and the List-Unsubscribe header (global) stay as they were."""

import re

import pytest
from django.test import Client as Browser
from django.test import override_settings
from django.utils import timezone

from mailing import services
from mailing.list_unsubscribe import make_token
from mailing.models import Subscription
from mailing.rendering import prepare_message
from mailing.sending import pipeline
from mailing.sending.capabilities import BATCH_SYNTAX
from mailing.sending.esp import batch_template
from tests.factories import make_client, make_list, make_mailing, make_user
from tests.mailing.test_e2e_audiences import shoot

from .smtp_servers import RecordingHandler, smtp_server, smtp_settings

pytestmark = pytest.mark.django_db

LIST_LINK = re.compile(r"https?://[^/\s]+(/unsubscribe/list/[^/\s\"]+/)")
Status = Subscription.Status


def send(mailing) -> list:
    handler = RecordingHandler()
    with smtp_server(handler) as port, override_settings(**smtp_settings(port)):
        pipeline.send_run(services.open_run(mailing, "manual", timezone.now()).pk)
    return handler.messages


def parts(email) -> tuple[str, str]:
    text = email.get_body(("plain",)).get_content()
    return text, email.get_body(("html",)).get_content()


@pytest.fixture
def letter():
    """Anna on two lists of one owner; the mailing goes to the first."""
    owner = make_user()
    anna = make_client(owner, email="anna@example.org")
    news = make_list(owner, name="News", clients=[anna])
    offers = make_list(owner, name="Offers", clients=[anna])
    mailing = make_mailing(owner)
    mailing.lists.set([news])
    [email] = send(mailing)
    return anna, news, offers, email


def status_of(client, mailing_list) -> str:
    return Subscription.objects.get(client=client, mailing_list=mailing_list).status


def test_the_emailed_link_leaves_that_list_only(letter):
    anna, news, offers, email = letter
    text, html = parts(email)
    [path] = set(LIST_LINK.findall(text))
    assert LIST_LINK.findall(html) == [path]
    browser = Browser()

    asked = browser.get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert status_of(anna, news) == Status.SUBSCRIBED  # GET only asks
    left = browser.post(path, HTTP_ACCEPT_LANGUAGE="en")

    assert asked.status_code == 200 and "News" in asked.text
    assert "Offers" not in asked.text
    assert left.status_code == 200 and "News" in left.text
    assert status_of(anna, news) == Status.UNSUBSCRIBED
    assert status_of(anna, offers) == Status.SUBSCRIBED
    anna.refresh_from_db()
    assert anna.unsubscribed_at is None and not anna.suppressed_reason
    assert browser.post(path).status_code == 200  # twice: nothing more happens


def test_the_one_click_header_and_the_footer_link_stay_global(letter):
    _anna, _news, _offers, email = letter
    text, _html = parts(email)

    header = email["List-Unsubscribe"]
    assert "/unsubscribe/list/" not in header
    assert re.search(r"<https?://[^>]+/unsubscribe/[^/>]+/>", header)
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.search(r"/unsubscribe/(?!list/)[^/\s]+/", text)


def test_the_page_speaks_russian_and_english(letter):
    _anna, _news, _offers, email = letter
    [path] = set(LIST_LINK.findall(parts(email)[0]))

    russian = Browser().get(path, HTTP_ACCEPT_LANGUAGE="ru").text
    english = Browser().get(path, HTTP_ACCEPT_LANGUAGE="en").text

    assert "Отписаться от этого списка" in russian
    assert "Leave this list" in english


def test_a_mailing_to_all_clients_has_no_list_link():
    owner = make_user()
    make_client(owner)
    mailing = make_mailing(owner, all_clients=True)
    mailing.lists.clear()

    [email] = send(mailing)

    text, html = parts(email)
    assert not LIST_LINK.search(text) and not LIST_LINK.search(html)


def test_a_tampered_or_foreign_purpose_token_is_refused():
    owner = make_user()
    anna = make_client(owner)
    news = make_list(owner, clients=[anna])
    token = make_token(anna.pk, [news.pk])
    forged = token.replace(
        token.split(":")[0], make_token(anna.pk, [news.pk + 1]).split(":")[0]
    )

    assert Browser().post(f"/unsubscribe/list/{forged}/").status_code == 404
    assert Browser().post(f"/unsubscribe/list/{anna.pk}/").status_code == 404
    assert status_of(anna, news) == Status.SUBSCRIBED


def test_an_esp_batch_carries_the_list_link_as_a_merge_field():
    owner = make_user()
    prepared = prepare_message(make_mailing(owner).message)
    syntax = BATCH_SYNTAX["mailgun"]

    with_lists = batch_template(prepared, syntax, tracking=False, per_list=True)
    without = batch_template(prepared, syntax, tracking=False)

    assert syntax.field.format("list_html") in with_lists.html
    assert syntax.field.format("list") in with_lists.text
    assert syntax.field.format("list") not in without.html + without.text


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["ru", "en"])
def test_a_reader_leaves_one_list_in_chromium(live_server, browser, language):
    owner = make_user()
    anna = make_client(owner, email=f"anna-{language}@example.org")
    name = "Новости" if language == "ru" else "News"
    news = make_list(owner, name=name, clients=[anna])
    make_list(owner, name="Offers", clients=[anna])
    mailing = make_mailing(owner)
    mailing.lists.set([news])
    [email] = send(mailing)
    [path] = set(LIST_LINK.findall(parts(email)[0]))
    locale = {"ru": "ru-RU", "en": "en-US"}[language]
    page = browser.new_page(locale=locale, viewport={"width": 1000, "height": 700})

    page.set_content(parts(email)[1])
    shoot(page, f"list-unsubscribe-email-{language}")
    page.goto(live_server.url + path)
    shoot(page, f"list-unsubscribe-ask-{language}")
    page.click("main form button[type=submit]")
    page.wait_for_selector(".alert-success")
    shoot(page, f"list-unsubscribe-done-{language}")

    assert status_of(anna, news) == Status.UNSUBSCRIBED
    assert news.name in page.inner_text(".alert-success")
