"""The one MIME builder: a run's emails as bytes, the constant parts built once per run.

Every header a mailing email carries is written here (RunWire.build), and the
envelope sender is chosen here (envelope_sender) for every SMTP send.

Every email of a run has the same shape (text + HTML alternative, UTF-8, no
attachments) and mostly the same bytes: only the subject, To, the bodies, the
Message-ID and the unsubscribe headers change per recipient. Building an
EmailMessage and serialising it for each recipient cost more CPU than the SMTP
dialogue itself, so with Vestnik's SMTP backend a run writes each email directly
from pieces prepared here. Whatever does not fit the simple shape (a line over
998 bytes, an unusual address, a boundary clash) returns None and takes Django's
general path instead (`EmailMessage.message()`, the same headers given by
`mailing_headers`); test_mime.py parses both with the stdlib's email parser.
"""

import base64
import random
import time
from dataclasses import replace
from email import policy as email_policy
from email.parser import BytesParser
from email.utils import formataddr, formatdate, parseaddr

from django.conf import settings

from ..rendering import FieldLines, PreparedMessage, single_line
from .django_mail import encoded_address, encoded_header

MAX_LINE = 998  # RFC 5322, without CRLF
# Characters that need quoting or encoding in a display name or an address.
_SPECIALS = frozenset('()<>[]:;@\\,."\r\n\t')
_ADDRESS_UNSAFE = frozenset('()<>[]:;\\,"\r\n\t ')


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def _fits(body: bytes) -> bool:
    # max(map(len)) runs in C: a generator over the lines was ~9% of a build.
    return len(body) <= MAX_LINE or max(map(len, body.split(b"\r\n"))) <= MAX_LINE


def _part_fits(
    body: bytes, extent: tuple[int, int], lines: FieldLines, values: dict[str, str]
) -> bool:
    """_fits for a part filled from the run's template with `values`, without
    splitting it into lines (for a 4 kB HTML part that cost as much as filling it).

    A line of the email is text of one template line (no CRLF comes or goes
    where a value meets the template: every CR of the template is followed by
    its LF) with values inserted: at most the template's longest line plus all
    the values' bytes, which are the body's bytes beyond the template's; closer,
    at most each line's own text plus the values on it (FieldLines).
    """
    literal, longest = extent
    if longest + len(body) - literal <= MAX_LINE:
        return True
    return lines.longest(values) <= MAX_LINE or _fits(body)


def seven_bit(data: bytes) -> bytes:
    """The email with every 8bit text part re-encoded as quoted-printable, for a
    server that does not offer 8BITMIME (RFC 6152: 8bit data only where offered).
    Rare, so the stdlib's parser and generator do it."""
    message = BytesParser(policy=email_policy.SMTP).parsebytes(data)
    for part in message.walk():
        if part.get("Content-Transfer-Encoding", "").lower() == "8bit":
            text = part.get_content()
            subtype = part.get_content_subtype()
            part.set_content(text, subtype, charset="utf-8", cte="quoted-printable")
    return message.as_bytes()


def envelope_sender() -> str:
    """MAIL FROM for every mailing email: bounces go to the site's address, whoever
    the From is (README). The one place a return path (VERP) would be chosen."""
    return envelope_address(settings.DEFAULT_FROM_EMAIL)


def envelope_address(address: str) -> str:
    """The addr-spec of "Name <addr>", all that MAIL FROM and RCPT TO carry.

    A plain ASCII address needs no RFC 5322 parser (about a millisecond); anything
    else (an IDN, a quoted local part) takes Django's, which encodes it.
    """
    name, addr = parseaddr(address)
    if addr and plain_address(addr) and "\n" not in address:
        return addr
    return encoded_address(address)


def plain_address(address: str) -> bool:
    """An ASCII addr-spec that goes into RCPT TO and headers as it is."""
    return (
        address.isascii()
        and address.count("@") == 1
        and not _ADDRESS_UNSAFE.intersection(address)
    )


def encoded_word(text: str) -> str:
    """The name as one RFC 2047 base64 encoded-word, as Django's encoder writes it.

    Split words would be standard too, but Python's own address parser then reads
    a space between each pair; a name too long for a line falls back.
    """
    return "=?utf-8?b?" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?="


def to_header(full_name: str, email: str) -> str:
    """The To value: name as it is, quoted, or RFC 2047-encoded."""
    name = single_line(full_name)
    if not name:
        return email
    if name.isascii():
        if not _SPECIALS.intersection(name):
            return f"{name} <{email}>"
        return formataddr((name, email))  # quotes and escapes the specials
    return f"{encoded_word(name)} <{email}>"


def header_value(name: str, value: str) -> str:
    """Django's encoding for a header with non-ASCII text, folded with CRLF; a line
    break in the value never reaches the wire as one (it would start a header)."""
    if "\r" in value or "\n" in value:
        value = single_line(value)
    if value.isascii():
        return value
    return encoded_header(name, value).replace("\n", "\r\n")


def _part_head(subtype: str, transfer: str) -> bytes:
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        f"MIME-Version: 1.0\r\nContent-Transfer-Encoding: {transfer}\r\n\r\n"
    ).encode("ascii")


# Each part's head, written once: (7bit, 8bit), chosen by the part's bytes.
_PART_HEADS = {
    subtype: (_part_head(subtype, "7bit"), _part_head(subtype, "8bit"))
    for subtype in ("plain", "html")
}


def list_id(mailing: int | str, domain: str) -> str:
    """RFC 2919 List-Id: one list per mailing (SpamAssassin scores a
    List-Unsubscribe without it)."""
    return f"<mailing-{mailing}.{domain}>"


def mailing_headers(list_id: str, unsubscribe="", message_id="") -> dict[str, str]:
    """A mailing email's own headers, for every transport: written by RunWire,
    given to Django's EmailMessage, or to an ESP (an ESP batch gives the
    per-recipient ones, the unsubscribe link and our Message-ID, as merge_headers).

    List-Id goes on every one: SpamAssassin scores a List-Unsubscribe without it.
    The deterministic Message-ID makes a send repeated after a crash the same email.
    """
    headers = {"Message-ID": message_id} if message_id else {}
    if unsubscribe:
        headers["List-Unsubscribe"] = unsubscribe
    headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    headers["List-Id"] = list_id
    return headers


class RunWire:
    """Builds each recipient's email of one run as bytes, or None to fall back."""

    def __init__(self, prepared: PreparedMessage, from_email: str, reply_to=""):
        self.prepared = replace(
            prepared, text=_crlf(prepared.text), html=_crlf(prepared.html)
        )
        self.text_extent = self.prepared.literal_extent("text")
        self.html_extent = self.prepared.literal_extent("html")
        self.text_lines = self.prepared.field_lines("text")
        self.html_lines = self.prepared.field_lines("html")
        self.boundary = f"==============={random.randrange(10**18, 10**19)}=="  # noqa: S311
        self.marker = self.boundary.encode("ascii")
        self.from_header = header_value("From", from_email)
        self.reply_to = (
            f"Reply-To: {header_value('Reply-To', reply_to)}\r\n" if reply_to else ""
        )
        self.head = (
            f'Content-Type: multipart/alternative; boundary="{self.boundary}"\r\n'
            "MIME-Version: 1.0\r\n"
        )
        # A subject without placeholders is encoded once for the whole run.
        if "{" not in prepared.subject:
            self.subject = self._subject(prepared.subject)
        else:
            self.subject = None
        self._second, self._date = 0, ""

    @staticmethod
    def _subject(text: str) -> str:
        return header_value("Subject", single_line(text))

    def date(self) -> str:
        now = int(time.time())
        if now != self._second:
            self._second = now
            self._date = formatdate(now, localtime=settings.EMAIL_USE_LOCALTIME)
        return self._date

    def build(
        self,
        full_name: str,
        email: str,
        unsubscribe_url: str,
        headers: dict[str, str],
        web_version_url: str = "",
        tracking: str = "",
        attributes: dict | None = None,
        list_url: str = "",
    ) -> bytes | None:
        """The whole email; `headers` from mailing_headers."""
        if not plain_address(email):
            return None
        if "\r" in full_name or "\n" in full_name:
            full_name = single_line(full_name)
        prepared = self.prepared
        links = (full_name, email, unsubscribe_url, web_version_url)
        text_values = prepared.text_values(*links, attributes, list_url)
        html_values = prepared.html_values(*links, tracking, attributes, list_url)
        text = prepared.filled("text", text_values).encode()
        html = prepared.filled("html", html_values).encode()
        if self.marker in text or self.marker in html:
            return None
        if not (
            _part_fits(text, self.text_extent, self.text_lines, text_values)
            and _part_fits(html, self.html_extent, self.html_lines, html_values)
        ):
            return None  # needs quoted-printable: Django's generator does that
        subject = self.subject
        if subject is None:
            subject = self._subject(
                prepared.subject_for(full_name, email, unsubscribe_url, attributes)
            )
        head = (
            f"{self.head}Subject: {subject}\r\nFrom: {self.from_header}\r\n"
            f"To: {to_header(full_name, email)}\r\nDate: {self.date()}\r\n"
            f"{self.reply_to}"
        )
        for name, value in headers.items():
            head += f"{name}: {header_value(name, value)}\r\n"
        if not head.isascii():
            return None
        head_bytes = head.encode("ascii")
        if not _fits(head_bytes):
            return None
        marker = self.marker
        plain_heads, html_heads = _PART_HEADS["plain"], _PART_HEADS["html"]
        return b"".join(
            (
                head_bytes,
                b"\r\n--",
                marker,
                b"\r\n",
                plain_heads[not text.isascii()],
                text,
                b"\r\n--",
                marker,
                b"\r\n",
                html_heads[not html.isascii()],
                html,
                b"\r\n--",
                marker,
                b"--\r\n",
            )
        )
