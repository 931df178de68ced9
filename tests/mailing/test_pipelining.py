"""SMTP PIPELINING (mailing.sending.pipelining) against aiosmtpd on loopback.

Each refusal must come back as the exception smtplib.sendmail raises for the same
reply, for the right email of the group, and the connection must stay usable.
"""

import smtplib

from mailing.sending.delivery import describe_failure
from mailing.sending.pipelining import send_pipelined

from .smtp_servers import RecordingHandler, smtp_server

SENDER = "news@example.com"


class RefusingFirstSender(RecordingHandler):
    refused = False

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if not self.refused:
            self.refused = True
            return "451 4.3.0 Sender check later"
        envelope.mail_from = address
        return "250 OK"


def connect(port: int) -> smtplib.SMTP:
    smtp = smtplib.SMTP("127.0.0.1", port)
    smtp.ehlo()
    assert smtp.has_extn("pipelining")
    return smtp


def email(n: int, body: bytes = b"Hello.\r\n") -> tuple[str, str, bytes]:
    data = b"Subject: n" + str(n).encode() + b"\r\n\r\n" + body
    return SENDER, f"r{n}@example.org", data


def test_each_reply_goes_to_its_own_email_in_the_group():
    handler = RecordingHandler(
        refuse={
            "r1@example.org": "550 5.1.1 No such user",
            "r3@example.org": "450 4.2.1 Mailbox busy",
        }
    )
    dotted = b".leading dot\r\n..two dots\r\nlast line without CRLF"
    emails = [email(0), email(1), email(2, dotted), email(3), email(4)]
    with smtp_server(handler) as port:
        smtp = connect(port)
        results = send_pipelined(smtp, emails)
        again = send_pipelined(smtp, [email(5)])  # nothing left open
        smtp.quit()

    assert [describe_failure(r, emails[1][1]) for r in results[1:2]] == [
        (False, "550 5.1.1 No such user")
    ]
    assert isinstance(results[3], smtplib.SMTPRecipientsRefused)
    assert describe_failure(results[3], emails[3][1]) == (
        True,
        "450 4.2.1 Mailbox busy",
    )
    assert [results[0], results[2], results[4], again[0]] == [
        "250 2.0.0 Ok: queued"
    ] * 4
    received = {rcpts[0]: content for rcpts, content in handler.envelopes}
    assert sorted(received) == [f"r{n}@example.org" for n in (0, 2, 4, 5)]
    # Dot-stuffed on the wire, restored by the server: the same bytes arrive.
    assert received["r2@example.org"] == emails[2][2] + b"\r\n"


def test_a_refused_sender_fails_that_email_only():
    handler = RefusingFirstSender()
    with smtp_server(handler) as port:
        smtp = connect(port)
        results = send_pipelined(smtp, [email(0), email(1)])
        smtp.quit()

    assert isinstance(results[0], smtplib.SMTPSenderRefused)
    assert describe_failure(results[0], "r0@example.org") == (
        True,
        "451 4.3.0 Sender check later",
    )
    assert results[1] == "250 2.0.0 Ok: queued"
    assert [rcpts for rcpts, _ in handler.envelopes] == [["r1@example.org"]]


def test_a_421_ends_the_group_and_closes_the_connection():
    handler = RecordingHandler(refuse={"r1@example.org": "421 4.7.0 Closing"})
    with smtp_server(handler) as port:
        smtp = connect(port)
        results = send_pipelined(smtp, [email(0), email(1), email(2)])

    # r2 was never attempted: the caller sends it on a new connection.
    assert len(results) == 2
    assert results[0] == "250 2.0.0 Ok: queued"
    assert describe_failure(results[1], "r1@example.org") == (
        True,
        "421 4.7.0 Closing",
    )
    assert smtp.sock is None
    assert [rcpts for rcpts, _ in handler.envelopes] == [["r0@example.org"]]


def test_a_dead_connection_fails_what_was_in_flight():
    handler = RecordingHandler()
    with smtp_server(handler) as port:
        smtp = connect(port)
    smtp.sock.close()  # the server is gone and so is our socket
    results = send_pipelined(smtp, [email(0), email(1)])

    assert len(results) == 1
    transient, response = describe_failure(results[0], "r0@example.org")
    assert transient and response.startswith("connection lost")
