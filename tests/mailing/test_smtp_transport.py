"""The SMTP transport against servers with TLS and AUTH: a refused recipient costs
neither the connection nor a new AUTH, 421 does; certificates are checked against
EMAIL_SSL_CAFILE; EHLO says EMAIL_HELO_NAME; every mailing email has a List-Id."""

import pytest
from django.test import override_settings
from django.utils import timezone

from mailing import services
from mailing.models import Attempt, Mailing, MailingRun
from mailing.sending import pipeline
from tests.factories import make_client, make_mailing, make_user

from .smtp_servers import RecordingHandler, smtp_settings
from .tls_servers import make_ca, smtp_sink, tls_smtp_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def ca_files(tmp_path):
    return make_ca(tmp_path)


def mailing_for(emails: list[str]) -> Mailing:
    owner = make_user()
    clients = [make_client(owner, email=email) for email in emails]
    return make_mailing(owner, clients=clients)


def send(mailing: Mailing) -> MailingRun:
    run = services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())
    pipeline.send_run(run.pk)
    run.refresh_from_db()
    return run


def statuses(run: MailingRun) -> dict[str, str]:
    return {a.client.email: a.status for a in run.attempts.select_related("client")}


def tls_settings(port: int, ca: str, **extra) -> dict:
    return smtp_settings(
        port,
        EMAIL_HOST_USER="vestnik",
        EMAIL_HOST_PASSWORD="secret",
        EMAIL_USE_TLS=True,
        EMAIL_SSL_CAFILE=ca,
        EMAIL_HELO_NAME="mail.vestnik.example",
        SENDING_CONCURRENCY=1,
        **extra,
    )


class RefusingOnce(RecordingHandler):
    """Answers 421 (closing) to one address the first time only."""

    def __init__(self, address: str):
        super().__init__()
        self.address, self.refused = address, False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.address and not self.refused:
            self.refused = True
            return "421 4.3.2 Service shutting down, closing channel"
        return await super().handle_RCPT(
            server, session, envelope, address, rcpt_options
        )


def test_refused_recipients_keep_the_one_tls_connection_and_its_auth(
    ca_files, pipelining
):
    emails = [f"c{n}@example.org" for n in range(12)]
    refuse = {
        emails[3]: "550 5.1.1 No such user",
        emails[7]: "450 4.2.0 Mailbox busy",
        emails[8]: "550 5.1.1 No such user",
    }
    handler = RecordingHandler(refuse)
    mailing = mailing_for(emails)
    with tls_smtp_server(handler, ca_files, pipelining=pipelining) as (port, counts):
        # A server that tolerates these errors (see test_smtp_error_budget.py).
        budget = {"EMAIL_ERROR_BUDGET": 20}
        with override_settings(**tls_settings(port, ca_files[0]), **budget):
            run = send(mailing)

    found = statuses(run)
    assert {e for e, s in found.items() if s == Attempt.Status.FAILURE} == set(refuse)
    assert run.sent_count == 9
    # The 450 was tried SENDING_MAX_TRIES times: all on the same connection.
    assert counts.auths == 1
    assert len(counts.sessions) == 1
    assert counts.helo_names == {"mail.vestnik.example"}
    assert {m["List-Id"] for m in handler.messages} == {
        f"<mailing-{mailing.pk}.localhost>"
    }


def test_a_421_mid_group_reconnects_and_loses_no_recipient(ca_files, pipelining):
    emails = [f"c{n}@example.org" for n in range(8)]
    handler = RefusingOnce(emails[4])
    with tls_smtp_server(handler, ca_files, pipelining=pipelining) as (port, counts):
        with override_settings(**tls_settings(port, ca_files[0])):
            run = send(mailing_for(emails))

    assert set(statuses(run).values()) == {Attempt.Status.SUCCESS}
    assert sorted(to for tos, _ in handler.envelopes for to in tos) == sorted(emails)
    # The server closed after 421: one new connection, one new AUTH.
    assert counts.auths == 2
    assert len(counts.sessions) == 2


def test_implicit_tls_on_its_own_port(ca_files):
    emails = ["a@example.org", "b@example.org"]
    handler = RecordingHandler()
    with tls_smtp_server(handler, ca_files, implicit=True) as (port, counts):
        settings = tls_settings(port, ca_files[0], EMAIL_USE_SSL=True)
        with override_settings(**{**settings, "EMAIL_USE_TLS": False}):
            run = send(mailing_for(emails))

    assert run.sent_count == 2
    assert counts.auths == 1


def test_a_certificate_from_an_unknown_ca_is_refused(ca_files, tmp_path_factory):
    other_ca = make_ca(tmp_path_factory.mktemp("other"))[0]
    handler = RecordingHandler()
    with tls_smtp_server(handler, ca_files) as (port, counts):
        with override_settings(**tls_settings(port, other_ca), SENDING_MAX_TRIES=1):
            run = send(mailing_for(["a@example.org"]))

    (attempt,) = run.attempts.all()
    assert attempt.status == Attempt.Status.FAILURE
    assert "CERTIFICATE_VERIFY_FAILED" in attempt.server_response
    assert handler.envelopes == [] and counts.auths == 0


@pytest.mark.parametrize(
    ("options", "code"),
    [
        (["-f", "rcpt", "-B", "550 5.1.1 No such user"], "550"),
        (["-r", "rcpt", "-b", "450 4.2.0 Mailbox busy"], "450"),
    ],
)
def test_smtp_sink_refusing_every_recipient_is_one_connection(options, code):
    emails = [f"c{n}@example.org" for n in range(10)]
    with smtp_sink(*options) as proxy:
        # smtp-sink counts no errors: no reason to reconnect.
        settings = smtp_settings(
            proxy.port, SENDING_CONCURRENCY=1, EMAIL_ERROR_BUDGET=1000
        )
        with override_settings(**settings):
            run = send(mailing_for(emails))

    assert set(statuses(run).values()) == {Attempt.Status.FAILURE}
    responses = {a.server_response[:3] for a in run.attempts.all()}
    assert responses == {code}
    assert proxy.connections == 1


def test_smtp_sink_refusals_reconnect_before_the_servers_error_limit():
    """The connection is closed politely and reopened before the error budget
    (Postfix's soft limit, 10) could be passed by one more email (up to four
    errors). smtp-sink answers DATA with 354 even after a refused RCPT (Postfix
    says 554): one error per refusal, so a connection takes seven."""
    emails = [f"c{n}@example.org" for n in range(10)]
    with smtp_sink("-f", "rcpt", "-B", "550 5.1.1 No such user") as proxy:
        with override_settings(**smtp_settings(proxy.port, SENDING_CONCURRENCY=1)):
            run = send(mailing_for(emails))

    assert run.failed_count == 10
    assert proxy.connections == 2  # 7 + 3


def test_smtp_sink_takes_a_run_on_one_connection():
    emails = [f"c{n}@example.org" for n in range(30)]
    with smtp_sink() as proxy:
        with override_settings(**smtp_settings(proxy.port, SENDING_CONCURRENCY=1)):
            run = send(mailing_for(emails))

    assert run.sent_count == 30
    assert proxy.connections == 1


def test_a_refused_login_keeps_every_recipient_for_a_retry(ca_files):
    """A 535 to AUTH is the account's fault, not the recipients': it used to fail
    every row of the run for good (a 5xx), to be sent again by hand once the
    password was fixed. The rows wait for a retry, the server's words on each."""
    handler = RecordingHandler()
    with tls_smtp_server(handler, ca_files) as (port, counts):
        wrong = {**tls_settings(port, ca_files[0]), "EMAIL_HOST_PASSWORD": "wrong"}
        with override_settings(**wrong, SENDING_RETRY_BACKOFF=3600):
            run = send(mailing_for(["a@example.org", "b@example.org"]))

    attempts = list(run.attempts.all())
    assert {a.status for a in attempts} == {Attempt.Status.PENDING}
    assert all(a.retry_at for a in attempts)
    assert all(a.server_response.startswith("535") for a in attempts)
    assert handler.envelopes == [] and counts.auths >= 1
