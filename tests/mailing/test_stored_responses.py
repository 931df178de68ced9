"""A server's or an ESP's words are stored whatever bytes they hold: a NUL or a
lone surrogate in a reply made the settle fail (PostgreSQL's text refuses NUL,
its JSON and SQLite's UTF-8 refuse lone surrogates) and left the group `sending`.
They are stored with U+FFFD in their place, the run's counts add up."""

import json
import warnings
from importlib import import_module

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from mailing import services
from mailing.events import Kind
from mailing.models import Attempt, Event, MailingRun
from mailing.sending import pipeline
from mailing.sending.policy import stored_text
from tests.factories import make_client, make_mailing, make_user
from tests.mailing import esp_stubs

from .smtp_servers import RecordingHandler, smtp_server, smtp_settings

pytestmark = pytest.mark.django_db


def run_to(emails: list[str]) -> MailingRun:
    owner = make_user()
    clients = [make_client(owner, email=email) for email in emails]
    mailing = make_mailing(owner, clients=clients)
    run = services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())
    pipeline.send_run(run.pk)
    run.refresh_from_db()
    return run


def responses(run: MailingRun) -> dict[str, tuple[str, str]]:
    attempts = run.attempts.select_related("client")
    return {a.client.email: (a.status, a.server_response) for a in attempts}


def test_nul_and_lone_surrogates_become_the_replacement_character():
    assert stored_text("550 bad\x00 user") == "550 bad\ufffd user"
    assert stored_text("refused \ud800 here \udfff") == "refused \ufffd here \ufffd"
    # Two code points of a surrogate pair are the character they spell.
    assert stored_text("ok \ud83d\ude00") == "ok \U0001f600"
    assert stored_text("250 Ok: queued") == "250 Ok: queued"
    assert stored_text("Принято \U0001f600") == "Принято \U0001f600"


def test_an_smtp_reply_with_a_nul_is_stored_and_the_run_finishes(pipelining):
    handler = RecordingHandler(refuse={"bad@example.org": "550 bad\x00 user"})
    emails = ["ok1@example.org", "bad@example.org", "ok2@example.org"]
    with (
        smtp_server(handler, pipelining) as port,
        override_settings(**smtp_settings(port, SENDING_CONCURRENCY=1)),
    ):
        run = run_to(emails)

    assert responses(run)["bad@example.org"] == (
        Attempt.Status.FAILURE,
        "550 bad\ufffd user",
    )
    assert responses(run)["ok1@example.org"][0] == Attempt.Status.SUCCESS
    assert (run.status, run.sent_count, run.failed_count) == (
        MailingRun.Status.FINISHED,
        2,
        1,
    )
    # The hard bounce's event keeps the same words.
    bounce = Event.objects.get(kind=Kind.HARD_BOUNCE, attempt__run=run)
    assert bounce.description == "550 bad\ufffd user"


def ses_refusing_with_a_lone_surrogate(body, data):
    """SES v2's JSON error, its message with an escaped lone surrogate (valid JSON;
    botocore's json.loads gives the string with the surrogate)."""
    email = esp_stubs._addr(data["Destination"]["ToAddresses"][0])
    if email.startswith("reject"):
        error = {"message": "Address \ud800 refused\x00.", "__type": "BadRequest"}
        headers = {"x-amzn-ErrorType": "BadRequest"}
        return [email], esp_stubs._answer(
            400, json.dumps(error).encode(), headers=headers
        )
    return [email], esp_stubs._answer(200, {"MessageId": "id-\ud800-1"})


def test_an_esp_error_with_a_lone_surrogate_is_stored_and_the_run_finishes():
    import_module(settings.ROOT_URLCONF)  # as test_esp_runs: webhooks mounted once
    stub = esp_stubs.StubESP(ses_refusing_with_a_lone_surrogate)
    server = esp_stubs.serve(stub)
    anymail = {
        "AMAZON_SES_CLIENT_PARAMS": {
            "endpoint_url": f"http://127.0.0.1:{server.server_port}",
            "region_name": "eu-west-1",
            "aws_access_key_id": "key",
            "aws_secret_access_key": "secret",
        },
    }
    try:
        with (
            override_settings(
                EMAIL_BACKEND="anymail.backends.amazon_ses.EmailBackend",
                ANYMAIL=anymail,
            ),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            run = run_to(["ok@example.org", "reject@example.org"])
    finally:
        server.shutdown()
        server.server_close()

    status, response = responses(run)["reject@example.org"]
    assert status == Attempt.Status.FAILURE
    assert "Address \ufffd refused\ufffd." in response
    sent = run.attempts.get(client__email="ok@example.org")
    assert (sent.status, sent.esp_message_id) == (Attempt.Status.SUCCESS, "id-\ufffd-1")
    assert (run.status, run.sent_count, run.failed_count) == (
        MailingRun.Status.FINISHED,
        1,
        1,
    )
