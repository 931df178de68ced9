"""An id or a number typed as a Unicode digit that is no decimal ('²', U+00B2) is
refused or ignored like any other junk, never a 500: str.isdigit() takes it and
int() does not (found from outside, on the public unsubscribe and subscribe forms
first)."""

import pytest
from django.core.cache import cache
from django.test import Client as Browser
from django.urls import reverse

from mailing import subscribe
from mailing.unsubscribe import make_token, unsubscribe_url
from tests.factories import make_client, make_list, make_user

pytestmark = pytest.mark.django_db

SUPERSCRIPT_TWO = "\u00b2"


@pytest.fixture
def owner():
    return make_user()


def test_the_unsubscribe_pages_save_ignores_such_a_list(owner):
    person = make_client(owner)
    make_list(owner, clients=[person])
    path = unsubscribe_url(make_token(person.pk)).removeprefix("http://testserver")

    response = Browser().post(path, {"action": "save", "lists": SUPERSCRIPT_TWO})

    assert response.status_code == 200


def test_the_subscribe_form_takes_such_a_page_as_none(owner):
    cache.clear()
    form = subscribe.form_settings_for(make_list(owner))
    form.is_enabled, form.consent_text = True, "I agree."
    form.save()

    response = Browser().post(
        f"/subscribe/{form.key}/",
        {"email": "reader@example.org", "consent": "on", "page": SUPERSCRIPT_TWO},
        REMOTE_ADDR="203.0.113.9",
    )

    assert response.status_code == 200


@pytest.mark.parametrize(
    "route, params",
    [
        ("mailing_mailing:audience_count", {"mailing": SUPERSCRIPT_TWO}),
        ("mailing_mailing:audience_count", {"lists": SUPERSCRIPT_TWO}),
        ("mailing_mailing:audience_count", {"segment": SUPERSCRIPT_TWO}),
        ("mailing_segment:count", {"segment": SUPERSCRIPT_TWO}),
    ],
)
def test_the_admins_counts_ignore_such_an_id(client, owner, route, params):
    client.force_login(owner)

    response = client.get(reverse(route), params)

    assert response.status_code == 200


def test_a_segment_rule_with_such_days_is_a_400_that_says_why(client, owner):
    client.force_login(owner)
    rule = {"rules-0-condition": "signed_up:within_days"}

    response = client.get(
        reverse("mailing_segment:count"), {**rule, "rules-0-value": SUPERSCRIPT_TWO}
    )

    assert response.status_code == 400
    assert response.json()["error"]


@pytest.mark.parametrize("name", ["run", "mailing"])
def test_the_attempts_api_refuses_such_a_run_or_mailing(client, owner, name):
    client.force_login(owner)

    response = client.get("/api/v1/attempts/", {name: SUPERSCRIPT_TWO})

    assert response.status_code == 400
    assert name in response.json()["fields"]


def test_the_pages_api_refuses_such_an_offset(client):
    response = client.get("/api/v2/pages/", {"offset": SUPERSCRIPT_TWO})

    assert response.status_code == 400
