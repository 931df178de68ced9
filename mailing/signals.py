"""Anymail webhooks: what happened to an email after the server took it (tracking),
and mail sent to the List-Unsubscribe mailto (inbound). Quick and idempotent:
the work is in mailing.events."""

import logging

from anymail.signals import inbound, tracking
from django.dispatch import receiver

from .esp_events import attempt_of, happening_from
from .events import record_event
from .unsubscribe import unsubscribe_by_mail

logger = logging.getLogger(__name__)


def record_tracking_event(event, esp_name: str) -> bool:
    """Apply one event; True if it was new."""
    happening = happening_from(event, esp_name)
    if happening is None:
        return False
    attempt_id = attempt_of(event)
    if attempt_id is None:
        logger.info("%s %s event for an unknown message", esp_name, event.event_type)
        return False
    return record_event(attempt_id, happening) is not None


@receiver(tracking)
def on_tracking_event(sender, event, esp_name, **kwargs):
    record_tracking_event(event, esp_name)


@receiver(inbound)
def on_inbound_message(sender, event, esp_name, **kwargs):
    unsubscribe_by_mail(event.message)
