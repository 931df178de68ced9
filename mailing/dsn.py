"""Delivery status notifications (RFC 3464) that come back to the return path.

A remote server that gives up on an email (or waits long) mails a report to the
envelope sender: with VERP (mailing.return_path) that address names the attempt.
The report arrives through Anymail's inbound webhook or `manage.py read_dsn` (a
local MTA's pipe), is read here with the stdlib email package, and is applied as
an ESP's bounce event would be (mailing.events: the attempt's status,
suppression, rollups, in one transaction).

Which attempt: the signed token of the address the report was sent to, else the
signed Message-ID of the email it returns. Never by the recipient's address or
any other unsigned field: anyone can mail a report to the bounce address, and a
forged one must not suppress another owner's client. A token or Message-ID that
looks like ours and fails its signature is ignored and logged.
"""

from __future__ import annotations

import binascii
import enum
import hashlib
import logging
import re
from dataclasses import dataclass
from email.errors import MessageError
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses, parsedate_to_datetime

from django.utils import timezone

from . import return_path, tokens
from .event_batches import record_events
from .events import Happening
from .models import Attempt, Event

logger = logging.getLogger(__name__)
security_logger = logging.getLogger("mailing.dsn.forged")

Kind = Event.Kind
SOURCE = "dsn"
STATUS = re.compile(r"([245])\.(\d{1,3})\.(\d{1,3})")
SMTP_CODE = re.compile(r"\b([245])\d\d\b")
# What the email package raises on some malformed mail (mailing.unsubscribe).
MALFORMED = (AttributeError, IndexError, LookupError, ValueError, MessageError)
# Where a report says whom it was sent to, the envelope recipient first.
ADDRESSED_TO = ("Delivered-To", "X-Original-To", "Envelope-To", "To")
# Where the returned email's Message-ID is: its own headers, or Gmail's field.
ORIGINAL_ID_FIELDS = ("X-Original-Message-ID", "Original-Message-ID")


class Result(enum.StrEnum):
    RECORDED = "recorded"
    DUPLICATE = "duplicate"  # this report was applied before
    NOT_A_REPORT = "not a delivery status notification"
    NOT_A_FAILURE = "no failed or delayed recipient"
    UNMATCHED = "names no attempt"
    FORGED = "forged or foreign token"


@dataclass(frozen=True)
class RecipientStatus:
    """One per-recipient block of a report."""

    action: str  # failed, delayed, delivered, relayed, expanded
    status: str  # "5.1.1"; "" when the MTA left it out
    diagnostic: str
    final_recipient: str
    original_recipient: str

    def kind(self) -> str | None:
        """Hard or soft bounce, deferral, or None for a report of success."""
        if self.action == "delayed":
            return Kind.DEFERRED
        if self.action != "failed":
            return None
        return Kind.SOFT_BOUNCE if self.transient() else Kind.HARD_BOUNCE

    def transient(self) -> bool:
        status = STATUS.search(self.status) or STATUS.search(self.diagnostic)
        if status:
            # RFC 3463: X.2.2 (mailbox full) "should be used as a persistent
            # transient failure", whatever its class; servers send it as 5.2.2.
            return status.group(1) == "4" or status.group(2, 3) == ("2", "2")
        code = SMTP_CODE.search(self.diagnostic)
        return bool(code) and code.group(1) == "4"

    def names(self, email: str) -> bool:
        email = email.lower()
        return email in (self.final_recipient.lower(), self.original_recipient.lower())


@dataclass(frozen=True)
class Notification:
    report_id: str  # the report's own Message-ID
    date: object  # datetime | None
    addressed_to: list[str]
    returned_ids: list[str]  # Message-IDs of the email it returns
    recipients: list[RecipientStatus]


def record_dsn(message: Message, envelope_recipient: str = "") -> Result:
    """Apply one inbound mail if it is a delivery status notification."""
    try:
        notification = read_notification(message, envelope_recipient)
    except MALFORMED as error:
        logger.info("inbound mail that cannot be parsed (%r): ignored", error)
        return Result.NOT_A_REPORT
    if notification is None:
        return Result.NOT_A_REPORT
    attempt_id, result = match_attempt(notification)
    if attempt_id is None:
        return result
    return apply(notification, attempt_id)


# --- Reading ---------------------------------------------------------------------


def is_report(message: Message) -> bool:
    return any(
        part.get_content_type() == "message/delivery-status" for part in _parts(message)
    )


def read_notification(
    message: Message, envelope_recipient: str = ""
) -> Notification | None:
    """The report's fields; None for any other mail (an auto-reply, a person)."""
    status_part = next(
        (
            p
            for p in _parts(message)
            if p.get_content_type() == "message/delivery-status"
        ),
        None,
    )
    if status_part is None:
        return None
    blocks = _blocks(status_part)
    per_message = blocks[0] if blocks else Message()
    return Notification(
        report_id=_text(message.get("Message-ID")),
        date=_date(message.get("Date")),
        addressed_to=_addressed_to(message, envelope_recipient),
        returned_ids=_returned_ids(message, per_message),
        recipients=[_recipient(block) for block in blocks[1:]],
    )


def _parts(message: Message) -> list[Message]:
    """The parts of the report, not walking into the email it returns."""
    found, todo = [], [message]
    while todo:
        part = todo.pop(0)
        found.append(part)
        if part.is_multipart() and part.get_content_maintype() == "multipart":
            todo.extend(part.get_payload())
    return found


def _blocks(part: Message) -> list[Message]:
    payload = part.get_payload()
    if _text(part.get("Content-Transfer-Encoding")).lower() == "base64":
        # Some servers encode the status part, which the email package then reads
        # as one block of base64 text: decode it and read the blocks ourselves.
        pieces = payload if isinstance(payload, list) else [part]
        text = "".join(str(piece.get_payload()) for piece in pieces)
        raw = binascii.a2b_base64(text.encode("ascii", "ignore"))
        return _split(raw.decode("utf-8", "replace"))
    if not isinstance(payload, list):
        return _split(str(payload))
    blocks = []
    for block in payload:
        blocks.append(block)
        rest = block.get_payload()
        if isinstance(rest, str) and rest.strip():
            # Anymail builds a message/* attachment (an ESP's parsed inbound mail)
            # as one message: the blocks after the first are its body.
            blocks.extend(_split(rest))
    return blocks


def _split(text: str) -> list[Message]:
    chunks = re.split(r"\n\s*\n", text.replace("\r\n", "\n"))
    return [HeaderParser().parsestr(chunk) for chunk in chunks if chunk.strip()]


def _recipient(block: Message) -> RecipientStatus:
    return RecipientStatus(
        action=_text(block.get("Action")).lower(),
        status=_text(block.get("Status")),
        diagnostic=_text(block.get("Diagnostic-Code")),
        final_recipient=_address(block.get("Final-Recipient")),
        original_recipient=_address(block.get("Original-Recipient")),
    )


def _text(value) -> str:
    return " ".join(str(value or "").split())


def _address(value) -> str:
    """The address of an RFC 3464 recipient field ("rfc822; a@b.c")."""
    return _text(value).partition(";")[2].strip().strip("<>") or _text(value)


def _date(value):
    try:
        found = parsedate_to_datetime(str(value)) if value else None
    except (TypeError, ValueError, IndexError):
        return None
    if found is None or found.tzinfo is None:
        return None
    return min(found, timezone.now())  # never counted as a future bounce


def _addressed_to(message: Message, envelope_recipient: str) -> list[str]:
    values = [envelope_recipient] if envelope_recipient else []
    for name in ADDRESSED_TO:
        values.extend(str(v) for v in message.get_all(name, []))
    return [address for _name, address in getaddresses(values) if address]


def _returned_ids(message: Message, per_message: Message) -> list[str]:
    ids = [_text(per_message.get(name)) for name in ORIGINAL_ID_FIELDS]
    for part in _parts(message):
        kind = part.get_content_type()
        if kind == "message/rfc822" and isinstance(part.get_payload(), list):
            ids.append(_text(part.get_payload()[0].get("Message-ID")))
        elif kind == "text/rfc822-headers":
            headers = HeaderParser().parsestr(
                part.get_payload(decode=True).decode("utf-8", "replace")
            )
            ids.append(_text(headers.get("Message-ID")))
    return [value for value in ids if value]


# --- Matching and applying --------------------------------------------------------


def match_attempt(notification: Notification) -> tuple[int | None, Result]:
    """The attempt a report names by a signed token; (None, why) otherwise. The
    address it was sent to comes first, the returned email's Message-ID second."""
    claims = [
        (value, return_path.attempt_of)
        for value in notification.addressed_to
        if return_path.token_in(value)
    ] + [
        (value, tokens.read_message_id)
        for value in notification.returned_ids
        if tokens.MESSAGE_ID.search(value)
    ]
    found = [(value, read(value)) for value, read in claims]
    forged = [value for value, attempt_id in found if attempt_id is None]
    report = notification.report_id or "(no Message-ID)"
    if forged:
        security_logger.warning(
            "delivery status notification %s carries a token that is not ours "
            "(%s): ignored", report, forged[0]
        )  # fmt: skip
        return None, Result.FORGED
    if not found:
        logger.info("delivery status notification %s names no attempt", report)
        return None, Result.UNMATCHED
    return found[0][1], Result.RECORDED


def apply(notification: Notification, attempt_id: int) -> Result:
    email = (
        Attempt.objects.filter(pk=attempt_id)
        .values_list("client__email", flat=True)
        .first()
    )
    if email is None:
        return Result.UNMATCHED  # the attempt was deleted since
    status = _status_for(notification.recipients, email)
    kind = status.kind() if status else None
    if kind is None:
        return Result.NOT_A_FAILURE
    new = record_events([(attempt_id, _happening(notification, status, kind))])
    return Result.RECORDED if new else Result.DUPLICATE


def _status_for(
    recipients: list[RecipientStatus], email: str
) -> RecipientStatus | None:
    """The block about the attempt's address; one email has one recipient, so a
    lone block is it even when forwarding changed the address."""
    named = [r for r in recipients if r.names(email)]
    wanted = named or (recipients if len(recipients) == 1 else [])
    return next((r for r in wanted if r.kind()), None)


def _happening(
    notification: Notification, status: RecipientStatus, kind: str
) -> Happening:
    seed = notification.report_id or "|".join(
        [str(notification.date), status.status, status.diagnostic]
    )
    key = f"{seed}|{status.final_recipient}|{status.action}"
    return Happening(
        kind=kind,
        source=SOURCE,
        at=notification.date,
        esp_event_id=hashlib.sha256(key.encode()).hexdigest(),
        description=" ".join(filter(None, [status.status, status.diagnostic])),
    )
