"""Suppression that outlives deletion (issue 12).

Each owner keeps a list of addresses never to mail again, by a sha256 of the
normalised address: unsubscribes, hard bounces and complaints write it, removing or
erasing the client leaves it, and a client created again with that address (by
hand or by import) is born suppressed. The run's recipients and the claim read the
client's own `suppressed_reason`, which this module keeps in step with the list.
"""

import hashlib
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from .addresses import AddressError, normalise_email
from .models import Client, Suppression, SuppressionRemoval

Reason = Suppression.Reason


def address_hash(email: str) -> str:
    """sha256 of the address as it is sent (IDNA domain), lower-cased."""
    try:
        email = normalise_email(email)
    except AddressError:
        email = email.strip()
    return hashlib.sha256(email.lower().encode()).hexdigest()


def suppress_address(owner_id: int, email: str, reason: str, detail: str = "") -> bool:
    """Add the address to the owner's list (first reason kept) and flag their
    clients with it; True if the entry is new."""
    _entry, created = Suppression.objects.get_or_create(
        owner_id=owner_id,
        address_hash=address_hash(email),
        defaults={"reason": reason, "detail": detail[:255]},
    )
    clients = Client.objects.filter(owner_id=owner_id, email__iexact=email.strip())
    if reason == Reason.UNSUBSCRIBE:
        clients.filter(unsubscribed_at__isnull=True).update(
            unsubscribed_at=timezone.now()
        )
    else:
        flag = detail or Reason(reason).label
        clients.filter(suppressed_reason="").update(suppressed_reason=str(flag)[:255])
    return created


def suppress_client(client_id: int, reason: str, detail: str = "") -> bool:
    client = Client.objects.filter(pk=client_id).only("owner_id", "email").first()
    if client is None:
        return False
    return suppress_address(client.owner_id, client.email, reason, detail)


def suppressed_hashes(owner_id: int, hashes: Iterable[str]) -> dict[str, str]:
    """Of these hashes, those on the owner's list, with their reason."""
    entries = Suppression.objects.filter(
        owner_id=owner_id, address_hash__any_of=list(hashes)
    ).values_list("address_hash", "reason")
    return dict(entries)


def mark_suppressed(clients: list[Client]) -> None:
    """Before saving new clients of one owner: those on the list are born
    unsubscribed or suppressed (an erased opt-out re-imported stays opted out)."""
    if not clients:
        return
    digests = {id(client): address_hash(client.email) for client in clients}
    known = suppressed_hashes(clients[0].owner_id, digests.values())
    now = timezone.now()
    for client in clients:
        reason = known.get(digests[id(client)])
        if reason == Reason.UNSUBSCRIBE:
            client.unsubscribed_at = client.unsubscribed_at or now
        elif reason:
            client.suppressed_reason = str(Reason(reason).label)


def born_suppressed(sender, instance: Client, raw=False, **kwargs) -> None:
    """pre_save of a Client: a new one with a suppressed address stays so."""
    if instance._state.adding and not raw and instance.owner_id:
        mark_suppressed([instance])


@transaction.atomic
def lift(entry: Suppression, user, note: str) -> None:
    """Remove an entry, logging who and why; the owner's clients with that address
    may be mailed again (their opt-out flags cleared)."""
    SuppressionRemoval.objects.create(
        owner_id=entry.owner_id,
        address_hash=entry.address_hash,
        reason=entry.reason,
        note=note,
        removed_by=user,
        removed_at=timezone.now(),
    )
    entry.delete()
    for client in (
        Client.objects.filter(owner_id=entry.owner_id)
        .exclude(suppressed_reason="", unsubscribed_at__isnull=True)
        .only("pk", "email")
        .iterator()
    ):
        if address_hash(client.email) == entry.address_hash:
            Client.objects.filter(pk=client.pk).update(
                suppressed_reason="", unsubscribed_at=None
            )
