"""The service's unique client addresses, as stored (mailing.models.ServiceAddress
and ServiceAddressCount, kept by the database's triggers) and as recounted from
the clients: the manager's figures and the public home page read the stored
number, one indexed sum instead of a sort of every client's address."""

from django.db.models import Count, Sum
from django.db.models.functions import Lower

from .address_count_triggers import EMPTY, FILL
from .client_count_triggers import refill
from .models import Client, ServiceAddress, ServiceAddressCount


def stored_count(using: str = "default") -> int:
    """How many distinct addresses the clients hold, as stored."""
    total = ServiceAddressCount.objects.using(using).aggregate(n=Sum("addresses"))
    return total["n"] or 0


def recounted(using: str = "default") -> int:
    """The same, counted from the clients (what the stored number must equal)."""
    return Client.objects.using(using).values(address=Lower("email")).distinct().count()


def stored_holders(using: str = "default") -> dict[str, int]:
    rows = ServiceAddress.objects.using(using).values_list("address", "holders")
    return dict(rows)


def recounted_holders(using: str = "default") -> dict[str, int]:
    rows = (
        Client.objects.using(using)
        .values_list(Lower("email"))
        .annotate(holders=Count("pk"))
        .order_by()
    )
    return dict(rows)


def rebuild_addresses(using: str = "default") -> bool:
    """Recount the addresses and their number from the clients; True if the
    stored number was wrong. Writers of clients wait meanwhile."""
    return refill(EMPTY + FILL, stored_count, using)
