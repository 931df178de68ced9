"""A run through every Anymail ESP with a send API, against a local stub of that
API (tests/mailing/esp_stubs.py): no row is left `sending` or `unknown`, each ends
as the stub answered for its address, and batch ESPs carry up to their documented
recipient limit per call, with the attempt's token and run id in the request.

Amazon SES goes through boto3 with its endpoint_url pointed at the stub.
"""

import json
import math
import warnings
from importlib import import_module

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from mailing import services, tokens
from mailing.models import Attempt, MailingRun
from mailing.sending import pipeline
from mailing.sending.capabilities import BATCH_SYNTAX, capabilities_of
from mailing.tokens import attempt_token
from mailing.unsubscribe import make_token
from tests.factories import make_client, make_mailing, make_user
from tests.mailing import esp_stubs

# esp: (stub, settings given the stub's URL, refuses addresses one by one)
ESPS = {
    "amazon_ses": (
        esp_stubs.amazon_ses,
        lambda url: {
            "AMAZON_SES_CLIENT_PARAMS": {
                "endpoint_url": url.rstrip("/"),
                "region_name": "eu-west-1",
                "aws_access_key_id": "key",
                "aws_secret_access_key": "secret",
            }
        },
        True,
    ),
    "mailgun": (esp_stubs.mailgun, lambda url: {"MAILGUN_API_URL": url}, False),
    "sendgrid": (esp_stubs.sendgrid, lambda url: {"SENDGRID_API_URL": url}, False),
    "sparkpost": (esp_stubs.sparkpost, lambda url: {"SPARKPOST_API_URL": url}, False),
    "brevo": (esp_stubs.brevo, lambda url: {"BREVO_API_URL": url}, False),
    "mailjet": (esp_stubs.mailjet, lambda url: {"MAILJET_API_URL": url}, True),
    "unisender_go": (
        esp_stubs.unisender_go,
        lambda url: {"UNISENDER_GO_API_URL": url},
        True,
    ),
    "mandrill": (esp_stubs.mandrill, lambda url: {"MANDRILL_API_URL": url}, True),
    "postmark": (esp_stubs.postmark, lambda url: {"POSTMARK_API_URL": url}, True),
    "resend": (esp_stubs.resend, lambda url: {"RESEND_API_URL": url}, True),
    "postal": (esp_stubs.postal, lambda url: {"POSTAL_API_URL": url}, True),
    "mailtrap": (esp_stubs.mailtrap, lambda url: {"MAILTRAP_API_URL": url}, True),
    "mailersend": (
        esp_stubs.mailersend,
        lambda url: {"MAILERSEND_API_URL": url},
        True,
    ),
    "scaleway": (esp_stubs.scaleway, lambda url: {"SCALEWAY_API_URL": url}, True),
}
KEYS = {
    "MAILGUN_API_KEY": "key",
    "SENDGRID_API_KEY": "key",
    "SPARKPOST_API_KEY": "key",
    "BREVO_API_KEY": "key",
    "MAILJET_API_KEY": "key",
    "MAILJET_SECRET_KEY": "secret",
    "UNISENDER_GO_API_KEY": "key",
    "UNISENDER_GO_API_URL": "https://go1.unisender.ru/ru/transactional/api/v1/",
    "MANDRILL_API_KEY": "key",
    "POSTMARK_SERVER_TOKEN": "token",
    "RESEND_API_KEY": "key",
    "POSTAL_API_KEY": "key",
    "MAILTRAP_API_TOKEN": "token",
    "MAILERSEND_API_TOKEN": "token",
    "SCALEWAY_SECRET_KEY": "secret",
    "SCALEWAY_PROJECT_ID": "project",
}


@pytest.fixture
def esp_run(request, db):
    """Settings pointing the ESP's backend at a fresh stub; yields a runner."""
    # The URLconf mounts the webhook routes once, from the settings of its first
    # import: not from the overridden ANYMAIL below, which has no webhook secret
    # (a later test's webhook then answered 404 when this file ran first).
    import_module(settings.ROOT_URLCONF)
    servers = []

    def run(esp: str, recipients: int, rejected: int):
        answer, url_setting, _per_recipient = ESPS[esp]
        stub = esp_stubs.StubESP(answer)
        server = esp_stubs.serve(stub)
        servers.append(server)
        url = f"http://127.0.0.1:{server.server_port}/"
        anymail = {**KEYS, **url_setting(url), "REQUESTS_TIMEOUT": (5, 30)}
        owner = make_user()
        clients = [
            make_client(owner, email=f"{'reject' if n < rejected else 'ok'}{n}@ex.org")
            for n in range(recipients)
        ]
        mailing = make_mailing(owner, clients=clients)
        backend = f"anymail.backends.{esp}.EmailBackend"
        with (
            override_settings(EMAIL_BACKEND=backend, ANYMAIL=anymail),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")  # SendGrid's "support dropped" notice
            run = services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())
            pipeline.send_run(run.pk)
            capabilities = capabilities_of(backend)
        return run, stub, capabilities

    yield run
    for server in servers:
        server.shutdown()
        server.server_close()


def check_run(run, stub, capabilities, esp, recipients, rejected):
    _answer, _url, per_recipient = ESPS[esp]
    rows = {a.client.email: a for a in run.attempts.select_related("client")}
    assert len(rows) == recipients
    refused = {e for e in rows if e.startswith("reject")} if per_recipient else set()
    for email, attempt in rows.items():
        expected = (
            Attempt.Status.FAILURE if email in refused else Attempt.Status.SUCCESS
        )
        assert attempt.status == expected, (email, attempt.server_response)
    run.refresh_from_db()
    assert run.status == MailingRun.Status.FINISHED
    assert (run.sent_count, run.failed_count) == (
        recipients - len(refused),
        len(refused),
    )
    # One call per batch (or per email where the ESP has no batch sending).
    limit = capabilities.max_recipients
    assert len(stub.calls) == math.ceil(recipients / limit)
    assert sorted(e for call in stub.calls for e in call.emails) == sorted(rows)
    if capabilities.metadata:
        body = b"".join(call.body for call in stub.calls)
        assert b"run_id" in body
        for attempt in rows.values():
            assert attempt_token(attempt.pk).encode() in body


@pytest.mark.parametrize("esp", sorted(ESPS))
def test_a_run_through_each_esp_ends_every_row_as_the_esp_said(esp_run, esp):
    recipients = 60 if esp in BATCH_SYNTAX else 12
    run, stub, capabilities = esp_run(esp, recipients, rejected=3)

    check_run(run, stub, capabilities, esp, recipients, 3)


def test_batch_esps_are_the_ones_documented_with_batch_sending(esp_run):
    """Anymail refuses per-recipient merge data without a template on the others."""
    batch = set()
    for esp in ESPS:
        capabilities = capabilities_of(f"anymail.backends.{esp}.EmailBackend")
        if capabilities.batch:
            batch.add(esp)
    # Without keys the probe cannot build a backend: it asks for the least.
    assert batch == set()
    with override_settings(ANYMAIL=KEYS), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = {
            esp: capabilities_of(f"anymail.backends.{esp}.EmailBackend") for esp in ESPS
        }
        batch = {esp for esp, capabilities in found.items() if capabilities.batch}
        own_ids = {esp for esp, found in found.items() if found.batch_message_id}
        postmark = capabilities_of("anymail.backends.postmark.EmailBackend")
        mailersend = capabilities_of("anymail.backends.mailersend.EmailBackend")
    assert batch == {"mailgun", "sendgrid", "sparkpost", "brevo", "mailjet"} | {
        "unisender_go"
    }
    # Anymail refuses a Message-ID in Unisender Go's merge_headers.
    assert own_ids == batch - {"unisender_go"}
    assert postmark.max_tags == 1 and postmark.metadata
    assert not mailersend.metadata


@pytest.mark.django_db
def test_a_batch_personalises_each_recipient_through_merge_data(esp_run):
    run, stub, _capabilities = esp_run("mailgun", 5, rejected=0)

    body = stub.calls[0].body
    # The rendered email holds Mailgun's merge fields, each recipient its values.
    assert b"%recipient.name%" in body
    # A link HTML escaping cannot change travels once, for text and HTML alike.
    assert b"%recipient.unsubscribe%" in body
    assert b"unsubscribe_html" not in body
    merged = json.loads(esp_stubs.form_fields(body)["recipient-variables"][0])
    for attempt in run.attempts.select_related("client"):
        assert attempt.client.full_name.encode() in body
        values = merged[attempt.client.email]
        token = tokens.attempt_token(attempt.pk)
        # The unsubscribe link is the client's own; tracking, our Message-ID (for
        # replies and events) and the metadata carry the attempt's one token.
        value = make_token(attempt.client_id).partition(":")[0]  # time apart
        assert f"/unsubscribe/{value}:" in values["unsubscribe"]
        assert values["tracking"] == values["v:attempt"] == token
        assert values["h:Message-Id"].startswith(f"<attempt.{token}@")
    assert b"List-Unsubscribe" in body
    assert b"h:List-Id" in body


@override_settings(SENDING_CONCURRENCY=1)
def test_a_sender_keeps_its_connection_to_the_esp_from_batch_to_batch(esp_run):
    # Mailjet: 50 recipients per call, so three calls.
    run, stub, capabilities = esp_run("mailjet", 150, rejected=0)

    check_run(run, stub, capabilities, "mailjet", 150, 0)
    assert len(stub.calls) == 3
    assert stub.connections == 1


@pytest.mark.stress
@pytest.mark.parametrize("esp", sorted(ESPS))
def test_a_thousand_recipients_through_each_esp(esp_run, esp):
    run, stub, capabilities = esp_run(esp, 1000, rejected=10)

    check_run(run, stub, capabilities, esp, 1000, 10)
