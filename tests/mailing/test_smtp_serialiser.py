"""Vestnik's quick serialiser writes what Django's email generator would."""

import email
from email import policy

from anymail.message import AnymailMessage
from django.core.mail import EmailMessage

from mailing.smtp import serialise


def mailing_email(body="Привет, Анна!\nВторая строка.", html="<p>Привет</p>"):
    message = AnymailMessage(
        subject="Новости для Анны Петровой " * 4,
        body=body,
        from_email="Вестник <noreply@example.com>",
        to=['"Петрова, Анна" <anna@example.org>'],
        headers={
            "Message-ID": "<attempt.1.run.2@example.com>",
            "List-Unsubscribe": "<https://example.com/unsubscribe/" + "x" * 150 + "/>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def parsed(data: bytes):
    return email.message_from_bytes(data, policy=policy.default)


def test_the_quick_bytes_read_back_like_djangos():
    message = mailing_email()
    quick = parsed(serialise(message))
    django = parsed(message.message().as_bytes(linesep="\r\n"))

    for name in (
        "Subject",
        "From",
        "To",
        "Message-ID",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
        "MIME-Version",
    ):
        # Django's refolding of a pre-encoded Subject adds a leading space.
        assert str(quick[name]).strip() == str(django[name]).strip(), name
    assert quick.get_content_type() == django.get_content_type()
    for kind in ("plain", "html"):
        ours, theirs = quick.get_body((kind,)), django.get_body((kind,))
        assert ours.get_content() == theirs.get_content()
        assert ours["Content-Transfer-Encoding"] == theirs["Content-Transfer-Encoding"]
    assert not quick.defects and not django.defects


def test_every_line_ends_in_crlf_and_fits_the_limit():
    data = serialise(mailing_email(body="a\nb\r\nc\rd"))

    assert b"\n" not in data.replace(b"\r\n", b"")
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))


def test_other_shapes_fall_back_to_the_stdlib():
    assert serialise(mailing_email(body="x" * 1200)) is None  # needs quoted-printable
    plain = EmailMessage("s", "b", "a@example.com", ["b@example.com"])
    assert serialise(plain) is None
    with_file = mailing_email()
    with_file.attach("a.txt", "data", "text/plain")
    assert serialise(with_file) is None
