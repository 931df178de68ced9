"""Vestnik's SMTP transport: an email backend written on smtplib's documented API.

Why not a subclass of Django's smtp.EmailBackend: sending bytes already written
(mime.RunWire), pipelining them and reading the server's reply all need the open
smtplib connection and the backend's lock, which Django keeps private (`_send`,
`_lock`). Owning the few lines of connect, STARTTLS, AUTH and QUIT costs less than
depending on those, and lets the connection count the server's errors:

- PIPELINING where offered (sending.pipelining), one round trip per email;
- BODY=8BITMIME for 8bit emails where offered; elsewhere they go as 7bit;
- STARTTLS (EMAIL_USE_TLS) or implicit TLS (EMAIL_USE_SSL), certificates checked
  against the system's CAs or EMAIL_SSL_CAFILE, a client certificate if set;
- the connection stays open after a refused recipient (smtplib sends RSET);
- an error budget: servers slow down and then drop a client after so many errors
  (Postfix: smtpd_soft_error_limit 10, then a second's sleep per reply, and 421
  at smtpd_hard_error_limit 20). Pipelined, a refused recipient costs two errors
  (RCPT, then DATA's 554), so the connection is closed politely and reopened
  before the soft limit (EMAIL_ERROR_BUDGET);
- the reply to DATA is kept, so a sent Attempt records the server's own words.

Any other email (sign-up, password reset) goes through send_messages() as
Django's EmailMessage.message() writes it.
"""

import smtplib
import ssl
import threading

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

from .mime import envelope_address, plain_address, seven_bit
from .pipelining import Result, send_pipelined, within_budget


class Connection(smtplib.SMTP):
    """smtplib.SMTP that keeps the last reply to DATA and counts error replies."""

    last_reply = ""
    errors = 0  # 4xx and 5xx replies on this connection

    def getreply(self):
        code, message = super().getreply()
        if code >= 400:
            self.errors += 1
        return code, message

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


class ConnectionSSL(Connection, smtplib.SMTP_SSL):
    pass


class EmailBackend(BaseEmailBackend):
    # mime.RunWire may hand this backend emails already written as bytes.
    accepts_bytes = True

    def __init__(self, fail_silently=False, **kwargs):
        super().__init__(fail_silently=fail_silently)
        self.host = kwargs.get("host") or settings.EMAIL_HOST
        self.port = kwargs.get("port") or settings.EMAIL_PORT
        self.username = kwargs.get("username", settings.EMAIL_HOST_USER)
        self.password = kwargs.get("password", settings.EMAIL_HOST_PASSWORD)
        self.use_tls = kwargs.get("use_tls", settings.EMAIL_USE_TLS)
        self.use_ssl = kwargs.get("use_ssl", settings.EMAIL_USE_SSL)
        self.timeout = kwargs.get("timeout", settings.EMAIL_TIMEOUT)
        self.certfile = kwargs.get("ssl_certfile", settings.EMAIL_SSL_CERTFILE)
        self.keyfile = kwargs.get("ssl_keyfile", settings.EMAIL_SSL_KEYFILE)
        if self.use_ssl and self.use_tls:
            raise ValueError("EMAIL_USE_TLS/EMAIL_USE_SSL are mutually exclusive.")
        self.connection: Connection | None = None
        self.last_reply = ""  # the server's reply to the last email's DATA
        self._lock = threading.RLock()

    def ssl_context(self) -> ssl.SSLContext:
        """The system's CAs (or EMAIL_SSL_CAFILE), plus a client certificate if set."""
        context = ssl.create_default_context(cafile=settings.EMAIL_SSL_CAFILE)
        if self.certfile or self.keyfile:
            context.load_cert_chain(self.certfile, self.keyfile)
        return context

    def open(self) -> bool | None:
        """True when a new connection was opened, False when one is open already,
        None when opening failed silently (as Django's backends answer)."""
        if self.connection is not None:
            return False
        # EMAIL_HELO_NAME, not the machine's FQDN (a container id, say).
        params = {"local_hostname": settings.EMAIL_HELO_NAME or None}
        if self.timeout is not None:
            params["timeout"] = self.timeout
        try:
            if self.use_ssl:
                smtp = ConnectionSSL(
                    self.host, self.port, context=self.ssl_context(), **params
                )
            else:
                smtp = Connection(self.host, self.port, **params)
            self.connection = smtp
            if self.use_tls:
                smtp.starttls(context=self.ssl_context())
            if self.username and self.password:
                smtp.login(self.username, self.password)
        except OSError:  # every smtplib.SMTPException is one
            self.drop()
            if not self.fail_silently:
                raise
            return None
        return True

    def close(self) -> None:
        """QUIT, or just the socket when the server is gone."""
        smtp, self.connection = self.connection, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except OSError:  # gone already (smtplib's errors are OSErrors): the mail
            smtp.close()  # was sent or refused before; only the goodbye is lost

    def drop(self) -> None:
        """Forget the connection without a QUIT to a server that may hang."""
        smtp, self.connection = self.connection, None
        if smtp is not None:
            smtp.close()

    def send_messages(self, email_messages) -> int:
        if not email_messages:
            return 0
        with self._lock:
            opened = self.open()
            if self.connection is None:
                return 0  # failed silently on open()
            try:
                return sum(self._send_message(message) for message in email_messages)
            finally:
                if opened:
                    self.close()

    def _send_message(self, message) -> int:
        recipients = message.recipients()
        if not recipients:
            return 0
        # The envelope sender a run chose (mailing.return_path), else the From
        # (Anymail's messages carry a non-string UNSET marker when none is set).
        chosen = getattr(message, "envelope_sender", None)
        sender = envelope_address(
            chosen if isinstance(chosen, str) else message.from_email
        )
        data = message.message().as_bytes(linesep="\r\n")
        to = [envelope_address(address) for address in recipients]
        return int(self.send_data(sender, to, data))

    def send_data(self, envelope_from: str, recipients: list[str], data: bytes) -> bool:
        """Send an email written as bytes on the open connection; the server's
        reply is kept in `last_reply`."""
        with self._lock:
            smtp = self.connection
            try:
                data, options = self._body(data)
                smtp.sendmail(envelope_from, recipients, data, mail_options=options)
                self.last_reply = smtp.last_reply
            except smtplib.SMTPException:
                if not self.fail_silently:
                    raise
                return False
            finally:
                self.spend_error_budget()
            return True

    def send_prepared(
        self, emails: list[tuple[str, str, bytes]]
    ) -> list[Result] | None:
        """Pipeline (envelope sender, recipient, data) triples (sending.pipelining)
        on the open connection, up to what the error budget allows. Every address
        is a plain addr-spec (mime.plain_address); a sender per email allows VERP
        return paths.

        None when the server does not advertise PIPELINING: the caller then sends
        each email with send_data(). The list is shorter than `emails` when the
        connection had to go: the caller reopens it for the rest.
        """
        with self._lock:
            smtp = self.connection
            smtp.ehlo_or_helo_if_needed()
            if not smtp.has_extn("pipelining"):
                return None
            bodies = ((sender, to, self._body(data)[0]) for sender, to, data in emails)
            results = send_pipelined(smtp, bodies, settings.EMAIL_ERROR_BUDGET)
            self.spend_error_budget()
            return results

    def _body(self, data: bytes) -> tuple[bytes, list[str]]:
        """(data, MAIL options): 8bit data declared as BODY=8BITMIME where the
        server offers it, else re-encoded as 7bit (RFC 6152)."""
        if data.isascii():
            return data, []
        smtp = self.connection
        smtp.ehlo_or_helo_if_needed()
        if smtp.has_extn("8bitmime"):
            return data, ["BODY=8BITMIME"]
        return seven_bit(data), []

    def spend_error_budget(self) -> None:
        """Reconnect before the server counts enough errors to slow down or drop
        us: a new connection starts its count at zero."""
        smtp = self.connection
        if smtp is None or smtp.sock is None:
            self.connection = None
        elif not within_budget(smtp, settings.EMAIL_ERROR_BUDGET):
            self.close()
