"""How many clients each owner has, as stored (mailing.models.OwnerClientCount,
kept by the database's triggers) and as recounted from the clients: the owner's
figures read the stored number, one indexed sum instead of counting up to a
hundred thousand clients on every page."""

from django.db.models import Count, Sum

from .client_count_triggers import refill
from .models import Client, OwnerClientCount
from .owner_count_triggers import EMPTY, FILL


def stored_clients(owner_id: int, using: str = "default") -> int:
    """How many clients the owner has, as stored."""
    rows = OwnerClientCount.objects.using(using).filter(owner_id=owner_id)
    return rows.aggregate(n=Sum("clients"))["n"] or 0


def stored_counts(using: str = "default") -> dict[int, int]:
    """Owner id -> clients, as stored (owners with none left out)."""
    rows = (
        OwnerClientCount.objects.using(using)
        .values_list("owner_id")
        .annotate(n=Sum("clients"))
        .order_by()
    )
    return {owner: n for owner, n in rows if n}


def recounted(using: str = "default") -> dict[int, int]:
    """The same, counted from the clients (what the stored numbers must equal)."""
    rows = (
        Client.objects.using(using)
        .values_list("owner_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return dict(rows)


def rebuild_owner_counts(using: str = "default") -> bool:
    """Recount every owner's clients; True if a stored number was wrong.
    Writers of clients wait meanwhile."""
    return refill(EMPTY + FILL, stored_counts, using)
