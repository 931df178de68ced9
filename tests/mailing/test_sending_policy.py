"""A failure of the sender's own making never loses a recipient: the rows of the
group fail as transient with the error's text, are retried, and the run's counts
add up to its total; nothing is left `sending` for the sweeper to call unknown."""

from datetime import UTC, datetime, timedelta

import pytest
from anymail.backends.mailgun import EmailBackend as MailgunBackend
from anymail.backends.test import EmailBackend as AnymailTestBackend
from anymail.exceptions import AnymailUnsupportedFeature
from django.test import override_settings
from django.utils import timezone

from mailing import services
from mailing.models import Attempt, MailingRun
from mailing.sending import pipeline, policy
from mailing.sending.outcome import Outcome
from tests.factories import make_client, make_mailing, make_user

pytestmark = pytest.mark.django_db


def run_of(count: int) -> MailingRun:
    owner = make_user()
    clients = [make_client(owner) for _ in range(count)]
    mailing = make_mailing(owner, clients=clients)
    return services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())


def assert_every_row_failed_with(run: MailingRun, words: str) -> None:
    run.refresh_from_db()
    attempts = list(run.attempts.all())
    assert {a.status for a in attempts} == {Attempt.Status.FAILURE}
    assert all(words in a.server_response for a in attempts)
    # Retried as transient: each row was tried SENDING_MAX_TRIES times.
    assert {a.tries for a in attempts} == {3}
    assert run.status == MailingRun.Status.FAILED
    assert run.sent_count + run.failed_count == run.total


@override_settings(
    EMAIL_BACKEND="anymail.backends.test.EmailBackend", SENDING_MAX_TRIES=3
)
def test_an_unexpected_error_per_email_fails_rows_as_transient(monkeypatch):
    def refuse(self, messages):
        raise AnymailUnsupportedFeature("multiple tags")

    monkeypatch.setattr(AnymailTestBackend, "send_messages", refuse)
    run = run_of(4)

    pipeline.send_run(run.pk)

    assert_every_row_failed_with(run, "AnymailUnsupportedFeature: multiple tags")


@override_settings(
    EMAIL_BACKEND="anymail.backends.mailgun.EmailBackend",
    ANYMAIL={"MAILGUN_API_KEY": "key"},
    SENDING_MAX_TRIES=3,
)
def test_an_unexpected_error_in_a_batch_fails_its_rows_as_transient(monkeypatch):
    def broken(self, payload, message):
        raise KeyError("a bug of ours")

    monkeypatch.setattr(MailgunBackend, "post_to_esp", broken)
    run = run_of(5)

    pipeline.send_run(run.pk)

    assert_every_row_failed_with(run, "KeyError")


@override_settings(SENDING_MAX_TRIES=3, SENDING_RETRY_BACKOFF=30)
def test_a_row_failed_for_now_is_retried_with_backoff_until_its_tries_are_spent():
    now = datetime(2026, 1, 1, tzinfo=UTC)

    def retry(tries, transient=True):
        return policy.retry_at(Outcome(1, tries, False, transient, "451"), now)

    assert retry(1) == now + timedelta(seconds=30)
    assert retry(2) == now + timedelta(seconds=60)
    assert retry(3) is None  # SENDING_MAX_TRIES reached: failed for good
    assert retry(1, transient=False) is None  # a 5xx is never retried
