"""Delivery status notifications back to the VERP return path: each email goes
out over SMTP with its own signed return path, and the reports of Postfix, Exim,
Gmail and Exchange (fixtures/dsn, the shapes those servers write) come back
through Anymail's inbound webhook or `manage.py read_dsn` and are applied as an
ESP's bounce events are: the attempt's status, suppression and rollups."""

from __future__ import annotations

import base64
import io
import json
import logging
import mailbox
import uuid
from email import message_from_bytes, policy
from email.utils import format_datetime
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client as Browser
from django.test import override_settings
from django.utils import timezone

from mailing import dsn, return_path
from mailing.models import Attempt, Client, Event, MailingRun, RunDayCounts
from mailing.sending.pipeline import send_run
from mailing.services import open_run
from mailing.tokens import attempt_token, message_id
from tests.factories import make_client, make_mailing, make_user

from .smtp_servers import RecordingHandler, smtp_server, smtp_settings

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "dsn"
BOUNCE_DOMAIN = "bounce.vestnik.example"
RECIPIENT = "reader@example.org"
INBOUND = "/anymail/postmark/inbound/"
AUTH = "Basic " + base64.b64encode(b"test:webhook-secret").decode()
K = Event.Kind


@pytest.fixture(autouse=True)
def bounce_domain(settings):
    settings.EMAIL_BOUNCE_DOMAIN = BOUNCE_DOMAIN


class EnvelopeHandler(RecordingHandler):
    """Also keeps each email's MAIL FROM."""

    def __init__(self):
        super().__init__()
        self.senders = []

    async def handle_DATA(self, server, session, envelope):
        self.senders.append((envelope.mail_from, envelope.content))
        return await super().handle_DATA(server, session, envelope)


def send_over_smtp(mailing, pipelining: bool = True) -> EnvelopeHandler:
    handler = EnvelopeHandler()
    with (
        smtp_server(handler, pipelining) as port,
        override_settings(**smtp_settings(port)),
    ):
        send_run(open_run(mailing, MailingRun.Kind.MANUAL, timezone.now()).pk)
    return handler


@pytest.fixture
def attempt():
    """An email sent over SMTP to one reader, as the Attempt row it left."""
    owner = make_user()
    mailing = make_mailing(owner, clients=[make_client(owner, email=RECIPIENT)])
    send_over_smtp(mailing)
    return Attempt.objects.get(mailing=mailing)


def report(shape: str, attempt, **fields) -> bytes:
    """The fixture of this server's report on the attempt's email."""
    values = {
        "RETURN_PATH": return_path.envelope_sender(attempt.pk, ""),
        "MESSAGE_ID": message_id(attempt.pk, "vestnik.example"),
        "RECIPIENT": RECIPIENT,
        "DATE": format_datetime(timezone.now()),
        "REPORT_ID": f"<{uuid.uuid4()}@mx.example.org>",
        **fields,
    }
    text = (FIXTURES / f"{shape}.eml").read_text()
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", value)
    return text.encode()


def post_inbound(raw: bytes, to: str):
    """What Postmark's inbound webhook posts with "include raw email content"."""
    payload = {
        "From": "MAILER-DAEMON@mx.example.org",
        "FromFull": {"Email": "MAILER-DAEMON@mx.example.org", "Name": ""},
        "To": to,
        "ToFull": [{"Email": to, "Name": ""}],
        "OriginalRecipient": to,
        "Subject": "Undelivered Mail Returned to Sender",
        "MessageID": str(uuid.uuid4()),
        "Headers": [{"Name": "Return-Path", "Value": "<>"}],
        "RawEmail": raw.decode(),
        "Attachments": [],
    }
    response = Browser().post(
        INBOUND,
        data=json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=AUTH,
    )
    assert response.status_code == 200, response.content
    return response


def events(attempt) -> list[tuple[str, str]]:
    return list(Event.objects.filter(attempt=attempt).values_list("kind", "source"))


def suppressed(attempt) -> bool:
    return bool(Client.objects.get(pk=attempt.client_id).suppressed_reason)


def counted(attempt, column: str) -> int:
    rows = RunDayCounts.objects.filter(run_id=attempt.run_id)
    return sum(rows.values_list(column, flat=True))


# --- The return path --------------------------------------------------------------


def test_each_email_goes_out_with_its_own_signed_return_path(pipelining):
    owner = make_user()
    mailing = make_mailing(owner, clients=[make_client(owner) for _ in range(3)])

    handler = send_over_smtp(mailing, pipelining)

    by_message_id = {
        message_from_bytes(content, policy=policy.default)["Message-ID"]: sender
        for sender, content in handler.senders
    }
    attempts = Attempt.objects.filter(mailing=mailing)
    assert len(by_message_id) == attempts.count() == 3
    for row in attempts:
        sender = by_message_id[message_id(row.pk, "localhost")]
        assert sender == f"bounces+{attempt_token(row.pk)}@{BOUNCE_DOMAIN}"
        assert return_path.attempt_of(sender) == row.pk


def test_without_a_bounce_domain_the_site_address_is_the_return_path(settings):
    settings.EMAIL_BOUNCE_DOMAIN = ""
    owner = make_user()
    mailing = make_mailing(owner, clients=[make_client(owner)])

    handler = send_over_smtp(mailing)

    assert [sender for sender, _ in handler.senders] == ["noreply@localhost"]


def test_a_return_path_is_read_only_with_its_signature():
    token = attempt_token(42)
    good = f"bounces+{token}@{BOUNCE_DOMAIN}"

    assert return_path.attempt_of(good) == 42
    assert return_path.attempt_of(good.upper()) == 42  # a server that shouts
    assert return_path.is_bounce_address(good)
    assert return_path.attempt_of(f"bounces+43.{token[3:]}@{BOUNCE_DOMAIN}") is None
    assert return_path.attempt_of("bounces@bounce.vestnik.example") is None
    assert not return_path.is_bounce_address("news@vestnik.example")


# --- Each server's report ---------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "kind", "status", "suppresses", "column"),
    [
        ("postfix_user_unknown", K.HARD_BOUNCE, "bounced", True, "hard_bounces"),
        ("exim_no_such_user", K.HARD_BOUNCE, "bounced", True, "hard_bounces"),
        ("exchange_recipient_not_found", K.HARD_BOUNCE, "bounced", True,
         "hard_bounces"),
        # Over quota: Gmail gives up with "failed" and a 4.2.2 (a full mailbox).
        ("gmail_over_quota", K.SOFT_BOUNCE, "bounced", False, "soft_bounces"),
        # A warning that delivery goes on: recorded, nothing else.
        ("exim_delayed", K.DEFERRED, "success", False, "deferred"),
    ],
)  # fmt: skip
def test_each_servers_report_through_the_inbound_webhook(
    attempt, shape, kind, status, suppresses, column
):
    raw = report(shape, attempt)

    post_inbound(raw, return_path.envelope_sender(attempt.pk, ""))

    assert events(attempt) == [(kind, "dsn")]
    attempt.refresh_from_db()
    assert attempt.status == status
    assert suppressed(attempt) is suppresses
    assert counted(attempt, column) == 1
    event = Event.objects.get(attempt=attempt)
    assert event.description.split()[0][0] in "45"  # the Status first


def test_a_report_postmark_posts_parsed_without_the_raw_email(attempt):
    """Postmark's default: the parts of the report as attachments."""
    to = return_path.envelope_sender(attempt.pk, "")
    status = (
        "Reporting-MTA: dns; mx.example.org\n\n"
        f"Final-Recipient: rfc822; {RECIPIENT}\nAction: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.1.1 no such user\n"
    )
    payload = {
        "From": "MAILER-DAEMON@mx.example.org",
        "FromFull": {"Email": "MAILER-DAEMON@mx.example.org", "Name": ""},
        "ToFull": [{"Email": to, "Name": ""}],
        "OriginalRecipient": to,
        "Subject": "Undelivered Mail Returned to Sender",
        "Headers": [{"Name": "Return-Path", "Value": "<>"}],
        "TextBody": "I'm sorry to have to inform you...",
        "Attachments": [
            {
                "Name": "details.txt",
                "ContentType": "message/delivery-status",
                "Content": base64.b64encode(status.encode()).decode(),
            }
        ],
    }

    response = Browser().post(
        INBOUND, json.dumps(payload), "application/json", HTTP_AUTHORIZATION=AUTH
    )

    assert response.status_code == 200
    assert events(attempt) == [(K.HARD_BOUNCE, "dsn")]


def test_the_report_says_why(attempt):
    dsn.record_dsn(message_from_bytes(report("exchange_recipient_not_found", attempt)))

    event = Event.objects.get(attempt=attempt)
    assert event.description.startswith("5.1.10 smtp;550 5.1.10 RESOLVER.ADR")
    attempt.refresh_from_db()
    assert "RecipientNotFound" in attempt.server_response


def test_the_same_report_twice_counts_once(attempt):
    raw = report("postfix_user_unknown", attempt)
    to = return_path.envelope_sender(attempt.pk, "")

    post_inbound(raw, to)
    post_inbound(raw, to)

    assert events(attempt) == [(K.HARD_BOUNCE, "dsn")]
    assert counted(attempt, "hard_bounces") == 1


def test_a_soft_report_three_times_in_thirty_days_suppresses(attempt):
    to = return_path.envelope_sender(attempt.pk, "")
    for _ in range(2):
        post_inbound(report("gmail_over_quota", attempt), to)
    assert not suppressed(attempt)

    post_inbound(report("gmail_over_quota", attempt), to)

    assert events(attempt) == [(K.SOFT_BOUNCE, "dsn")] * 3
    assert suppressed(attempt)
    reason = Client.objects.get(pk=attempt.client_id).suppressed_reason
    assert "4.2.2" in reason  # the server's words, after the site's reason
    assert counted(attempt, "soft_bounces") == 3


# --- Which attempt ----------------------------------------------------------------


def forged_token(attempt) -> str:
    mac = attempt_token(attempt.pk).split(".")[1]
    return f"{attempt.pk}.{mac[::-1]}"


def foreign_token(attempt) -> str:
    with override_settings(SECRET_KEY="another-site's-key"):  # nosec B106
        return attempt_token(attempt.pk)


@pytest.mark.parametrize("make_token", [forged_token, foreign_token])
def test_a_forged_or_foreign_token_is_ignored_and_logged(attempt, caplog, make_token):
    to = f"bounces+{make_token(attempt)}@{BOUNCE_DOMAIN}"
    raw = report("postfix_user_unknown", attempt, RETURN_PATH=to)

    with caplog.at_level(logging.WARNING, logger="mailing.dsn.forged"):
        post_inbound(raw, to)

    assert events(attempt) == []
    assert not suppressed(attempt)
    assert "not ours" in caplog.text


def test_a_forged_message_id_is_ignored_too(attempt):
    raw = report(
        "exim_no_such_user",
        attempt,
        RETURN_PATH="news@vestnik.example",
        MESSAGE_ID=f"<attempt.{forged_token(attempt)}@vestnik.example>",
    )

    assert dsn.record_dsn(message_from_bytes(raw)) == dsn.Result.FORGED
    assert events(attempt) == []


def test_without_a_token_in_the_address_the_returned_message_id_matches(attempt):
    # A report sent to the site's address (VERP was off when the email left).
    raw = report("exchange_recipient_not_found", attempt, RETURN_PATH="news@x.example")

    assert dsn.record_dsn(message_from_bytes(raw)) == dsn.Result.RECORDED
    assert events(attempt) == [(K.HARD_BOUNCE, "dsn")]


def test_the_recipients_address_alone_matches_nothing(attempt):
    # Final-Recipient and Original-Recipient name the client; nothing is signed.
    raw = report(
        "postfix_user_unknown",
        attempt,
        RETURN_PATH="news@vestnik.example",
        MESSAGE_ID="<somebody-else@example.net>",
    )

    assert dsn.record_dsn(message_from_bytes(raw)) == dsn.Result.UNMATCHED
    assert events(attempt) == []


def test_an_auto_reply_to_the_return_path_changes_nothing(attempt):
    to = return_path.envelope_sender(attempt.pk, "")
    raw = (
        f"From: {RECIPIENT}\r\nTo: {to}\r\nSubject: Out of office\r\n"
        "Auto-Submitted: auto-replied\r\n\r\nBack on Monday.\r\n"
    ).encode()

    post_inbound(raw, to)

    assert events(attempt) == []
    assert dsn.record_dsn(message_from_bytes(raw)) == dsn.Result.NOT_A_REPORT


# --- The local MTA's pipe ---------------------------------------------------------


def test_read_dsn_from_stdin_as_a_pipe_gives_it(attempt, monkeypatch):
    raw = report("postfix_user_unknown", attempt)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw)))
    out = io.StringIO()

    call_command("read_dsn", recipient="x@y.example", stdout=out)

    assert out.getvalue().strip() == "stdin: recorded"
    assert events(attempt) == [(K.HARD_BOUNCE, "dsn")]


def test_read_dsn_from_a_maildir(attempt, tmp_path):
    folder = mailbox.Maildir(tmp_path / "Maildir")
    folder.add(report("exim_no_such_user", attempt))
    folder.add(b"From: someone@example.org\r\nSubject: hello\r\n\r\nhi\r\n")
    out = io.StringIO()

    call_command("read_dsn", str(tmp_path / "Maildir"), stdout=out)

    assert sorted(line.split(": ", 1)[1] for line in out.getvalue().splitlines()) == [
        "not a delivery status notification",
        "recorded",
    ]
    assert events(attempt) == [(K.HARD_BOUNCE, "dsn")]


def test_read_dsn_names_a_missing_file(tmp_path):
    with pytest.raises(Exception, match="no such file or Maildir folder"):
        call_command("read_dsn", str(tmp_path / "nothing"))


def test_a_status_part_sent_in_base64_is_read_too(attempt):
    status = (
        "Reporting-MTA: dns; mx.example.org\r\n\r\n"
        f"Final-Recipient: rfc822; {RECIPIENT}\r\nAction: failed\r\n"
        "Status: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 unknown\r\n"
    )
    to = return_path.envelope_sender(attempt.pk, "")
    raw = (
        f"To: {to}\r\nSubject: failure\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n'
        "\r\n--b\r\nContent-Type: text/plain\r\n\r\nIt failed.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
        f"{base64.b64encode(status.encode()).decode()}\r\n--b--\r\n"
    ).encode()

    assert dsn.record_dsn(message_from_bytes(raw)) == dsn.Result.RECORDED
    assert events(attempt) == [(K.HARD_BOUNCE, "dsn")]
