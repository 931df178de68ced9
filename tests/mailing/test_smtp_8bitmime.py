"""8bit emails (Cyrillic text) are declared with BODY=8BITMIME where the server
offers it, and go as 7bit (quoted-printable) to one that does not (RFC 6152)."""

import pytest
from django.test import override_settings

from tests.factories import make_client, make_mailing, make_message, make_user

from .smtp_servers import RecordingHandler, smtp_server, smtp_settings
from .test_smtp_transport import send

BODY = "Здравствуйте, {{ full_name }}! Новости месяца."


def cyrillic_mailing(emails: list[str]):
    owner = make_user()
    clients = [make_client(owner, email=e, full_name="Анна") for e in emails]
    return make_mailing(owner, clients=clients, message=make_message(owner, body=BODY))


class OptionsHandler(RecordingHandler):
    """Records each email's MAIL options; offers 8BITMIME and PIPELINING or not."""

    def __init__(self, offer_8bit: bool, pipelining: bool):
        super().__init__()
        self.offer_8bit, self.pipelining = offer_8bit, pipelining
        self.options = []

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if not self.offer_8bit:
            responses = [r for r in responses if "8BITMIME" not in r]
        if self.pipelining:
            responses = [*responses[:-1], "250-PIPELINING", responses[-1]]
        return responses

    async def handle_DATA(self, server, session, envelope):
        self.options.append([o.upper() for o in envelope.mail_options])
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.django_db
@pytest.mark.parametrize("offer_8bit", [True, False], ids=["8bitmime", "7bit-only"])
def test_8bit_emails_are_declared_or_made_7bit(offer_8bit, pipelining):
    handler = OptionsHandler(offer_8bit, pipelining)
    emails = ["a@example.org", "b@example.org"]
    with smtp_server(handler, pipelining=False) as port:
        with override_settings(**smtp_settings(port)):
            run = send(cyrillic_mailing(emails))

    assert run.sent_count == 2
    for options, (_to, content), message in zip(
        handler.options, handler.envelopes, handler.messages, strict=True
    ):
        assert ("BODY=8BITMIME" in options) is offer_8bit
        assert content.isascii() is not offer_8bit
        text = message.get_body(("plain",))
        assert "Здравствуйте, Анна! Новости месяца." in text.get_content()
        if not offer_8bit:
            assert text["Content-Transfer-Encoding"] == "quoted-printable"
