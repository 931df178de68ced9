"""SMTP PIPELINING (RFC 2920) for a run's emails written as bytes (sending.mime).

smtplib has no pipelining: sendmail() waits for the server after MAIL, after RCPT,
after DATA and after the message, four round trips per email, and each wait is also
a GIL hand-off between the sending threads. When the server advertises PIPELINING,
one write here carries an email's message together with the next email's MAIL, RCPT
and DATA (RFC 2920 3.1: message content may open a group, DATA must close it), and
the replies are then read in order: one round trip per email.

Replies are read with smtplib's own getreply(), and a refusal becomes the exception
sendmail() raises for the same reply (SMTPSenderRefused, SMTPRecipientsRefused,
SMTPDataError), so delivery.describe_failure classifies it exactly as before: 4xx
transient, 5xx permanent, per recipient.
"""

import re
import smtplib

_LEADING_DOT = re.compile(rb"(?m)^\.")

# The most error replies one more email can draw, pipelined: the previous
# message's, then MAIL, RCPT and DATA (503s after a refused MAIL).
ERRORS_PER_EMAIL = 4

# What send_pipelined gives for each email: the server's final reply ("250 ...")
# or the exception smtplib.sendmail would have raised.
Result = str | Exception


def message_block(data: bytes) -> bytes:
    """The message as smtplib.data() writes it: dot-stuffed, CRLF, "." line."""
    if data.startswith(b".") or b"\n." in data:
        data = _LEADING_DOT.sub(b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def _reply(smtp: smtplib.SMTP) -> tuple[int, bytes]:
    return smtp.getreply()


def _text(code: int, message: bytes) -> str:
    return f"{code} {message.decode('utf-8', 'replace')}"


class _Closing(Exception):
    """The server answered 421: it closes the connection after this reply."""


def senders_of(sender: str | list[str], count: int) -> list[str]:
    """One envelope sender per email: the same for all, or each its own (VERP)."""
    return [sender] * count if isinstance(sender, str) else list(sender)


def within_budget(smtp: smtplib.SMTP, budget: int | None) -> bool:
    """Whether one more email cannot take the connection's error replies (counted
    by sending.smtp.Connection) past `budget`, the server's soft limit."""
    errors = getattr(smtp, "errors", 0)
    return budget is None or errors + ERRORS_PER_EMAIL <= budget


def send_pipelined(
    smtp: smtplib.SMTP,
    sender: str | list[str],
    emails: list[tuple[str, bytes]],
    error_budget: int | None = None,
) -> list[Result]:
    """Send (recipient, data) pairs; one result per email, in order.

    Sender and recipients are plain addr-specs (mime.plain_address). The list is
    shorter than `emails` when the connection broke or the server answered 421:
    the last results are then the emails that were in flight, and the caller
    reopens the connection for the rest. The connection is closed in that case.
    It is also shorter, the connection left open and clean, when one more email
    could take the error replies past `error_budget` (see within_budget).
    """
    size = smtp.does_esmtp and smtp.has_extn("size")
    # Declared for 8bit data, as RFC 6152 asks; sending.smtp has made every email
    # 7bit for a server that does not offer it.
    eight_bit = smtp.does_esmtp and smtp.has_extn("8bitmime")
    results: list[Result] = []
    body = b""  # the previous email's message, sent with the next envelope
    in_body = False  # `body` is an email's message (not an empty one)
    reset = False  # the previous envelope failed: RSET before the next one
    written = 0  # emails whose envelope has gone out
    senders = senders_of(sender, len(emails))
    try:
        for (recipient, data), mail_from in zip(emails, senders, strict=True):
            if written and not within_budget(smtp, error_budget):
                break  # at least one email per call: the caller always moves on
            written += 1
            option = f" size={len(data)}" if size else ""
            if eight_bit and not data.isascii():
                option += " BODY=8BITMIME"
            envelope = f"MAIL FROM:<{mail_from}>{option}\r\nRCPT TO:<{recipient}>\r\n"
            head = b"RSET\r\n" if reset else b""
            smtp.send(body + head + envelope.encode("ascii") + b"DATA\r\n")
            _read_body_reply(smtp, body, in_body, results)
            if reset:
                _check_reset(smtp)
            result, body, reset = _envelope_result(smtp, mail_from, recipient, data)
            in_body = result is None
            if not in_body:
                results.append(result)
        if body or reset:
            # The last message, and no transaction left open for the next call.
            smtp.send(body + (b"RSET\r\n" if reset else b""))
            _read_body_reply(smtp, body, in_body, results)
            if reset:
                _reply(smtp)
    except _Closing as closing:
        results.append(closing.args[0])
        smtp.close()
    except (OSError, smtplib.SMTPServerDisconnected) as exc:
        # Whatever was written and not answered: the message in flight (it may or
        # may not have been delivered, as with smtplib) and the next envelope.
        results.extend([exc] * (written - len(results)))
        smtp.close()
    return results


def _message_result(smtp: smtplib.SMTP) -> Result:
    code, message = _reply(smtp)
    if code == 250:
        return _text(code, message)
    error = smtplib.SMTPDataError(code, message)
    if code == 421:
        raise _Closing(error)
    return error


def _read_body_reply(
    smtp: smtplib.SMTP, body: bytes, in_body: bool, results: list[Result]
) -> None:
    if in_body:
        results.append(_message_result(smtp))
    elif body:
        _reply(smtp)  # the empty message a confused server asked for: no email


def _check_reset(smtp: smtplib.SMTP) -> None:
    code, message = _reply(smtp)
    if code == 421:
        raise _Closing(smtplib.SMTPResponseException(code, message))


def _envelope_result(
    smtp: smtplib.SMTP, sender: str, recipient: str, data: bytes
) -> tuple[Result | None, bytes, bool]:
    """(failure or None, what to send next, RSET needed) from MAIL, RCPT, DATA."""
    mail, rcpt, data_reply = _reply(smtp), _reply(smtp), _reply(smtp)
    error = None
    if mail[0] != 250:
        error = smtplib.SMTPSenderRefused(*mail, sender)
    elif rcpt[0] not in (250, 251):
        error = smtplib.SMTPRecipientsRefused({recipient: rcpt})
    elif data_reply[0] != 354:
        error = smtplib.SMTPDataError(*data_reply)
    if error is None:
        return None, message_block(data), False
    if 421 in (mail[0], rcpt[0], data_reply[0]):
        raise _Closing(error)
    # A server that said 354 with no recipient waits for a message: end it empty.
    return error, (b".\r\n" if data_reply[0] == 354 else b""), True
