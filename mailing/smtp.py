"""Vestnik's SMTP backend: Django's, plus the server's reply and a quick serialiser.

- The reply to DATA ("250 2.0.0 Ok: queued as ...") is kept on the connection, so
  a successful Attempt records the server's own words, like a failed one.
- Serialising with the stdlib's email generator costs more than the SMTP dialogue
  itself (header folding, per-part generators). Mailings are always the same
  shape (text + HTML alternative, UTF-8, no attachments), so that shape is written
  directly; headers are still encoded by Django's own `forbid_multi_line_headers`.
  Anything else falls back to Django's `message().as_bytes()`.
"""

import functools
import random
import smtplib
import ssl
from email.utils import formatdate, make_msgid, parseaddr

from django.conf import settings
from django.core.mail.backends import smtp
from django.core.mail.message import (
    EmailMultiAlternatives,
    forbid_multi_line_headers,
    sanitize_address,
)
from django.utils.functional import cached_property

from .pipelining import Result, send_pipelined, senders_of
from .wire import plain_address

MAX_LINE = 998  # RFC 5322 line length limit, without CRLF


class ReplyRecordingMixin:
    last_reply = ""

    def data(self, msg):
        code, response = super().data(msg)
        self.last_reply = f"{code} {response.decode('utf-8', 'replace')}"
        return code, response

    # smtplib runs every envelope address through the RFC 5322 parser (quoteaddr),
    # a fifth of a mailing email's CPU; a plain addr-spec needs only the brackets.
    def mail(self, sender, options=()):
        if not plain_address(sender) or any(o.lower() == "smtputf8" for o in options):
            return super().mail(sender, options)
        optionlist = " " + " ".join(options) if options and self.does_esmtp else ""
        self.putcmd("mail", f"FROM:<{sender}>{optionlist}")
        return self.getreply()

    def rcpt(self, recip, options=()):
        if not plain_address(recip):
            return super().rcpt(recip, options)
        optionlist = " " + " ".join(options) if options and self.does_esmtp else ""
        self.putcmd("rcpt", f"TO:<{recip}>{optionlist}")
        return self.getreply()


class RecordingSMTP(ReplyRecordingMixin, smtplib.SMTP):
    pass


class RecordingSMTPSSL(ReplyRecordingMixin, smtplib.SMTP_SSL):
    pass


class EmailBackend(smtp.EmailBackend):
    @cached_property
    def connection_class(self):
        smtp_class = RecordingSMTPSSL if self.use_ssl else RecordingSMTP
        helo_name = getattr(settings, "EMAIL_HELO_NAME", "")
        if not helo_name:
            return smtp_class

        def connect(host, port, **params):
            # EMAIL_HELO_NAME, not the machine's FQDN (a container id, say).
            return smtp_class(host, port, **{**params, "local_hostname": helo_name})

        return connect

    @cached_property
    def ssl_context(self):
        """The system's CAs (or EMAIL_SSL_CAFILE), plus a client certificate if set.

        Django's own context with a client certificate loads no CA at all, so the
        relay's certificate could never be verified.
        """
        cafile = getattr(settings, "EMAIL_SSL_CAFILE", None)
        context = ssl.create_default_context(cafile=cafile)
        if self.ssl_certfile or self.ssl_keyfile:
            context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile)
        return context

    def send_data(self, envelope_from: str, recipients: list[str], data: bytes) -> bool:
        """Send an email already written as bytes (mailing.wire), like _send would.

        The caller has opened the connection (delivery.deliver does); the lock is
        send_messages' own, so both may be used on one backend.
        """
        with self._lock:
            if self.open() is None or not self.connection:
                return False  # failed silently on open()
            return self._sendmail(envelope_from, recipients, data)

    def send_prepared(
        self, envelope_from: str | list[str], emails: list[tuple[str, bytes]]
    ) -> list[Result] | None:
        """Pipeline (recipient, data) pairs (mailing.pipelining) on the open connection.

        `envelope_from`: one sender for all, or one per email (VERP return paths).

        None when the server does not advertise PIPELINING or an address is not a
        plain addr-spec: the caller then sends each email with send_data().
        """
        with self._lock:
            smtp = self.connection
            smtp.ehlo_or_helo_if_needed()
            if not (
                smtp.has_extn("pipelining")
                and all(map(plain_address, senders_of(envelope_from, len(emails))))
                and all(plain_address(recipient) for recipient, _ in emails)
            ):
                return None
            return send_pipelined(smtp, envelope_from, emails)

    def _send(self, email_message):
        if not email_message.recipients():
            return False
        encoding = email_message.encoding or settings.DEFAULT_CHARSET
        # The envelope sender a run chose (mailing.return_path), else the From.
        sender = getattr(email_message, "envelope_sender", None)
        from_email = _sanitised(sender or email_message.from_email, encoding)
        recipients = [envelope_address(a, encoding) for a in email_message.recipients()]
        data = serialise(email_message)
        if data is None:
            data = email_message.message().as_bytes(linesep="\r\n")
        return self._sendmail(from_email, recipients, data)

    def _sendmail(self, envelope_from: str, recipients: list[str], data: bytes) -> bool:
        try:
            self.connection.sendmail(envelope_from, recipients, data)
        except smtplib.SMTPException:
            if not self.fail_silently:
                raise
            return False
        return True


# The sender is the same for every email of a run: parse it once.
_sanitised = functools.lru_cache(maxsize=64)(sanitize_address)


def envelope_address(address: str, encoding: str) -> str:
    """The addr-spec for RCPT TO: all smtplib keeps of a "Name <addr>" anyway.

    Django's sanitize_address runs the full RFC 5322 parser (about a millisecond);
    a plain ASCII address needs none of it. Anything else takes Django's path.
    """
    name, addr = parseaddr(address)
    if addr and addr.isascii() and "@" in addr and "\n" not in address:
        return addr
    return sanitize_address(address, encoding)


def _lines(text: str) -> list[bytes] | None:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    encoded = [line.encode("utf-8") for line in lines]
    if any(len(line) > MAX_LINE for line in encoded):
        return None  # needs quoted-printable: leave it to the stdlib
    return encoded


def _part(subtype: str, text: str) -> bytes | None:
    lines = _lines(text)
    if lines is None:
        return None
    body = b"\r\n".join(lines)
    transfer = "7bit" if body.isascii() else "8bit"
    head = (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        f"MIME-Version: 1.0\r\nContent-Transfer-Encoding: {transfer}\r\n\r\n"
    )
    return head.encode("ascii") + body


def _fits_fast_path(message) -> bool:
    return (
        type(message) in (EmailMultiAlternatives,) + _anymail_types()
        and not message.attachments
        and not message.cc
        and not message.reply_to
        and message.content_subtype == "plain"
        and (message.encoding or settings.DEFAULT_CHARSET).lower() == "utf-8"
        and len(message.alternatives) == 1
        and message.alternatives[0][1] == "text/html"
        and isinstance(message.alternatives[0][0], str)
    )


def _anymail_types() -> tuple:
    from anymail.message import AnymailMessage

    return (AnymailMessage,)


def _headers(message, boundary: str) -> list[tuple[str, str]]:
    headers = [
        ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
        ("MIME-Version", "1.0"),
        ("Subject", message.subject),
        ("From", message.extra_headers.get("From", message.from_email)),
        ("To", ", ".join(str(address) for address in message.to)),
    ]
    names = {name.lower() for name in message.extra_headers}
    if "date" not in names:
        headers.append(("Date", formatdate(localtime=settings.EMAIL_USE_LOCALTIME)))
    if "message-id" not in names:
        headers.append(("Message-ID", make_msgid(domain=smtp.DNS_NAME)))
    headers.extend(
        (name, value)
        for name, value in message.extra_headers.items()
        if name.lower() not in {"from", "to", "cc", "reply-to"}
    )
    return [forbid_multi_line_headers(name, value, "utf-8") for name, value in headers]


def serialise(message) -> bytes | None:
    """The email as bytes for the common shape, or None to use the stdlib."""
    if not _fits_fast_path(message):
        return None
    text = _part("plain", message.body)
    html = _part("html", message.alternatives[0][0])
    if text is None or html is None:
        return None
    boundary = f"==============={random.randrange(10**18, 10**19)}=="  # noqa: S311
    marker = boundary.encode("ascii")
    if marker in text or marker in html:
        return None
    head = "".join(
        f"{name}: {value.replace(chr(10), chr(13) + chr(10))}\r\n"
        for name, value in _headers(message, boundary)
    )
    if not head.isascii() or any(len(line) > MAX_LINE for line in head.split("\r\n")):
        return None
    return (
        head.encode("ascii")
        + b"\r\n--"
        + marker
        + b"\r\n"
        + text
        + b"\r\n--"
        + marker
        + b"\r\n"
        + html
        + b"\r\n--"
        + marker
        + b"--\r\n"
    )
