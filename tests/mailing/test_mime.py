"""Emails written straight to bytes by the one MIME builder (mailing.sending.mime)
parse like Django's own."""

import email
import time
from email import policy

import pytest
from django.core import signing

from mailing.rendering import PreparedMessage
from mailing.sending import mime
from mailing.sending.mime import RunWire, mailing_headers, to_header
from mailing.unsubscribe import SALT, TokenMaker, read_token

URL = "https://vestnik.example/unsubscribe/tok/"
EXTRA = mailing_headers(
    "<mailing-3.example.com>",
    f"<{URL}>, <mailto:unsubscribe@example.com?subject=u>",
    "<attempt.7.run.3@example.com>",
)


TEXT = "Здравствуйте, {{ full_name }}!\nАдрес: {{ email }}\r\n{{ unsubscribe_url }}"


def wire(subject="Новости для {{ full_name }}", text=None, html=None, sender=None):
    prepared = PreparedMessage(
        subject,
        text or TEXT,
        html or "<p>Привет, {{ full_name }} &amp; {braces}</p>",
    )
    return RunWire(prepared, sender or "Вестник <noreply@example.com>")


def parsed(data: bytes):
    return email.message_from_bytes(data, policy=policy.default)


@pytest.mark.smoke
@pytest.mark.parametrize(
    "name",
    [
        "Reader 5",
        ("Анна Петровна Длинная-Фамилия " * 3).strip(),
        'O"Brien, Jr.',
        "Ann\r\nBcc: x",
    ],
)
def test_each_email_parses_with_both_parts_and_the_right_headers(name):
    data = wire().build(name, "anna@example.org", URL, EXTRA)
    message = parsed(data)
    flat = " ".join(name.split())

    assert not message.defects
    assert message["Subject"] == f"Новости для {flat}"
    assert message["To"].addresses[0].display_name == flat
    assert message["To"].addresses[0].addr_spec == "anna@example.org"
    assert message["Bcc"] is None
    assert message["From"].addresses[0].display_name == "Вестник"
    assert message["Message-ID"] == "<attempt.7.run.3@example.com>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"] == "<mailing-3.example.com>"
    assert message["List-Unsubscribe"].startswith(f"<{URL}>")
    assert message["Date"].datetime is not None
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert text.replace("\r\n", "\n") == (
        f"Здравствуйте, {flat}!\nАдрес: anna@example.org\n{URL}"
    )
    escaped = flat.replace("&", "&amp;").replace('"', "&quot;")
    assert f"<p>Привет, {escaped} &amp; {{braces}}</p>" in html
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))


def test_odd_shapes_fall_back_to_djangos_generator():
    assert wire(text="x" * 1200).build("A", "a@example.org", URL, EXTRA) is None
    assert wire().build("A", "a b@example.org", URL, EXTRA) is None
    assert wire().build("A", "анна@пример.рф", URL, EXTRA) is None
    assert wire().build("Ж" * 800, "a@example.org", URL, EXTRA) is None  # 998
    run = wire()
    clash = run.boundary + " in the body"
    assert run.build(clash, "a@example.org", URL, EXTRA) is None


def test_line_lengths_are_bounded_per_template_line():
    """FieldLines: each line's own bytes plus the values on it, exactly the
    longest line of the filled part when values have no line breaks."""
    html = "<p>" + "a" * 600 + "</p>\r\n<p>{{ full_name }} {{ email }}</p>\r\n" * 3
    prepared = PreparedMessage("S", "T", html)
    lines = prepared.field_lines("html")
    values = prepared.html_values("Ж" * 100, "a@example.org", URL)
    filled = prepared.filled("html", values).encode()

    assert lines.longest_fixed == len("<p>" + "a" * 600 + "</p>")
    assert lines.longest(values) == max(map(len, filled.split(b"\r\n")))
    assert filled == prepared.html_for("Ж" * 100, "a@example.org", URL).encode()


def test_a_long_part_is_not_split_into_lines_when_its_lines_fit(monkeypatch):
    """Long template lines and a long part: the per-line bound decides without
    splitting the part (a sixth of a build); a line over 998 bytes still falls
    back."""
    html = ("<p>" + "a" * 900 + "</p>\r\n<p>{{ full_name }}</p>\r\n") * 4
    run = wire(html=html)

    fits = mime._fits

    def split_lines(body):
        assert len(body) < 3000, "the HTML part was split into lines"
        return fits(body)  # the head's few lines

    monkeypatch.setattr(mime, "_fits", split_lines)
    assert run.build("Reader " * 20, "a@example.org", URL, EXTRA) is not None
    monkeypatch.undo()
    assert run.build("Ж" * 500, "a@example.org", URL, EXTRA) is None


def test_to_header_encodes_only_what_needs_it():
    assert to_header("Ё", "a@example.org") == "=?utf-8?b?0IE=?= <a@example.org>"
    assert to_header("Ann", "a@example.org") == "Ann <a@example.org>"
    assert to_header("", "a@example.org") == "a@example.org"


def test_token_maker_makes_djangos_tokens():
    make = TokenMaker()
    token = make(12345)

    assert token == signing.dumps(12345, salt=SALT, compress=False) or (
        int(time.time()) != make._second  # the second turned between the two
    )
    assert read_token(token) == 12345
    assert read_token(make(12346)) == 12346
    assert read_token(token.replace("MTIzNDU", "MTIzNDY")) is None


@pytest.mark.parametrize("value", [[7, 12345], [12345, [3, 40]], [], 0, "x"])
def test_token_maker_writes_lists_as_djangos_json(value):
    """Web version and list tokens sign lists (a run and a client, a client and
    its lists): the same bytes Django's signing writes, and read back."""
    make = TokenMaker("some.salt")
    token = make(value)

    assert token == signing.dumps(value, salt="some.salt", compress=False) or (
        int(time.time()) != make._second
    )
    assert signing.loads(token, salt="some.salt") == value
