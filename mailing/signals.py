"""Anymail webhooks: what happened to an email after the server took it (tracking),
and mail sent to the List-Unsubscribe mailto (inbound).

Receivers are quick and idempotent: an ESP may deliver an event twice, and a
later, weaker event (delivered after bounced) never overwrites a stronger one.
"""

import logging

from anymail.signals import inbound, tracking
from django.dispatch import receiver
from django.utils.translation import gettext as _

from .models import Attempt, Client
from .unsubscribe import unsubscribe_by_mail

logger = logging.getLogger(__name__)

Status = Attempt.Status
# Event type -> status, and the statuses that status may replace.
TRANSITIONS = {
    "delivered": (Status.DELIVERED, [Status.SENDING, Status.SUCCESS, Status.UNKNOWN]),
    "bounced": (
        Status.BOUNCED,
        [Status.SENDING, Status.SUCCESS, Status.UNKNOWN, Status.DELIVERED],
    ),
    "complained": (
        Status.COMPLAINED,
        [Status.SENDING, Status.SUCCESS, Status.UNKNOWN, Status.DELIVERED],
    ),
}
SUPPRESSING = {"bounced", "complained"}


def _attempt_id(event) -> int | None:
    """The attempt named by the event: our metadata first, then the ESP's id."""
    # What a forged or broken payload holds: metadata need not be an object.
    metadata = event.metadata if isinstance(event.metadata, dict) else {}
    raw = metadata.get("attempt_id")
    if raw is not None and str(raw).isdigit():
        return int(raw)
    if isinstance(event.message_id, str) and event.message_id:
        found = Attempt.objects.filter(esp_message_id=event.message_id)
        return found.values_list("pk", flat=True).first()
    return None


def record_tracking_event(event, esp_name: str) -> bool:
    """Apply one event; True if it changed anything."""
    if event.event_type not in TRANSITIONS:
        return False
    attempt_id = _attempt_id(event)
    if attempt_id is None:
        logger.info("%s %s event for an unknown message", esp_name, event.event_type)
        return False
    status, replaces = TRANSITIONS[event.event_type]
    words = event.mta_response or event.description or event.reject_reason or ""
    changed = Attempt.objects.filter(pk=attempt_id, status__in=replaces).update(
        status=status, server_response=f"{esp_name}: {words}"[:2000]
    )
    if event.event_type in SUPPRESSING and not _is_soft_bounce(event):
        reason = (
            _("hard bounce") if event.event_type == "bounced" else _("spam complaint")
        )
        # The client row belongs to one owner: suppression is per owner.
        Client.objects.filter(attempts__pk=attempt_id, suppressed_reason="").update(
            suppressed_reason=f"{reason}: {words}"[:255]
        )
    return bool(changed)


def _is_soft_bounce(event) -> bool:
    """Some ESPs (Postmark) report soft bounces as `bounced`: no suppression then."""
    esp_event = event.esp_event if isinstance(event.esp_event, dict) else {}
    esp_type = esp_event.get("Type")
    soft_type = isinstance(esp_type, str) and esp_type in {"SoftBounce", "Transient"}
    return soft_type or str(event.mta_response or "").startswith("4")


@receiver(tracking)
def on_tracking_event(sender, event, esp_name, **kwargs):
    record_tracking_event(event, esp_name)


@receiver(inbound)
def on_inbound_message(sender, event, esp_name, **kwargs):
    unsubscribe_by_mail(event.message)
