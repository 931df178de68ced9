"""Unsubscribe links: a signed token that names one client.

The token is the client's id signed with the site's SECRET_KEY under its own salt:
it cannot be guessed, and changing the id breaks the signature, so a token works for
its client only. It does not expire: an old email's link must keep working.
The same token unsubscribes by link (views.py) and by mail to the List-Unsubscribe
mailto (unsubscribe_by_mail, fed by Anymail's inbound webhook).
"""

import binascii
import hashlib
import json
import logging
import re
import time
from email.errors import MessageError
from email.utils import getaddresses, parseaddr
from urllib.parse import quote, unquote

from anymail.inbound import AnymailInboundMessage
from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.html import strip_tags

from .keyed_hash import KeyedSha256
from .models import Client

logger = logging.getLogger(__name__)

SALT = "mailing.unsubscribe"
# What make_token and TokenMaker write: value:timestamp:signature, URL-safe base64.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]+:[A-Za-z0-9]+:[A-Za-z0-9_-]+")
# Some mail clients put the mailto's subject in the body instead: its first lines.
BODY_LINES = 5
# What the email package raises on some malformed mail: an unknown charset
# (LookupError), undecodable parts (ValueError, MessageError), and Python 3.11's
# address header parser on some broken headers (IndexError, AttributeError).
MALFORMED_MAIL = (AttributeError, IndexError, LookupError, ValueError, MessageError)


def make_token(client_id: int) -> str:
    return signing.dumps(client_id, salt=SALT, compress=False)


class TokenMaker:
    """make_token for a whole run: the same tokens, the key derived only once.

    signing.dumps derives the HMAC key, builds a Signer and runs the JSON encoder
    for every call: a quarter of an email's build time. The token format is
    Django's TimestampSigner's (value:timestamp:signature), which read_token checks
    with signing.loads; a test holds the two equal.
    """

    def __init__(self, salt: str = SALT):
        signer = signing.TimestampSigner(salt=salt)
        key = hashlib.sha256(
            (signer.salt + "signer").encode() + force_bytes(signer.key)
        ).digest()
        self._mac = KeyedSha256(key)
        self._second, self._stamp = 0, ""

    def __call__(self, client_id: int | list[int]) -> str:
        now = int(time.time())
        if now != self._second:
            self._second, self._stamp = now, signing.b62_encode(now)
        payload = _compact_json(client_id).encode()
        value = f"{_b64(payload)}:{self._stamp}"
        mac = self._mac.digest(value.encode())
        return f"{value}:{_b64(mac)}"


# What signing.b64_encode writes, in one C call each (base64.urlsafe_b64encode
# wraps two Python functions around them: half of a token's CPU).
_URL_SAFE = bytes.maketrans(b"+/", b"-_")


def _b64(data: bytes) -> str:
    encoded = binascii.b2a_base64(data, newline=False)
    return encoded.translate(_URL_SAFE).rstrip(b"=").decode("ascii")


def _compact_json(value) -> str:
    """What Django's signing JSON (separators "," and ":") writes for an int or
    a list of them, without json.dumps building an encoder for every call (a
    fifth of an ESP batch's per-recipient CPU went there)."""
    if type(value) is int:  # not bool: JSON writes that `true`
        return str(value)
    if type(value) is list:
        return "[" + ",".join(map(_compact_json, value)) + "]"
    return json.dumps(value, separators=(",", ":"))


def read_token(token: str) -> int | None:
    try:
        client_id = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    return client_id if isinstance(client_id, int) else None


def unsubscribe_url(token: str) -> str:
    return settings.BASE_URL + reverse("mailing:unsubscribe", args=[token])


def unsubscribe_mailto(token: str) -> str:
    return f"mailto:{unsubscribe_address()}?subject={quote('unsubscribe ' + token)}"


def unsubscribe_address() -> str:
    if settings.UNSUBSCRIBE_MAILTO:
        return settings.UNSUBSCRIBE_MAILTO
    return f"unsubscribe@{sender_domain()}"


def sender_domain() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"


def unsubscribe_client(client_id: int, at=None) -> bool:
    """Mark the client unsubscribed (now, or when an ESP says it happened); True if
    this call did it (idempotent)."""
    from .suppression import Reason, suppress_client

    updated = Client.objects.filter(pk=client_id, unsubscribed_at__isnull=True).update(
        unsubscribed_at=at or timezone.now()
    )
    # The opt-out outlives the client: kept by address on the owner's list.
    suppress_client(client_id, Reason.UNSUBSCRIBE)
    return bool(updated)


def unsubscribe_by_mail(message: AnymailInboundMessage) -> bool:
    """Unsubscribe the client whose token a mail to the unsubscribe address carries.

    True if this mail unsubscribed someone. Never raises on what the mail holds:
    an ESP retries a webhook that fails, and a bad mail stays bad.
    """
    try:
        client_id = _requested_client_id(message)
    except MALFORMED_MAIL as error:
        logger.info("inbound mail that cannot be parsed (%r): ignored", error)
        return False
    return client_id is not None and unsubscribe_client(client_id)


def _requested_client_id(message: AnymailInboundMessage) -> int | None:
    if not _is_addressed_to_unsubscribe(message):
        # A reply to a mailing that quotes its unsubscribe link is not a request.
        logger.info("inbound mail not for the unsubscribe address: ignored")
        return None
    # The token decides which client, never the From address: anyone can send mail
    # with any From, and one address may be a client of several owners.
    client_id = _token_client_id(message)
    if client_id is None:
        logger.info("inbound unsubscribe mail without a valid token: ignored")
    return client_id


def _is_addressed_to_unsubscribe(message: AnymailInboundMessage) -> bool:
    fields = [message.get_all(name, []) for name in ("To", "Cc", "Bcc")]
    values = [str(value) for field in fields for value in field]
    values.append(message.envelope_recipient or "")
    wanted = unsubscribe_address().lower()
    return any(address.lower() == wanted for _, address in getaddresses(values))


def _token_client_id(message: AnymailInboundMessage) -> int | None:
    places = [str(message.get("Subject", "")), *_first_body_lines(message)]
    for place in places:
        # A client that did not decode the mailto leaves the subject %-encoded.
        for token in TOKEN_PATTERN.findall(unquote(place)):
            client_id = read_token(token)
            if client_id is not None:
                return client_id
    return None


def _first_body_lines(message: AnymailInboundMessage) -> list[str]:
    text = message.text or strip_tags(message.html or "")
    return text[:2000].strip().splitlines()[:BODY_LINES]
