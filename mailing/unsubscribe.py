"""Unsubscribe links: a signed token that names one client.

The token is the client's id signed with the site's SECRET_KEY under its own salt:
it cannot be guessed, and changing the id breaks the signature, so a token works for
its client only. It does not expire: an old email's link must keep working.
"""

import hashlib
import hmac
import time
from email.utils import parseaddr
from urllib.parse import quote

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes

from .models import Client

SALT = "mailing.unsubscribe"


def make_token(client_id: int) -> str:
    return signing.dumps(client_id, salt=SALT, compress=False)


class TokenMaker:
    """make_token for a whole run: the same tokens, the key derived only once.

    signing.dumps derives the HMAC key, builds a Signer and runs the JSON encoder
    for every call: a quarter of an email's build time. The token format is
    Django's TimestampSigner's (value:timestamp:signature), which read_token checks
    with signing.loads; a test holds the two equal.
    """

    def __init__(self):
        signer = signing.TimestampSigner(salt=SALT)
        key = hashlib.sha256(
            (signer.salt + "signer").encode() + force_bytes(signer.key)
        ).digest()
        self._mac = hmac.new(key, digestmod=hashlib.sha256)
        self._second, self._stamp = 0, ""

    def __call__(self, client_id: int) -> str:
        now = int(time.time())
        if now != self._second:
            self._second, self._stamp = now, signing.b62_encode(now)
        value = f"{signing.b64_encode(str(client_id).encode()).decode()}:{self._stamp}"
        mac = self._mac.copy()
        mac.update(value.encode())
        return f"{value}:{signing.b64_encode(mac.digest()).decode()}"


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


def unsubscribe_client(client_id: int) -> bool:
    """Mark the client unsubscribed; True if this call did it (idempotent)."""
    updated = Client.objects.filter(pk=client_id, unsubscribed_at__isnull=True).update(
        unsubscribed_at=timezone.now()
    )
    return bool(updated)
