"""Mail to the List-Unsubscribe mailto unsubscribes, through Anymail's inbound webhook.

The webhook tests post what Postmark's inbound webhook posts (the JSON documented at
https://postmarkapp.com/developer/webhooks/inbound-webhook), with the mailto taken
from the List-Unsubscribe header of an email Vestnik really sent.
"""

import base64
import json
import logging
import uuid
from email.header import Header
from urllib.parse import parse_qs, urlsplit

import pytest
from anymail.inbound import AnymailInboundMessage
from django.core import mail, signing
from django.test import Client as Browser
from django.utils import timezone

from mailing.models import Client, MailingRun
from mailing.sending.pipeline import send_run
from mailing.services import open_run
from mailing.unsubscribe import make_token, unsubscribe_by_mail
from tests.factories import make_client, make_mailing, make_user

pytestmark = pytest.mark.django_db

URL = "/anymail/postmark/inbound/"
AUTH = "Basic " + base64.b64encode(b"test:webhook-secret").decode()
ADDRESS = "unsubscribe@vestnik.example"


@pytest.fixture(autouse=True)
def unsubscribe_address(settings):
    settings.UNSUBSCRIBE_MAILTO = ADDRESS


@pytest.fixture
def client_row():
    return make_client(make_user(), email="reader@example.org")


def sent_mailto(client_row) -> tuple[str, str]:
    """(address, subject) of the mailto in the email the client got (RFC 6068)."""
    mailing = make_mailing(client_row.owner, clients=[client_row])
    send_run(open_run(mailing, MailingRun.Kind.MANUAL, timezone.now()).pk)
    header = mail.outbox[-1].extra_headers["List-Unsubscribe"]
    mailto = next(p.strip(" <>") for p in header.split(",") if "mailto:" in p)
    parts = urlsplit(mailto)
    return parts.path, parse_qs(parts.query)["subject"][0]


def postmark_inbound(to: str, subject: str, text: str = "", **extra) -> dict:
    sender = extra.pop("sender", "reader@example.org")
    return {
        "FromName": "Reader",
        "MessageStream": "inbound",
        "From": sender,
        "FromFull": {"Email": sender, "Name": "Reader", "MailboxHash": ""},
        "To": to,
        "ToFull": [{"Email": to, "Name": "", "MailboxHash": ""}],
        "Cc": "",
        "CcFull": [],
        "Bcc": "",
        "BccFull": [],
        "OriginalRecipient": to,
        "Subject": subject,
        "MessageID": str(uuid.uuid4()),
        "ReplyTo": "",
        "MailboxHash": "",
        "Date": "Thu, 26 Nov 2026 14:30:00 +0000",
        "TextBody": text,
        "HtmlBody": "",
        "StrippedTextReply": "",
        "Tag": "",
        "Headers": [
            {"Name": "Return-Path", "Value": f"<{sender}>"},
            {"Name": "X-Spam-Status", "Value": "No"},
            {"Name": "Message-ID", "Value": "<reader.1@example.org>"},
        ],
        "Attachments": [],
        **extra,
    }


def post(payload: dict, auth: str | None = AUTH):
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    return Browser().post(
        URL, data=json.dumps(payload), content_type="application/json", **headers
    )


def unsubscribed_at(client_row):
    return Client.objects.get(pk=client_row.pk).unsubscribed_at


def forged(token: str, client_id: int) -> str:
    """Another client's id with this token's timestamp and signature."""
    _, rest = token.split(":", 1)
    return f"{signing.b64_encode(json.dumps(client_id).encode()).decode()}:{rest}"


@pytest.mark.smoke
def test_mail_to_the_mailto_of_a_sent_email_unsubscribes(client_row):
    address, subject = sent_mailto(client_row)

    assert address == ADDRESS
    assert post(postmark_inbound(address, subject)).status_code == 200
    assert unsubscribed_at(client_row) is not None


def test_the_same_mail_twice_keeps_the_first_time(client_row):
    payload = postmark_inbound(*sent_mailto(client_row))

    post(payload)
    first = unsubscribed_at(client_row)
    assert post(payload).status_code == 200

    assert first is not None
    assert unsubscribed_at(client_row) == first


def test_a_tampered_token_changes_nothing_and_is_accepted(client_row):
    other = make_client(client_row.owner)
    token = make_token(client_row.pk)

    for bad in (forged(token, other.pk), token[:-2] + "xx", "not:a:token"):
        response = post(postmark_inbound(ADDRESS, f"unsubscribe {bad}"))
        # 200: an ESP retries anything else, and a bad token stays bad.
        assert response.status_code == 200
    assert unsubscribed_at(client_row) is None
    assert unsubscribed_at(other) is None


@pytest.mark.smoke
def test_inbound_mail_without_the_webhook_secret_is_refused(client_row):
    payload = postmark_inbound(*sent_mailto(client_row))
    wrong = "Basic " + base64.b64encode(b"test:wrong").decode()

    for auth in (None, wrong):
        # Anymail answers a failed basic auth with 400 (SuspiciousOperation).
        assert post(payload, auth=auth).status_code == 400
    assert unsubscribed_at(client_row) is None


def test_a_token_in_the_body_unsubscribes(client_row):
    address, subject = sent_mailto(client_row)
    body = f"Please take me off this list.\n\n{subject}\n\nSent from my phone"

    assert post(postmark_inbound(address, "Unsubscribe", text=body)).status_code == 200
    assert unsubscribed_at(client_row) is not None


def test_the_token_decides_not_the_from_address(client_row):
    other = make_client(client_row.owner, email="other@example.org")
    address, subject = sent_mailto(client_row)

    post(postmark_inbound(address, subject, sender=other.email))

    assert unsubscribed_at(client_row) is not None
    assert unsubscribed_at(other) is None


def test_a_reply_to_a_mailing_quoting_its_link_is_not_a_request(client_row):
    link = f"http://testserver/unsubscribe/{make_token(client_row.pk)}/"
    reply = f"Thanks!\n\n> Hello, {client_row.full_name}\n> Unsubscribe: {link}"

    post(postmark_inbound("noreply@vestnik.example", "Re: news", text=reply))

    assert unsubscribed_at(client_row) is None


def test_postmark_raw_email_payload_unsubscribes(client_row):
    address, subject = sent_mailto(client_row)
    raw = f"From: reader@example.org\r\nTo: {address}\r\nSubject: {subject}\r\n\r\n"

    post(postmark_inbound(address, "ignored", RawEmail=raw))

    assert unsubscribed_at(client_row) is not None


# --- The service on messages parsed from raw RFC 822 --------------------------------


def raw_message(headers: str, body: str = "") -> AnymailInboundMessage:
    lines = headers.strip().replace("\n", "\r\n")
    return AnymailInboundMessage.parse_raw_mime_bytes(
        f"{lines}\r\n\r\n{body}".encode("utf-8", "surrogateescape")
    )


def test_the_service_unsubscribes_from_a_raw_rfc822_message(client_row):
    token = make_token(client_row.pk)
    message = raw_message(
        f"""
Return-Path: <reader@example.org>
Received: from mx.example.org by inbound.example; Thu, 26 Nov 2026 14:30:00 +0000
From: Reader <reader@example.org>
To: {ADDRESS}
Subject: unsubscribe {token}
Message-ID: <1@example.org>
Date: Thu, 26 Nov 2026 14:30:00 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
""",
        "\r\n",
    )

    assert unsubscribe_by_mail(message) is True
    assert unsubscribed_at(client_row) is not None
    assert unsubscribe_by_mail(message) is False  # idempotent


def test_the_service_reads_an_encoded_subject_and_an_html_only_body(client_row):
    token = make_token(client_row.pk)
    subject = Header(f"Отписка: unsubscribe {token}", "utf-8").encode()
    encoded = raw_message(f"To: {ADDRESS}\nSubject: {subject}")
    html = raw_message(
        f"To: <{ADDRESS.upper()}>\nSubject: unsubscribe\nContent-Type: text/html",
        f"<p>unsubscribe <b>{token}</b></p>",
    )
    percent = raw_message(f"To: {ADDRESS}\nSubject: unsubscribe%20{token}")

    assert unsubscribe_by_mail(encoded) is True
    Client.objects.filter(pk=client_row.pk).update(unsubscribed_at=None)
    assert unsubscribe_by_mail(html) is True
    Client.objects.filter(pk=client_row.pk).update(unsubscribed_at=None)
    assert unsubscribe_by_mail(percent) is True


def test_a_token_below_the_first_lines_is_not_read(client_row):
    token = make_token(client_row.pk)
    body = "\r\n".join(["line"] * 6 + [f"unsubscribe {token}"])

    message = raw_message(f"To: {ADDRESS}\nSubject: hi\nContent-Type: text/plain", body)

    assert unsubscribe_by_mail(message) is False
    assert unsubscribed_at(client_row) is None


def test_bad_mail_is_logged_at_info_and_never_raises(client_row, caplog):
    token = make_token(client_row.pk)
    other_salt = signing.dumps(client_row.pk, salt="some.other.feature")
    messages = [
        raw_message(f"To: {ADDRESS}\nSubject: unsubscribe {other_salt}"),
        raw_message(f"To: {ADDRESS}\nSubject: please unsubscribe me"),
        raw_message(f"Subject: unsubscribe {token}"),  # to nobody
        # Python 3.11's address parser raises IndexError on this To header.
        raw_message(f'To: "\nSubject: unsubscribe {token}'),
        raw_message(
            f"To: {ADDRESS}\nSubject: hi\nContent-Type: text/plain; charset=x-nothing",
            f"unsubscribe {token}",
        ),
    ]

    with caplog.at_level(logging.INFO, logger="mailing.unsubscribe"):
        results = [unsubscribe_by_mail(message) for message in messages]

    assert results == [False] * len(messages)
    assert unsubscribed_at(client_row) is None
    assert len(caplog.records) == len(messages)
    assert {record.levelno for record in caplog.records} == {logging.INFO}
