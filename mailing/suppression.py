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


def normalised(email: str) -> str:
    """The address as it is sent (IDNA domain), or as typed where it cannot be."""
    try:
        return normalise_email(email)
    except AddressError:
        return email.strip()


def address_hash(email: str) -> str:
    """sha256 of the address as it is sent, lower-cased."""
    return hashlib.sha256(normalised(email).lower().encode()).hexdigest()


def suppress_address(owner_id: int, email: str, reason: str, detail: str = "") -> bool:
    """Add the address to the owner's list (first reason kept) and flag their
    clients with it; True if the entry is new."""
    _entry, created = Suppression.objects.get_or_create(
        owner_id=owner_id,
        address_hash=address_hash(email),
        defaults={"reason": reason, "detail": detail[:255]},
    )
    # Clients are stored normalised: match them the way the hash was made.
    clients = Client.objects.filter(owner_id=owner_id, email__iexact=normalised(email))
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
    clients = Client.objects.filter(pk__in=_clients_with_hash(entry))
    if entry.reason == Reason.UNSUBSCRIBE:
        clients.update(unsubscribed_at=None)
        return
    # A bounce or a complaint is lifted; an unsubscribe that came after it stands,
    # and stays on the list (the entry kept only the first reason).
    clients.update(suppressed_reason="")
    if clients.filter(unsubscribed_at__isnull=False).exists():
        Suppression.objects.create(
            owner_id=entry.owner_id,
            address_hash=entry.address_hash,
            reason=Reason.UNSUBSCRIBE,
        )


def _clients_with_hash(entry: Suppression) -> list[int]:
    """The owner's flagged clients whose address has the entry's hash."""
    flagged = (
        Client.objects.filter(owner_id=entry.owner_id)
        .exclude(suppressed_reason="", unsubscribed_at__isnull=True)
        .values_list("pk", "email")
    )
    return [
        pk
        for pk, email in flagged.iterator()
        if address_hash(email) == entry.address_hash
    ]
