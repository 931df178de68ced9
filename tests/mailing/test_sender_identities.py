"""Sender identities: usable only once their owner confirmed the address by link."""

import re

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from mailing import services
from mailing.models import SenderIdentity
from mailing.rendering import prepare_message
from mailing.senders import make_confirmation_token
from mailing.sending import pipeline
from tests.factories import (
    make_client,
    make_mailing,
    make_message,
    make_sender,
    make_user,
)

from .smtp_servers import RecordingHandler, smtp_server, smtp_settings

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://\S+/senders/confirm/[^/\s]+/")


def add_identity(client, owner, **fields) -> SenderIdentity:
    client.force_login(owner)
    data = {
        "from_name": "Anna's shop",
        "from_email": "news@shop.example",
        "reply_to": "help@shop.example",
        "postal_address": "1 Main St",
        **fields,
    }
    response = client.post(reverse("mailing_senderidentity:add"), data)
    assert response.status_code == 302, response.content[:2000]
    return SenderIdentity.objects.get(owner=owner, from_email=data["from_email"])


def confirmation_link(to: str) -> str:
    email = next(m for m in reversed(mail.outbox) if m.to == [to])
    return LINK.search(email.body).group(0)


def test_adding_an_identity_mails_a_link_to_its_address_and_it_starts_unusable(
    client, django_capture_on_commit_callbacks
):
    owner = make_user()
    with django_capture_on_commit_callbacks(execute=True):
        identity = add_identity(client, owner)

    assert identity.confirmed_at is None
    assert confirmation_link("news@shop.example").startswith("http://testserver/")
    assert not SenderIdentity.objects.usable_by(owner.pk).exists()


def test_the_owner_confirms_by_post_and_a_get_changes_nothing(
    client, django_capture_on_commit_callbacks
):
    owner = make_user()
    with django_capture_on_commit_callbacks(execute=True):
        identity = add_identity(client, owner)
    link = confirmation_link("news@shop.example")

    shown = client.get(link)
    identity.refresh_from_db()
    assert shown.status_code == 200 and identity.confirmed_at is None

    done = client.post(link)
    identity.refresh_from_db()
    assert done.status_code == 200 and identity.confirmed_at is not None


def test_another_account_cannot_confirm_someone_elses_identity(client):
    owner, intruder = make_user(), make_user()
    identity = make_sender(owner, confirmed=False)
    link = reverse("mailing:confirm_sender", args=[make_confirmation_token(identity)])
    client.force_login(intruder)

    response = client.post(link)

    identity.refresh_from_db()
    assert response.status_code == 400
    assert identity.confirmed_at is None


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    identity = make_sender(make_user(), confirmed=False)
    link = reverse("mailing:confirm_sender", args=[make_confirmation_token(identity)])

    response = client.post(link)

    identity.refresh_from_db()
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert identity.confirmed_at is None


@pytest.mark.parametrize("tamper", ["expired", "address changed", "forged"])
def test_dead_links_confirm_nothing(client, tamper):
    owner = make_user()
    identity = make_sender(owner, confirmed=False)
    token = make_confirmation_token(identity)
    if tamper == "address changed":
        identity.from_email = "other@shop.example"
        identity.save()
    if tamper == "forged":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    client.force_login(owner)
    travel = timezone.now() + timezone.timedelta(days=4 if tamper == "expired" else 0)

    with time_machine.travel(travel):
        response = client.post(reverse("mailing:confirm_sender", args=[token]))

    identity.refresh_from_db()
    assert response.status_code == 400
    assert identity.confirmed_at is None


def test_changing_the_address_drops_the_confirmation():
    identity = make_sender(make_user())

    identity.from_email = "new@shop.example"
    identity.save()

    identity.refresh_from_db()
    assert identity.confirmed_at is None


def test_the_message_form_offers_only_the_owners_confirmed_identities(client):
    owner, other = make_user(), make_user()
    mine = make_sender(owner)
    unconfirmed = make_sender(owner, confirmed=False)
    foreign = make_sender(other)
    message = make_message(owner)
    client.force_login(owner)
    url = reverse("mailing_message:edit", args=[message.pk])

    page = client.get(url).content.decode()
    choices = page[page.index('name="sender"') :].split("</select>", 1)[0]
    refused = {}
    for identity in (unconfirmed, foreign):
        response = client.post(
            url,
            {"subject": "S", "body": "B", "sender": identity.pk},
        )
        refused[identity.pk] = response.status_code
    message.refresh_from_db()

    assert f'value="{mine.pk}"' in choices
    assert f'value="{unconfirmed.pk}"' not in choices
    assert f'value="{foreign.pk}"' not in choices
    assert set(refused.values()) == {200}  # the form again, with its error
    assert message.sender_id is None


def test_the_model_refuses_an_unconfirmed_identity():
    owner = make_user()
    message = make_message(owner, sender=make_sender(owner, confirmed=False))

    with pytest.raises(ValidationError) as refused:
        message.full_clean()

    assert "sender" in refused.value.message_dict


def test_an_identity_unconfirmed_after_saving_is_never_sent_as():
    owner = make_user()
    identity = make_sender(owner, from_email="ceo@bank.example")
    message = make_message(owner, sender=identity)
    SenderIdentity.objects.filter(pk=identity.pk).update(confirmed_at=None)

    prepared = prepare_message(message)

    assert "ceo@bank.example" not in prepared.from_email
    assert prepared.from_email == "Vestnik <noreply@localhost>"


@override_settings(MAIL_POSTAL_ADDRESS="Vestnik, 1 Red Square")
def test_without_an_identity_the_site_address_and_postal_address_are_used():
    owner = make_user()

    prepared = prepare_message(make_message(owner))

    assert prepared.from_email == "Vestnik <noreply@localhost>"
    assert prepared.reply_to == ""
    assert "Vestnik, 1 Red Square" in prepared.html


def test_a_confirmed_identity_is_from_and_reply_to_on_the_wire():
    owner = make_user()
    identity = make_sender(
        owner,
        from_name="Лавка «Переплёт»",
        from_email="news@shop.example",
        reply_to="help@shop.example",
    )
    message = make_message(owner, sender=identity)
    mailing = make_mailing(owner, message=message, clients=[make_client(owner)])
    handler = RecordingHandler()

    with smtp_server(handler) as port, override_settings(**smtp_settings(port)):
        run = services.open_run(mailing, "manual", timezone.now())
        pipeline.send_run(run.pk)

    sent = handler.messages[0]
    assert sent["From"].addresses[0].addr_spec == "news@shop.example"
    assert sent["From"].addresses[0].display_name == "Лавка «Переплёт»"
    assert sent["Reply-To"].addresses[0].addr_spec == "help@shop.example"


@pytest.mark.parametrize("wire", [True, False], ids=["bytes", "django"])
def test_a_line_break_saved_past_the_form_never_starts_a_header(wire, monkeypatch):
    """Seen on the wire: a From name with CRLF (written by the ORM, not the form)
    went out raw, its second line a Bcc header of its own."""
    owner = make_user()
    identity = make_sender(owner, from_email="news@shop.example")
    SenderIdentity.objects.filter(pk=identity.pk).update(
        from_name="Shop\r\nBcc: evil@example.com"
    )
    message = make_message(owner, sender=identity)
    mailing = make_mailing(owner, message=message, clients=[make_client(owner)])
    if not wire:  # the general path, as for an email RunWire cannot write
        monkeypatch.setattr(pipeline.RunWire, "build", lambda *a, **k: None)
    handler = RecordingHandler()

    with smtp_server(handler) as port, override_settings(**smtp_settings(port)):
        pipeline.send_run(services.open_run(mailing, "manual", timezone.now()).pk)

    [(_recipients, data)] = handler.envelopes
    head = data.split(b"\r\n\r\n")[0]
    assert not re.search(rb"^Bcc:", head, re.MULTILINE | re.IGNORECASE)
    sent = handler.messages[0]
    assert sent["From"].addresses[0].display_name == "Shop Bcc: evil@example.com"
    assert sent["From"].addresses[0].addr_spec == "news@shop.example"


def test_a_confirmed_identity_is_from_and_reply_to_through_an_esp_backend():
    owner = make_user()
    identity = make_sender(owner, from_email="news@shop.example", reply_to="h@x.org")
    message = make_message(owner, sender=identity)
    mailing = make_mailing(owner, message=message, clients=[make_client(owner)])

    run = services.open_run(mailing, "manual", timezone.now())
    pipeline.send_run(run.pk)

    sent = mail.outbox[-1]
    assert "news@shop.example" in sent.from_email
    assert sent.reply_to == ["h@x.org"]
