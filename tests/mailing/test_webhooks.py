"""Anymail tracking webhooks (Postmark's format) update attempts and suppress."""

import base64
import json

import pytest
from django.test import Client as Browser

from mailing.models import Attempt, Client, MailingRun
from mailing.services import open_run
from mailing.tokens import attempt_token
from tests.factories import make_client, make_mailing, make_user

pytestmark = pytest.mark.django_db

URL = "/anymail/postmark/tracking/"
AUTH = "Basic " + base64.b64encode(b"test:webhook-secret").decode()


@pytest.fixture
def attempt():
    owner = make_user()
    mailing = make_mailing(owner, clients=[make_client(owner)])
    run = open_run(mailing, MailingRun.Kind.MANUAL, mailing.first_send_at)
    row = run.attempts.get()
    row.status = Attempt.Status.SUCCESS
    row.esp_message_id = "pm-0001"
    row.save()
    return row


def post(payload: dict, auth: str | None = AUTH):
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    return Browser().post(
        URL, data=json.dumps(payload), content_type="application/json", **headers
    )


def delivery(**extra):
    return {"RecordType": "Delivery", "MessageID": "pm-0001", **extra}


def bounce(kind="HardBounce", **extra):
    return {
        "RecordType": "Bounce",
        "Type": kind,
        "MessageID": "pm-0001",
        "Email": "x@example.org",
        "Description": "The server was unable to deliver your message",
        "Details": "smtp;550 5.1.1 The email account does not exist",
        **extra,
    }


def status_of(attempt) -> str:
    return Attempt.objects.get(pk=attempt.pk).status


@pytest.mark.smoke
def test_a_webhook_without_the_secret_is_refused(attempt):
    for auth in (None, "Basic " + base64.b64encode(b"test:wrong").decode()):
        response = post(delivery(), auth=auth)
        assert response.status_code == 400
    assert status_of(attempt) == Attempt.Status.SUCCESS


def test_delivery_marks_the_attempt_and_the_same_event_twice_changes_nothing(attempt):
    assert post(delivery()).status_code == 200
    after_first = Attempt.objects.get(pk=attempt.pk)
    assert post(delivery()).status_code == 200
    after_second = Attempt.objects.get(pk=attempt.pk)

    assert after_first.status == Attempt.Status.DELIVERED
    assert (after_second.status, after_second.server_response) == (
        after_first.status,
        after_first.server_response,
    )


def test_a_hard_bounce_suppresses_the_client_for_its_owner(attempt):
    same_address_other_owner = make_client(make_user(), email=attempt.client.email)

    assert post(bounce()).status_code == 200
    assert post(bounce()).status_code == 200  # twice: still one change

    assert status_of(attempt) == Attempt.Status.BOUNCED
    client = Client.objects.get(pk=attempt.client_id)
    assert client.suppressed_reason  # the reason and the server's words
    assert Client.objects.get(pk=same_address_other_owner.pk).suppressed_reason == ""


def test_a_late_delivery_never_overwrites_a_bounce(attempt):
    post(bounce())
    post(delivery())

    assert status_of(attempt) == Attempt.Status.BOUNCED


def test_a_complaint_found_by_metadata_suppresses(attempt):
    payload = {
        "RecordType": "SpamComplaint",
        "Type": "SpamComplaint",
        "MessageID": "unknown-to-us",
        "Metadata": {"attempt": attempt_token(attempt.pk)},
    }
    assert post(payload).status_code == 200

    assert status_of(attempt) == Attempt.Status.COMPLAINED
    assert Client.objects.get(pk=attempt.client_id).suppressed_reason


def test_a_soft_bounce_does_not_suppress(attempt):
    post(bounce(kind="SoftBounce"))

    assert Client.objects.get(pk=attempt.client_id).suppressed_reason == ""


def test_an_event_for_an_unknown_message_is_accepted_and_ignored(attempt):
    assert post(delivery(MessageID="someone-else")).status_code == 200
    assert status_of(attempt) == Attempt.Status.SUCCESS


def test_a_nul_in_an_events_text_is_dropped_not_a_500(attempt):
    """PostgreSQL's text columns refuse NUL: a receiving server's words, a user
    agent or a message id carrying one were 500s, so the ESP posted them again and
    again (a queued open or click failed in every batch until its dead letter)."""
    from mailing.models import Event

    token = attempt_token(attempt.pk)
    assert post(delivery(MessageID="pm-\x00")).status_code == 200
    answer = post(bounce(Details="smtp;550 5.1.1 no\x00such", Description="\x00"))
    assert answer.status_code == 200
    assert status_of(attempt) == Attempt.Status.BOUNCED
    open_ = {
        "RecordType": "Open",
        "MessageID": "pm-0001",
        "Metadata": {"attempt": token},
        "ReceivedAt": "2026-12-01T10:00:00Z",
        "UserAgent": "Mozilla\x00/5.0",
    }
    assert post(open_).status_code == 200
    stored = Event.objects.filter(attempt=attempt)
    from mailing import event_queue

    event_queue.drain(seconds=1)
    assert set(stored.values_list("kind", flat=True)) >= {"hard_bounce", "opened"}
    for row in stored.values("description", "user_agent", "url"):
        assert "\x00" not in "".join(row.values()), row
    assert stored.get(kind="hard_bounce").description == "smtp;550 5.1.1 nosuch"
