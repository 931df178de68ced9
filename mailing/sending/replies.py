"""An SMTP server's pipelined replies read in one go, split here (RFC 2920).

smtplib's getreply() reads one line per call and its caller asks once per reply:
four or five calls per pipelined email, each with its own readline, checks and
join, about a tenth of the consumer's time holding the GIL (py-spy, issue 13).
ReplyReader takes whatever the connection has received at once and splits it into
replies, in order (RFC 2920 3.1: replies come in the order of the commands); a
multi-line reply ("250-..." lines, then "250 ...") is one reply, as getreply()
makes it.

This module holds the one reliance on smtplib's insides: smtplib reads replies
from `smtp.file`, a buffered reader it makes from `smtp.sock` on its first read
(and drops on STARTTLS and close). Reading from that same reader takes bytes
smtplib has already buffered too; bytes read here are never read by smtplib. What
getreply() does with odd lines (a code that is no number, a line too long, a
closed connection) is mirrored to the word. tests/mailing/test_smtp_replies.py
fails when either changes upstream.
"""

import smtplib
from collections import deque

# smtplib's own bound on a reply line (smtplib._MAXLINE), with its CRLF.
MAX_LINE = 8192
# What one read may take: a whole group's replies (about 40 bytes per reply).
READ_SIZE = 65536


class ReplyReader:
    """The replies on one connection, one at a time, as getreply() gives them;
    each 4xx or 5xx counted in `smtp.errors` (sending.smtp.Connection's count)."""

    __slots__ = ("smtp", "replies", "partial", "lines")

    def __init__(self, smtp: smtplib.SMTP):
        self.smtp = smtp
        self.replies: deque[tuple[int, bytes]] = deque()
        self.partial = b""  # the start of a line not yet received whole
        self.lines: list[bytes] = []  # the texts of a multi-line reply so far

    def reply(self) -> tuple[int, bytes]:
        while not self.replies:
            self._split(self._receive())
        code, text = self.replies.popleft()
        if code >= 400:
            self.smtp.errors = getattr(self.smtp, "errors", 0) + 1
        return code, text

    def left_over(self) -> bool:
        """Whether bytes were read that no reply() asked for: smtplib would never
        see them, and its next reply would be the wrong one."""
        return bool(self.replies or self.partial or self.lines)

    def _receive(self) -> bytes:
        smtp = self.smtp
        if smtp.file is None:
            smtp.file = smtp.sock.makefile("rb")  # as getreply() makes it
        try:
            chunk = smtp.file.read1(READ_SIZE)
        except OSError as exc:
            smtp.close()
            raise smtplib.SMTPServerDisconnected(
                "Connection unexpectedly closed: " + str(exc)
            ) from exc
        if not chunk:
            smtp.close()
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return chunk

    def _split(self, chunk: bytes) -> None:
        lines = (self.partial + chunk).split(b"\n")
        self.partial = lines.pop()
        if len(self.partial) >= MAX_LINE:
            self._too_long()
        for line in lines:
            if len(line) >= MAX_LINE:
                self._too_long()
            text = line[4:].strip(b" \t\r\n")
            try:
                code = int(line[:3])
            except ValueError:
                code = -1  # getreply() ends the reply at a broken code
            else:
                if line[3:4] == b"-":
                    self.lines.append(text)
                    continue
            if self.lines:  # the last line of a multi-line reply
                self.lines.append(text)
                text, self.lines = b"\n".join(self.lines), []
            self.replies.append((code, text))

    def _too_long(self) -> None:
        self.smtp.close()
        raise smtplib.SMTPResponseException(500, "Line too long.")
