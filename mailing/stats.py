"""The service's figures: the one door through which pages read from `mailing`."""

from .address_counts import stored_count
from .mailing_counts import stored_mailings
from .models import Mailing, sees_any_rows, sees_every_owner, sees_whole_tables
from .owner_client_counts import stored_clients


def service_figures(user=None) -> dict[str, int]:
    """Mailings in total, running mailings and unique client addresses.

    Without a user: across the whole service (the public home page). With a user:
    what that user may see (their own, or everything for a manager). Each number
    is one the triggers keep, read, not counted.
    """
    if user is not None and not sees_every_owner(user):
        # One owner's addresses are unique already (client_owner_address), so
        # their number is the owner's client count the triggers keep.
        unique_clients = stored_clients(user.pk) if sees_any_rows(user) else 0
    else:
        # Across owners: the number the triggers keep (mailing.address_counts).
        unique_clients = stored_count()
    mailings = visible_mailing_counts(user)
    return {
        "mailings_total": sum(mailings.values()),
        "mailings_running": mailings.get(Mailing.Status.RUNNING, 0),
        "unique_clients": unique_clients,
    }


def visible_mailing_counts(user=None) -> dict[str, int]:
    """Status -> the mailings `user` may see (Mailing.objects.for_user), stored."""
    if user is None or sees_whole_tables(user):
        return stored_mailings(None)
    return stored_mailings(user.pk) if sees_any_rows(user) else {}
