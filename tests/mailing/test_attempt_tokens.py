"""Attempt tokens (issue 10): webhook events name an attempt by an unguessable
token, so a forged event with a valid webhook secret but a guessed or another
attempt's token changes nothing."""

import base64
import json

import pytest
from django.core import mail
from django.test import Client as Browser
from django.test import override_settings

from mailing import services, tokens
from mailing.models import Attempt, Client, Event, MailingRun
from mailing.sending import pipeline
from tests.factories import make_client, make_mailing, make_user

pytestmark = pytest.mark.django_db

URL = "/anymail/postmark/tracking/"
AUTH = "Basic " + base64.b64encode(b"test:webhook-secret").decode()


def sent_attempt(owner=None):
    owner = owner or make_user()
    mailing = make_mailing(owner, clients=[make_client(owner)])
    run = services.open_run(mailing, MailingRun.Kind.MANUAL, mailing.first_send_at)
    attempt = run.attempts.get()
    Attempt.objects.filter(pk=attempt.pk).update(status=Attempt.Status.SUCCESS)
    return attempt


def hard_bounce(metadata: dict, message_id: str = "not-ours") -> int:
    payload = {
        "RecordType": "Bounce",
        "Type": "HardBounce",
        "ID": 42,
        "MessageID": message_id,
        "Metadata": metadata,
        "Details": "smtp;550 5.1.1 forged",
    }
    response = Browser().post(
        URL,
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=AUTH,
    )
    return response.status_code


def untouched(attempt) -> bool:
    row = Attempt.objects.select_related("client").get(pk=attempt.pk)
    return (
        row.status == Attempt.Status.SUCCESS
        and row.client.suppressed_reason == ""
        and not Event.objects.filter(attempt=row).exists()
    )


def test_tokens_round_trip_and_refuse_anything_not_made_here():
    token = tokens.attempt_token(1234)
    assert tokens.read_attempt_token(token) == 1234
    assert tokens.read_message_id(tokens.message_id(1234, "example.org")) == 1234
    mac = token.split(".")[1]
    for forged in ("1234", "1235." + mac, "1234." + "0" * len(mac), 1234, None, ""):
        assert tokens.read_attempt_token(forged) is None
    assert tokens.read_message_id("<attempt.1234.run.5@example.org>") is None
    with override_settings(SECRET_KEY="another-site"):
        assert tokens.read_attempt_token(token) is None


@pytest.mark.smoke
def test_a_forged_event_with_the_secret_but_a_guessed_token_changes_nothing():
    victim = sent_attempt()
    mine = sent_attempt()
    guesses = [
        {"attempt_id": str(victim.pk)},  # the old bare id
        {"attempt": str(victim.pk)},
        {"attempt": f"{victim.pk}.{'a' * tokens.MAC_CHARS}"},
        # my own token with the victim's id swapped in
        {
            "attempt": tokens.attempt_token(mine.pk).replace(
                str(mine.pk), str(victim.pk)
            )
        },
    ]
    for metadata in guesses:
        assert hard_bounce(metadata) == 200  # accepted and ignored, no retries
    assert hard_bounce({}, message_id=f"<attempt.{victim.pk}.run.1@localhost>") == 200

    assert untouched(victim)


def test_someone_elses_valid_token_moves_only_that_attempt():
    victim, mine = sent_attempt(), sent_attempt()

    assert hard_bounce({"attempt": tokens.attempt_token(mine.pk)}) == 200

    assert untouched(victim)
    assert Client.objects.get(pk=mine.client_id).suppressed_reason
    assert Attempt.objects.get(pk=mine.pk).status == Attempt.Status.BOUNCED


def test_our_message_id_alone_finds_the_attempt():
    attempt = sent_attempt()
    message_id = tokens.message_id(attempt.pk, "example.org")

    assert hard_bounce({}, message_id=message_id) == 200

    assert Attempt.objects.get(pk=attempt.pk).status == Attempt.Status.BOUNCED


@override_settings(EMAIL_BACKEND="anymail.backends.test.EmailBackend")
def test_sent_emails_carry_the_token_in_message_id_and_metadata():
    owner = make_user()
    mailing = make_mailing(owner, clients=[make_client(owner), make_client(owner)])
    run = services.open_run(mailing, MailingRun.Kind.MANUAL, mailing.first_send_at)

    pipeline.send_run(run.pk)

    assert len(mail.outbox) == 2
    for message in mail.outbox:
        attempt_id = tokens.read_attempt_token(message.metadata["attempt"])
        assert Attempt.objects.filter(pk=attempt_id, run=run).exists()
        assert "attempt_id" not in message.metadata
        assert tokens.read_message_id(message.extra_headers["Message-ID"]) == attempt_id
