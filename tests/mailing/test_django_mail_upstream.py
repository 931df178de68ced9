"""mailing.sending.django_mail leans on Django's undocumented email helpers: these
tests fail when an upgrade changes what the MIME builder relies on."""

import pytest
from django.core.mail import BadHeaderError, EmailMessage

from mailing.sending import django_mail


def test_an_idn_address_goes_out_in_punycode_with_its_name_encoded():
    encoded = django_mail.encoded_address("Jörg <jörg@bücher.example>")
    assert (
        encoded == "=?utf-8?b?SsO2cmc=?= <=?utf-8?b?asO2cmc=?=@xn--bcher-kva.example>"
    )


def test_a_plain_address_is_left_as_it_is():
    assert django_mail.encoded_address("reader@example.org") == "reader@example.org"


def test_an_address_with_a_newline_is_refused():
    with pytest.raises(ValueError):
        django_mail.encoded_address("reader@example.org\nBcc: x@example.org")


def test_a_non_ascii_header_is_encoded_as_django_encodes_its_own_messages():
    value = django_mail.encoded_header("Subject", "Новости недели")
    message = EmailMessage(subject="Новости недели", to=["reader@example.org"])
    assert value == message.message()["Subject"]
    assert value.startswith("=?utf-8?")


def test_a_header_with_a_newline_is_refused():
    with pytest.raises(BadHeaderError):
        django_mail.encoded_header("Subject", "News\nBcc: x@example.org")
