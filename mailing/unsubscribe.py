"""Unsubscribe links: a signed token that names one client.

The token is the client's id signed with the site's SECRET_KEY under its own salt:
it cannot be guessed, and changing the id breaks the signature, so a token works for
its client only. It does not expire: an old email's link must keep working.
"""

from email.utils import parseaddr
from urllib.parse import quote

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from .models import Client

SALT = "mailing.unsubscribe"


def make_token(client_id: int) -> str:
    return signing.dumps(client_id, salt=SALT, compress=False)


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
