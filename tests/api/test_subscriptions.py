"""Subscribing an address to a list through the API (issues 12 and 15): double
opt-in by default, or confirmed with a note of the consent; suppression honoured."""

import pytest
from django.core import mail
from django.core.cache import cache

from mailing.models import Consent, Subscription
from mailing.suppression import Reason, suppress_address
from tests.factories import make_list, make_user

pytestmark = pytest.mark.django_db
Status = Subscription.Status


@pytest.fixture(autouse=True)
def fresh_counters():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def news(owner):
    return make_list(owner, name="News")


def url(mailing_list) -> str:
    return f"/api/v1/lists/{mailing_list.pk}/subscriptions/"


def test_double_opt_in_by_default_sends_one_confirmation(
    owner, news, token_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answer = token_for(owner).post(
            url(news), {"email": "Reader@Example.org", "name": "Анна"}, format="json"
        )

    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "unconfirmed"
    row = Subscription.objects.get(mailing_list=news)
    assert (row.status, row.client.email) == (Status.UNCONFIRMED, "Reader@example.org")
    assert [m.to for m in mail.outbox] == [["Reader@example.org"]]
    consent = Consent.objects.get()
    assert (consent.source, consent.source_detail) == ("api", f"user:{owner.pk}")


def test_confirmed_with_a_note_is_subscribed_at_once_and_the_note_kept(
    owner, news, token_for
):
    note = "Signed the paper form at the shop, 2026-11-30"
    answer = token_for(owner).post(
        url(news),
        {"email": "shop@example.org", "double_opt_in": False, "consent_note": note},
        format="json",
        REMOTE_ADDR="203.0.113.7",
        HTTP_USER_AGENT="crm-sync/2.1",
    )

    assert answer.json()["status"] == "subscribed"
    assert Subscription.objects.get(mailing_list=news).status == Status.SUBSCRIBED
    consent = Consent.objects.get()
    assert consent.consent_text == note and consent.confirmed_at is not None
    # Who asked: the integration's address and agent, as a form's visitor's.
    assert (consent.ip, consent.user_agent) == ("203.0.113.7", "crm-sync/2.1")
    assert mail.outbox == []


def test_confirmed_without_a_note_is_refused_naming_the_field(owner, news, token_for):
    answer = token_for(owner).post(
        url(news), {"email": "shop@example.org", "double_opt_in": False}, format="json"
    )

    assert answer.status_code == 400
    assert "consent_note" in answer.json()["fields"]
    assert not Subscription.objects.exists()


def test_a_suppressed_address_stays_out_and_gets_no_email(
    owner, news, token_for, django_capture_on_commit_callbacks
):
    suppress_address(owner.pk, "gone@example.org", Reason.UNSUBSCRIBE)

    with django_capture_on_commit_callbacks(execute=True):
        answer = token_for(owner).post(
            url(news), {"email": "gone@example.org"}, format="json"
        )

    assert answer.json()["status"] == "suppressed"
    assert not Subscription.objects.exists()
    assert mail.outbox == []


def test_another_owners_list_is_not_found(news, token_for):
    answer = token_for(make_user()).post(
        url(news), {"email": "x@example.org"}, format="json"
    )

    assert answer.status_code == 404
    assert not Subscription.objects.exists()
