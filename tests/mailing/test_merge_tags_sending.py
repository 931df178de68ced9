"""Attribute merge tags in sent emails (issue 12): each recipient's own values, the
fallback for a missing one, through the Django/ESP path and the wire writer."""

import email
from email import policy

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from mailing import services
from mailing.models import ClientField, MailingRun
from mailing.rendering import PreparedMessage
from mailing.sending import pipeline
from mailing.sending.mime import RunWire
from tests.factories import make_client, make_mailing, make_message, make_user

ANYMAIL_TEST = "anymail.backends.test.EmailBackend"
BODY = 'Привет, {{ first_name|default:"друг" }}!'


@pytest.mark.django_db
@override_settings(EMAIL_BACKEND=ANYMAIL_TEST)
def test_each_recipient_gets_their_attribute_or_the_fallback():
    owner = make_user()
    ClientField.objects.create(owner=owner, key="first_name", label="Имя")
    ann = make_client(owner, email="ann@example.org", attributes={"first_name": "Аня"})
    bob = make_client(owner, email="bob@example.org")
    message = make_message(owner, subject=BODY, body=BODY)
    mailing = make_mailing(owner, clients=[ann, bob], message=message)
    run = services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())

    pipeline.send_run(run.pk)

    by_address = {m.to[0].split("<")[-1].rstrip(">"): m for m in mail.outbox}
    assert by_address["ann@example.org"].subject == "Привет, Аня!"
    assert by_address["ann@example.org"].body.startswith("Привет, Аня!")
    assert by_address["bob@example.org"].subject == "Привет, друг!"


def test_the_wire_writer_fills_attribute_merge_tags():
    prepared = PreparedMessage(
        BODY, BODY + "\n", f"<p>{BODY.replace(chr(34), '&quot;')} {{{{ city }}}}</p>"
    )
    wire = RunWire(prepared, "Вестник <noreply@example.com>")

    data = wire.build(
        "Ann",
        "ann@example.org",
        "https://x/u/",
        {},
        attributes={"first_name": "<Аня>", "city": "Kazan"},
    )

    parsed = email.message_from_bytes(data, policy=policy.default)
    assert parsed["Subject"] == "Привет, <Аня>!"
    html = parsed.get_body(("html",)).get_content()
    assert "Привет, &lt;Аня&gt;! Kazan" in html
    plain = wire.build("Bob", "bob@example.org", "https://x/u/", {})
    assert (
        "Привет, друг!"
        in email.message_from_bytes(plain, policy=policy.default)
        .get_body(("plain",))
        .get_content()
    )
