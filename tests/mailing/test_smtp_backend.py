"""Vestnik's SMTP backend (sending.smtp) as Django's email backend: the site's own
emails (sign-up, password reset) go through send_messages() like any backend's."""

import smtplib

import pytest
from django.core import mail
from django.core.mail import EmailMessage, get_connection
from django.test import override_settings

from .smtp_servers import RecordingHandler, hanging_server, smtp_server, smtp_settings


def test_send_mail_delivers_a_django_email_with_an_encoded_name():
    handler = RecordingHandler()
    with smtp_server(handler) as port, override_settings(**smtp_settings(port)):
        sent = mail.send_mail(
            "Подтвердите адрес",
            "Ссылка: https://example.com/v/1/",
            "Вестник <noreply@example.com>",
            ["Анна <anna@example.org>"],
        )

    assert sent == 1
    ((recipients, _content),) = handler.envelopes
    assert recipients == ["anna@example.org"]
    (message,) = handler.messages
    assert message["Subject"] == "Подтвердите адрес"
    assert message["To"].addresses[0].display_name == "Анна"


def test_one_connection_for_several_messages_and_closed_after():
    handler = RecordingHandler()
    with smtp_server(handler) as port, override_settings(**smtp_settings(port)):
        backend = get_connection()
        messages = [
            EmailMessage("s", "b", "a@example.com", [f"r{n}@example.org"])
            for n in range(3)
        ]
        assert backend.send_messages(messages) == 3
        assert backend.connection is None  # opened for the call, closed after


def test_a_refused_recipient_raises_or_is_silent_as_asked():
    handler = RecordingHandler({"no@example.org": "550 5.1.1 No such user"})
    message = EmailMessage("s", "b", "a@example.com", ["no@example.org"])
    with smtp_server(handler) as port, override_settings(**smtp_settings(port)):
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            get_connection().send_messages([message])
        assert get_connection(fail_silently=True).send_messages([message]) == 0


def test_a_server_that_does_not_answer_fails_after_the_timeout():
    with hanging_server() as port:
        settings = smtp_settings(port, EMAIL_TIMEOUT=0.3)
        with override_settings(**settings):
            with pytest.raises(OSError):
                get_connection().open()
            assert get_connection(fail_silently=True).open() is None


def test_tls_and_ssl_together_are_refused():
    with pytest.raises(ValueError, match="mutually exclusive"):
        get_connection("mailing.sending.smtp.EmailBackend", use_tls=True, use_ssl=True)
