"""The service's figures: the one door through which pages read from `mailing`."""

from django.db.models import Count, Q

from .address_counts import stored_count
from .models import Mailing, sees_any_rows, sees_every_owner
from .owner_client_counts import stored_clients


def service_figures(user=None) -> dict[str, int]:
    """Mailings in total, running mailings and unique client addresses.

    Without a user: across the whole service (the public home page). With a user:
    what that user may see (their own, or everything for a manager).
    """
    mailings = Mailing.objects.all() if user is None else Mailing.objects.for_user(user)
    counts = mailings.aggregate(
        total=Count("id"), running=Count("id", filter=Q(status=Mailing.Status.RUNNING))
    )
    if user is not None and not sees_every_owner(user):
        # One owner's addresses are unique already (client_owner_address), so
        # their number is the owner's client count the triggers keep.
        unique_clients = stored_clients(user.pk) if sees_any_rows(user) else 0
    else:
        # Across owners: the number the triggers keep (mailing.address_counts).
        unique_clients = stored_count()
    return {
        "mailings_total": counts["total"],
        "mailings_running": counts["running"],
        "unique_clients": unique_clients,
    }
