"""The preference page behind an email's unsubscribe link: a subscriber sees their
lists of that owner and changes them, without signing in (the signed link is the
key). Leaving a list touches only that list; "unsubscribe from everything" is the
global opt-out (mailing.unsubscribe), kept on the suppression list.
"""

from django.db import transaction

from . import audiences
from .models import Client, Consent, Subscription
from .subscribe import Origin, Visitor, record_consent

Status = Subscription.Status


def subscriptions_of(client: Client) -> list[Subscription]:
    return list(
        Subscription.objects.filter(client=client)
        .select_related("mailing_list")
        .order_by("mailing_list__name", "pk")
    )


def is_opted_out(client: Client) -> bool:
    """Out of every mailing of the owner: lists cannot bring them back."""
    return bool(client.unsubscribed_at or client.suppressed_reason)


@transaction.atomic
def save_choices(client: Client, wanted_list_ids: set[int], visitor: Visitor) -> int:
    """Stay on (or come back to) the wanted lists, leave the others; how many
    subscriptions changed. A return is a consent of its own, recorded."""
    changed = 0
    for subscription in subscriptions_of(client):
        wanted = subscription.mailing_list_id in wanted_list_ids
        if wanted and subscription.status != Status.SUBSCRIBED:
            if is_opted_out(client):
                continue
            origin = Origin(Consent.Source.PREFERENCES, f"client:{client.pk}")
            record_consent(client, subscription.mailing_list, False, visitor, origin)
            changed += 1
        elif not wanted and subscription.status != Status.UNSUBSCRIBED:
            one = Subscription.objects.filter(pk=subscription.pk)
            changed += audiences.change_status(one, Status.UNSUBSCRIBED)
    return changed
