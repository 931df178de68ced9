"""The sending engine against real SMTP servers on loopback."""

import time
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from mailing import services, tokens
from mailing.models import Attempt, Mailing, MailingRun
from mailing.sending import pipeline
from mailing.unsubscribe import read_token
from tests.factories import make_client, make_mailing, make_user, recipients_of

from .smtp_servers import (
    RecordingHandler,
    free_port,
    hanging_server,
    smtp_server,
    smtp_settings,
)

pytestmark = pytest.mark.django_db


def mailing_with(count: int, **fields) -> Mailing:
    owner = make_user()
    clients = [make_client(owner, full_name=f"Клиент {n}") for n in range(count)]
    return make_mailing(owner, clients=clients, **fields)


def send(mailing: Mailing) -> MailingRun:
    run = services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())
    pipeline.send_run(run.pk)
    run.refresh_from_db()
    return run


@pytest.mark.smoke
@pytest.mark.parametrize(
    "backend",
    [
        "mailing.sending.smtp.EmailBackend",
        "django.core.mail.backends.smtp.EmailBackend",
    ],
)
def test_emails_arrive_personalised_with_unsubscribe_headers(backend, pipelining):
    mailing = mailing_with(3)
    handler = RecordingHandler()
    with (
        smtp_server(handler, pipelining) as port,
        override_settings(**{**smtp_settings(port), "EMAIL_BACKEND": backend}),
    ):
        run = send(mailing)

    assert (run.status, run.total, run.sent_count, run.failed_count) == (
        MailingRun.Status.FINISHED,
        3,
        3,
        0,
    )
    assert run.duration is not None
    attempts = {a.client.email: a for a in run.attempts.select_related("client")}
    assert len(handler.messages) == 3
    for message in handler.messages:
        attempt = attempts[message["To"].addresses[0].addr_spec]
        client = attempt.client
        assert message["Subject"] == f"Hello, {client.full_name}"
        assert message["Message-ID"] == tokens.message_id(attempt.pk, "localhost")
        assert attempt.esp_message_id == message["Message-ID"]
        assert attempt.status == Attempt.Status.SUCCESS
        if backend.startswith("mailing."):  # ours keeps the server's reply
            assert attempt.server_response == "250 2.0.0 Ok: queued"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        parts = message["List-Unsubscribe"].split(",")
        url, mailto = (part.strip(" <>") for part in parts)
        assert url.startswith("http://testserver/unsubscribe/")
        assert read_token(url.rstrip("/").rsplit("/", 1)[1]) == client.pk
        assert mailto.startswith("mailto:unsubscribe@localhost?subject=unsubscribe")
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert f"Dear {client.full_name}, news for {client.email}." in text
        assert client.full_name in html and "<p " in html  # CSS inlined: <p style=


def test_refused_recipients_fail_alone_and_only_4xx_is_retried(pipelining):
    mailing = mailing_with(4)
    bad, busy, *good = list(recipients_of(mailing).order_by("pk"))
    handler = RecordingHandler(
        refuse={
            bad.email: "550 5.1.1 No such user here",
            busy.email: "450 4.2.1 Mailbox busy, try later",
        }
    )
    with (
        smtp_server(handler, pipelining) as port,
        override_settings(**smtp_settings(port), SENDING_MAX_TRIES=2),
    ):
        run = send(mailing)

    assert {rcpts[0] for rcpts, _ in handler.envelopes} == {c.email for c in good}
    by_client = {a.client_id: a for a in run.attempts.all()}
    assert by_client[bad.pk].status == Attempt.Status.FAILURE
    assert by_client[bad.pk].tries == 1  # permanent: never retried
    assert by_client[bad.pk].server_response == "550 5.1.1 No such user here"
    assert by_client[busy.pk].status == Attempt.Status.FAILURE
    assert by_client[busy.pk].tries == 2  # transient: retried up to the limit
    assert by_client[busy.pk].server_response.startswith("450 4.2.1")
    assert (run.sent_count, run.failed_count, run.status) == (2, 2, "finished")


def test_a_server_down_for_the_whole_run_loses_no_recipient():
    mailing = mailing_with(5, periodicity=Mailing.Periodicity.DAILY)
    mailing.first_send_at = mailing.next_send_at = timezone.now() - timedelta(minutes=1)
    mailing.save()
    closed_port = free_port()
    with override_settings(**smtp_settings(closed_port), SENDING_MAX_TRIES=3):
        with_commit = services.open_scheduled_runs(timezone.now())
        pipeline.send_run(with_commit[0].pk)
    run = MailingRun.objects.get()

    assert run.status == MailingRun.Status.FAILED
    assert (run.total, run.sent_count, run.failed_count) == (5, 0, 5)
    for attempt in run.attempts.all():
        assert attempt.status == Attempt.Status.FAILURE
        assert attempt.tries == 3
        assert attempt.server_response.startswith("connection failed: [111]")
    mailing.refresh_from_db()
    # The next slot tries again.
    assert mailing.status == Mailing.Status.RUNNING
    assert mailing.next_send_at > timezone.now()


def test_a_hanging_server_costs_one_timeout_not_a_stuck_consumer():
    mailing = mailing_with(6)
    started = time.monotonic()
    with (
        hanging_server() as port,
        override_settings(
            **smtp_settings(port),
            EMAIL_TIMEOUT=1,
            SENDING_MAX_TRIES=1,
            SENDING_CONCURRENCY=2,
        ),
    ):
        run = send(mailing)
    elapsed = time.monotonic() - started

    assert run.status == MailingRun.Status.FAILED
    assert run.failed_count == 6
    assert all("timed out" in a.server_response for a in run.attempts.all())
    # Two connections, one timeout each, side by side: far from six timeouts.
    assert elapsed < 4


def test_send_test_delivers_one_email_and_writes_no_attempt():
    mailing = mailing_with(1)
    user = make_user(first_name="Анна", last_name="Петрова")
    handler = RecordingHandler()
    with smtp_server(handler) as port, override_settings(**smtp_settings(port)):
        services.send_test(mailing, user)

    assert [rcpts for rcpts, _ in handler.envelopes] == [[user.email]]
    assert handler.messages[0]["Subject"] == "Hello, Анна Петрова"
    assert not Attempt.objects.exists()


def test_send_test_carries_the_list_headers_of_a_real_mailing_email():
    mailing = mailing_with(1)
    user = make_user()
    handler = RecordingHandler()
    with smtp_server(handler) as port, override_settings(**smtp_settings(port)):
        services.send_test(mailing, user)
        services.send_test_message(mailing.message, user)

    for_mailing, for_message = handler.messages
    assert for_mailing["List-Id"] == f"<mailing-{mailing.pk}.localhost>"
    assert for_message["List-Id"] == "<mailing-test.localhost>"
    for message in handler.messages:
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        url, mailto = (p.strip(" <>") for p in message["List-Unsubscribe"].split(","))
        assert url == "http://testserver/unsubscribe/test/"
        assert mailto == "mailto:unsubscribe@localhost?subject=unsubscribe%20test"


def test_send_test_refused_raises_a_readable_error():
    mailing = mailing_with(1)
    user = make_user()
    handler = RecordingHandler(refuse={user.email: "550 5.7.1 Relaying denied"})
    with smtp_server(handler) as port, override_settings(**smtp_settings(port)):
        with pytest.raises(services.SendError, match="550 5.7.1 Relaying denied"):
            services.send_test(mailing, user)


def test_unsubscribed_and_suppressed_clients_are_skipped():
    mailing = mailing_with(3)
    first, second, _ = recipients_of(mailing).order_by("pk")
    first.unsubscribed_at = timezone.now()
    first.save()
    second.suppressed_reason = "hard bounce"
    second.save()
    handler = RecordingHandler()
    with smtp_server(handler) as port, override_settings(**smtp_settings(port)):
        run = send(mailing)

    assert (run.total, run.skipped_count, run.sent_count) == (1, 2, 1)
    assert len(handler.envelopes) == 1


def test_an_email_that_cannot_be_built_fails_alone_the_rest_of_its_group_is_sent(
    pipelining, monkeypatch
):
    """A bug in building one email (here: one client's build raises) fails that
    row, transient, with the error's text; the emails built before and after it in
    the same group go out and are recorded as sent, never sent twice."""
    mailing = mailing_with(5)
    broken = recipients_of(mailing).order_by("pk")[2]
    build = pipeline.RunJob.build

    def build_but_one(job, row):
        if row[2] == broken.pk:
            raise RuntimeError("could not build this one")
        return build(job, row)

    monkeypatch.setattr(pipeline.RunJob, "build", build_but_one)
    handler = RecordingHandler()
    with (
        smtp_server(handler, pipelining) as port,
        override_settings(**smtp_settings(port), SENDING_MAX_TRIES=1),
    ):
        run = send(mailing)

    received = sorted(rcpts[0] for rcpts, _ in handler.envelopes)
    others = sorted(c.email for c in recipients_of(mailing) if c.pk != broken.pk)
    assert received == others  # each once
    failed = run.attempts.get(client=broken)
    assert failed.status == Attempt.Status.FAILURE
    assert "RuntimeError: could not build this one" in failed.server_response
    assert (run.sent_count, run.failed_count, run.status) == (4, 1, "finished")
