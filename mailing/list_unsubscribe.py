"""Leaving one list from a mailing's email, the others kept.

A mailing sent to lists carries, next to the global unsubscribe link (the
preference page, mailing.unsubscribe), a link whose signed token names the client
and the lists the mailing was sent to. It leads to a page that asks; its one
button takes the client off those lists only: no suppression, no global opt-out.

The List-Unsubscribe header (RFC 8058 one-click) stays global: mail providers show
it as the sender's unsubscribe button and expect it to stop the sender's mail
(Gmail's and Yahoo's bulk sender rules); a button that left one list while the
owner's other lists kept mailing would read as broken and turn into complaints.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from . import audiences
from .models import Client, Subscription
from .unsubscribe import TokenMaker

SALT = "mailing.unsubscribe-list"


def token_maker() -> TokenMaker:
    """Makes tokens of [client id, [list ids]], the key derived once per run."""
    return TokenMaker(SALT)


def mailing_list_ids(mailing) -> list[int]:
    """The lists a mailing's email may be left from: none for "all my clients"."""
    if mailing.all_clients:
        return []
    return sorted(mailing.lists.values_list("pk", flat=True))


def make_token(client_id: int, list_ids: list[int]) -> str:
    return signing.dumps([client_id, list_ids], salt=SALT, compress=False)


def read_token(token: str) -> tuple[int, list[int]] | None:
    """(client id, list ids) of a token this site signed, else None."""
    try:
        client_id, list_ids = signing.loads(token, salt=SALT)
    except (signing.BadSignature, TypeError, ValueError):
        return None
    if not isinstance(client_id, int) or not isinstance(list_ids, list):
        return None
    if not all(isinstance(pk, int) for pk in list_ids):
        return None
    return client_id, list_ids


def list_unsubscribe_url(token: str) -> str:
    return settings.BASE_URL + reverse("mailing:unsubscribe_list", args=[token])


def subscriptions_to_leave(client: Client, list_ids: list[int]):
    """The client's memberships of those lists that still send to them."""
    return Subscription.objects.filter(
        client=client, mailing_list_id__in=list_ids
    ).exclude(status=Subscription.Status.UNSUBSCRIBED)


def leave_lists(client: Client, list_ids: list[int]) -> int:
    """Take the client off these lists (idempotent); how many it left."""
    return audiences.change_status(
        Subscription.objects.filter(client=client, mailing_list_id__in=list_ids),
        Subscription.Status.UNSUBSCRIBED,
    )
