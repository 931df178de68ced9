"""SMTP PIPELINING (RFC 2920) for a run's emails written as bytes (sending.mime).

smtplib has no pipelining: sendmail() waits for the server after MAIL, after RCPT,
after DATA and after the message, four round trips per email, and each wait is also
a GIL hand-off between the sending threads. When the server advertises PIPELINING,
one write here carries an email's message together with the next email's MAIL, RCPT
and DATA (RFC 2920 3.1: message content may open a group, DATA must close it), and
the replies are then read in order: one round trip per email.

Replies are read as they arrive, several at once (sending.replies, as smtplib's
getreply() reads them), and a refusal becomes the exception sendmail() raises for
the same reply (SMTPSenderRefused, SMTPRecipientsRefused, SMTPDataError), so
policy.describe_failure classifies it exactly as before: 4xx transient, 5xx
permanent, per recipient.

Each write is one bytes join of the message and the next envelope: the 6.7 kB
message is copied once on its way to the socket.
"""

import re
import smtplib
from collections.abc import Iterable

from .replies import ReplyReader

# A line that starts with ".": searched for with a regex, which finds each "\n"
# with memchr; `b"\n." in data` took twice as long over a 6.7 kB email.
_DOT_LINE = re.compile(rb"\n\.")

# The most error replies one more email can draw, pipelined: the previous
# message's, then MAIL, RCPT and DATA (503s after a refused MAIL).
ERRORS_PER_EMAIL = 4

_NOTHING: tuple[bytes, ...] = ()
_EMPTY_MESSAGE = (b".\r\n",)

# What send_pipelined gives for each email: the server's final reply ("250 ...")
# or the exception smtplib.sendmail would have raised.
Result = str | Exception


def message_parts(data: bytes) -> tuple[bytes, bytes]:
    """The message as smtplib.data() writes it, in two pieces for one join:
    dot-stuffed (a "." at the start of a line doubled, as its (?m)^\\. does),
    then CRLF if the data lacks it and the "." line."""
    if _DOT_LINE.search(data):
        data = data.replace(b"\n.", b"\n..")
    if data.startswith(b"."):
        data = b"." + data
    return data, (b".\r\n" if data.endswith(b"\r\n") else b"\r\n.\r\n")


def _text(code: int, message: bytes) -> str:
    return f"{code} {message.decode('utf-8', 'replace')}"


class _Closing(Exception):
    """The server answered 421: it closes the connection after this reply."""


def within_budget(smtp: smtplib.SMTP, budget: int | None) -> bool:
    """Whether one more email cannot take the connection's error replies (counted
    by sending.smtp.Connection) past `budget`, the server's soft limit."""
    errors = getattr(smtp, "errors", 0)
    return budget is None or errors + ERRORS_PER_EMAIL <= budget


def send_pipelined(
    smtp: smtplib.SMTP,
    emails: Iterable[tuple[str, str, bytes]],
    error_budget: int | None = None,
) -> list[Result]:
    """Send (envelope sender, recipient, data) triples; one result per email, in
    order.

    Addresses are plain addr-specs (mime.plain_address). The list is shorter than
    the emails taken from `emails` when the connection broke
    or the server answered 421: the last results are then the emails that were in
    flight, and the caller reopens the connection for the rest (from the first
    email taken without a result). The connection is closed in that case. It is
    also shorter, the connection left open and clean, when one more email could
    take the error replies past `error_budget` (see within_budget).
    """
    size = smtp.does_esmtp and smtp.has_extn("size")
    # Declared for 8bit data, as RFC 6152 asks; sending.smtp has made every email
    # 7bit for a server that does not offer it.
    eight_bit = smtp.does_esmtp and smtp.has_extn("8bitmime")
    results: list[Result] = []
    replies = ReplyReader(smtp)
    body = _NOTHING  # the previous email's message, sent with the next envelope
    in_body = False  # `body` is an email's message (not an empty one)
    reset = False  # the previous envelope failed: RSET before the next one
    written = 0  # emails whose envelope has gone out
    try:
        for mail_from, recipient, data in emails:
            if written and not within_budget(smtp, error_budget):
                break  # at least one email per call: the caller always moves on
            written += 1
            option = f" size={len(data)}" if size else ""
            if eight_bit and not data.isascii():
                option += " BODY=8BITMIME"
            envelope = f"MAIL FROM:<{mail_from}>{option}\r\nRCPT TO:<{recipient}>\r\n"
            head = b"RSET\r\n" if reset else b""
            smtp.send(b"".join((*body, head, envelope.encode("ascii"), b"DATA\r\n")))
            _read_body_reply(replies, body, in_body, results)
            if reset:
                _check_reset(replies)
            result, body, reset = _envelope_result(replies, mail_from, recipient, data)
            in_body = result is None
            if not in_body:
                results.append(result)
        if body or reset:
            # The last message, and no transaction left open for the next call.
            smtp.send(b"".join((*body, b"RSET\r\n" if reset else b"")))
            _read_body_reply(replies, body, in_body, results)
            if reset:
                replies.reply()
        if replies.left_over():
            smtp.close()  # replies nobody asked for: the next would be misread
    except _Closing as closing:
        results.append(closing.args[0])
        smtp.close()
    except (OSError, smtplib.SMTPServerDisconnected) as exc:
        # Whatever was written and not answered: the message in flight (it may or
        # may not have been delivered, as with smtplib) and the next envelope.
        results.extend([exc] * (written - len(results)))
        smtp.close()
    return results


def _message_result(replies: ReplyReader) -> Result:
    code, message = replies.reply()
    if code == 250:
        return _text(code, message)
    error = smtplib.SMTPDataError(code, message)
    if code == 421:
        raise _Closing(error)
    return error


def _read_body_reply(
    replies: ReplyReader, body: tuple, in_body: bool, results: list[Result]
) -> None:
    if in_body:
        results.append(_message_result(replies))
    elif body:
        replies.reply()  # the empty message a confused server asked for: no email


def _check_reset(replies: ReplyReader) -> None:
    code, message = replies.reply()
    if code == 421:
        raise _Closing(smtplib.SMTPResponseException(code, message))


def _envelope_result(
    replies: ReplyReader, sender: str, recipient: str, data: bytes
) -> tuple[Result | None, tuple, bool]:
    """(failure or None, what to send next, RSET needed) from MAIL, RCPT, DATA."""
    mail, rcpt, data_reply = replies.reply(), replies.reply(), replies.reply()
    error = None
    if mail[0] != 250:
        error = smtplib.SMTPSenderRefused(*mail, sender)
    elif rcpt[0] not in (250, 251):
        error = smtplib.SMTPRecipientsRefused({recipient: rcpt})
    elif data_reply[0] != 354:
        error = smtplib.SMTPDataError(*data_reply)
    if error is None:
        return None, message_parts(data), False
    if 421 in (mail[0], rcpt[0], data_reply[0]):
        raise _Closing(error)
    # A server that said 354 with no recipient waits for a message: end it empty.
    return error, (_EMPTY_MESSAGE if data_reply[0] == 354 else _NOTHING), True
