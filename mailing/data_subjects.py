"""A person's rights over what an owner holds about them (issue 12): everything
about one client as JSON, and erasure that keeps only the hashed suppression entry,
so an erased person is never mailed again, even if re-imported."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from . import suppression
from .models import Attempt, Client, Consent, Event, Subscription
from .suppression import Reason

CLIENT_FIELDS = (
    "email",
    "full_name",
    "comment",
    "time_zone",
    "created_at",
    "unsubscribed_at",
    "suppressed_reason",
)
JSONEncoder = DjangoJSONEncoder


def client_record(client: Client) -> dict:
    """What the owner holds about the client: fields, lists, emails, events."""
    subscriptions = (
        Subscription.objects.filter(client=client)
        .select_related("mailing_list")
        .prefetch_related("consents")
    )
    attempts = Attempt.objects.filter(client=client).select_related("mailing")
    events = Event.objects.filter(attempt__client=client).order_by("at")
    digest = suppression.address_hash(client.email)
    entries = client.owner.suppressions.filter(address_hash=digest)
    return {
        "exported_at": timezone.now(),
        "client": {name: getattr(client, name) for name in CLIENT_FIELDS},
        "lists": [
            {
                "list": item.mailing_list.name,
                "status": item.status,
                "changed_at": item.changed_at,
                "consents": [consent_record(c) for c in item.consents.all()],
            }
            for item in subscriptions.order_by("mailing_list__name")
        ],
        "emails": [
            {
                "mailing": attempt.mailing.name,
                "status": attempt.status,
                "attempted_at": attempt.attempted_at,
                "server_response": attempt.server_response,
            }
            for attempt in attempts.order_by("pk")
        ],
        "events": [{"kind": event.kind, "at": event.at} for event in events.iterator()],
        "suppression": [
            {"reason": entry.reason, "since": entry.created_at} for entry in entries
        ],
    }


def consent_record(consent: Consent) -> dict:
    return {
        "given_at": consent.given_at,
        "source": consent.source,
        "source_detail": consent.source_detail,
        "consent_text": consent.consent_text,
        "ip": consent.ip,
        "user_agent": consent.user_agent,
        "confirmed_at": consent.confirmed_at,
    }


@transaction.atomic
def erase_client(client: Client) -> None:
    """Delete the client and everything about them; a suppression entry (the
    address's hash, nothing else) stays so that they are never mailed again."""
    suppression.suppress_address(client.owner_id, client.email, _erased_reason(client))
    client.delete()


def _erased_reason(client: Client) -> str:
    """Why the erased address stays suppressed (an existing entry keeps its own):
    a flag without an entry is a complaint or a bounce by the client's events."""
    if client.unsubscribed_at:
        return Reason.UNSUBSCRIBE
    if not client.suppressed_reason:
        return Reason.MANUAL
    events = Event.objects.filter(attempt__client=client)
    if events.filter(kind=Event.Kind.COMPLAINED).exists():
        return Reason.COMPLAINT
    return Reason.HARD_BOUNCE
