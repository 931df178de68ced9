"""One place that turns what a send gave (an answer or an exception) into a row's
result: sent, failed for good, or failed for now, and when a row failed for now is
tried again (retry_at: exponential backoff up to SENDING_MAX_TRIES).

A failure of our own making (a bug, a refused Anymail feature) must never leave a
row `sending`: the sweeper would flag it `unknown` and the run would show nothing
sent and nothing failed. It fails the row as transient, with the error's text.

Every text a row keeps from a server or an ESP goes through stored_text here: a
reply with a NUL or a lone surrogate made the settle fail and left its group
`sending` (PostgreSQL's text refuses NUL, its JSON and SQLite's UTF-8 refuse lone
surrogates).
"""

import logging
import smtplib
import socket
from datetime import datetime, timedelta

from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from django.conf import settings

from .outcome import Outcome

logger = logging.getLogger(__name__)

# Anymail's per-recipient statuses (AnymailRecipientStatus.status) that mean the
# ESP took the email; "unknown" is an ESP that does not say (SparkPost with mixed
# results): accepted, as the API call succeeded.
ACCEPTED = {"sent", "queued", "scheduled", "unknown"}
# Refused for this recipient alone: retrying sends the same refused request.
REFUSED = {"rejected", "invalid", "failed"}


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def stored_text(text: str) -> str:
    """The text with NUL and lone surrogates replaced by U+FFFD, which every
    database stores; a surrogate pair written as two code points becomes its
    character."""
    if text.isascii() and "\x00" not in text:
        return text  # a server's usual reply: no copy
    if not text.isascii():
        utf16 = text.encode("utf-16-le", "surrogatepass")
        text = utf16.decode("utf-16-le", "replace")
    return text.replace("\x00", "\ufffd")


def sent(attempt_id: int, tries: int, response: str, esp_id: str) -> Outcome:
    """A row's result for an email the server or ESP took, with its words."""
    return Outcome(
        attempt_id, tries, True, False, stored_text(response), stored_text(esp_id)
    )


def describe_failure(exc: BaseException, email: str) -> tuple[bool, str]:
    """(transient?, the server's words as a row stores them) from the exception."""
    transient, response = _described(exc, email)
    return transient, stored_text(response)


def _described(exc: BaseException, email: str) -> tuple[bool, str]:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = exc.recipients.get(email) or next(iter(exc.recipients.values()))
        return 400 <= code < 500, f"{code} {_text(text)}"
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        # A refused login (535) is the account's fault, not the recipients':
        # retried like a server that is down, so fixing the password loses no one.
        login = isinstance(exc, smtplib.SMTPAuthenticationError)
        return login or not 500 <= code < 600, f"{code} {_text(exc.smtp_error)}"
    if isinstance(exc, AnymailRecipientsRefused):
        return False, f"recipient refused by the ESP: {exc}"
    if isinstance(exc, AnymailAPIError):
        status = exc.status_code or _boto_status(exc.__cause__)
        transient = status is None or status == 429 or status >= 500
        return transient, exc.describe_response() or exc.describe_cause() or str(exc)
    if isinstance(exc, socket.timeout | TimeoutError):
        return True, f"timed out: {exc}"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True, f"connection lost: {exc}"
    if isinstance(exc, OSError):
        return True, f"connection failed: [{exc.errno}] {exc.strerror or exc}"
    return unexpected(exc)


def refused_for_good(exc: BaseException, email: str) -> bool:
    """A 5xx reply to RCPT TO for this recipient: an SMTP hard bounce. A 5xx to
    MAIL FROM or DATA says nothing about the address and is only a failure."""
    if not isinstance(exc, smtplib.SMTPRecipientsRefused):
        return False
    code, _text = exc.recipients.get(email) or next(iter(exc.recipients.values()))
    return 500 <= code < 600


def _boto_status(cause) -> int | None:
    """The HTTP status of a boto3 ClientError (Amazon SES): Anymail keeps none."""
    response = getattr(cause, "response", None)
    if isinstance(response, dict):
        return response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return None


def unexpected(exc: BaseException) -> tuple[bool, str]:
    """Not a mail server's answer: our bug or a refused feature. Transient, so the
    row is retried (and fails for good after SENDING_MAX_TRIES), never lost."""
    logger.error("unexpected error while sending", exc_info=exc)
    return True, stored_text(f"{type(exc).__name__}: {exc}"[:2000])


def fail_rows(rows: list, exc: BaseException) -> list[Outcome]:
    """Every claimed row of a group that could not be sent at all."""
    transient, response = describe_failure(exc, "")
    return [Outcome(row[0], row[1], False, transient, response) for row in rows]


def recipient_outcome(attempt_id: int, tries: int, status) -> Outcome:
    """A row's result from Anymail's status for its recipient (None: not reported)."""
    if status is None:
        return Outcome(
            attempt_id, tries, False, True, "the ESP did not report this recipient"
        )
    esp_id = "" if status.message_id is None else stored_text(str(status.message_id))
    if status.status in ACCEPTED:
        return Outcome(attempt_id, tries, True, False, status.status, esp_id)
    return Outcome(
        attempt_id,
        tries,
        False,
        status.status not in REFUSED,
        f"refused by the ESP: {status.status}",
        esp_id,
    )


def retry_at(outcome: Outcome, now: datetime) -> datetime | None:
    """When a failed row is tried again; None: it failed for good (permanent, or
    its tries are spent)."""
    if outcome.transient and outcome.tries < settings.SENDING_MAX_TRIES:
        return now + retry_delay(outcome.tries)
    return None


def retry_delay(tries: int) -> timedelta:
    """Exponential backoff: base, 2 x base, 4 x base, ..."""
    return timedelta(seconds=settings.SENDING_RETRY_BACKOFF * 2 ** max(tries - 1, 0))
