"""Account emails leave through Huey: a mail server that is down never breaks a page.

HUEY is immediate in the test settings, so a task runs inside the request and a
retry lands in Huey's in-memory schedule, where the test can run it by hand.
"""

import logging
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.test import override_settings
from huey.contrib.djhuey import HUEY
from huey.storage import MemoryStorage
from redis.exceptions import ConnectionError as RedisConnectionError

from accounts.models import User
from tests.accounts.conftest import path_in
from tests.accounts.helpers import finish_sign_up, sign_up
from tests.factories import make_user

pytestmark = pytest.mark.django_db

DOWN = "tests.accounts.test_email_queue.MailServerDown"


class MailServerDown(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


@pytest.fixture(autouse=True)
def huey_schedule():
    assert HUEY.immediate and isinstance(HUEY.storage, MemoryStorage)
    HUEY.flush()
    yield HUEY
    HUEY.flush()


def test_sign_up_succeeds_and_logs_when_the_mail_server_is_down(
    client, caplog, huey_schedule
):
    with override_settings(EMAIL_BACKEND=DOWN), caplog.at_level(logging.WARNING):
        response = sign_up(client, "patient@example.com")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/signup/done/"
    assert User.objects.filter(email="patient@example.com").exists()
    assert not mail.outbox
    assert any(
        record.name == "accounts.emails"
        and "verify_email" in record.getMessage()
        and "SMTPServerDisconnected" in record.getMessage()
        for record in caplog.records
    )
    # The failed send waits in Huey's schedule for its retry.
    (retry,) = huey_schedule.scheduled()
    assert retry.name == "send_verification_email" and retry.retries == 4

    # The mail server is back: the retry delivers a working link.
    huey_schedule.execute(retry, timestamp=retry.eta)

    (message,) = mail.outbox
    assert message.to == ["patient@example.com"]
    assert finish_sign_up(client, path_in(message)).status_code == 302


def test_password_reset_answers_the_same_when_the_mail_server_is_down(client):
    make_user(email="known@example.com")

    with override_settings(EMAIL_BACKEND=DOWN):
        response = client.post(
            "/accounts/password-reset/", {"email": "known@example.com"}
        )

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password-reset/done/"


def test_sign_up_sends_the_email_itself_when_the_queue_is_unreachable(
    client, monkeypatch, caplog
):
    def refuse(task):
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379.")

    monkeypatch.setattr(HUEY, "enqueue", refuse)

    with caplog.at_level(logging.WARNING):
        response = sign_up(client, "early@example.com")

    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == ["early@example.com"]
    assert "Task queue unreachable" in caplog.text
