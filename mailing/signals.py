"""Anymail webhooks: what happened to an email after the server took it (tracking),
and mail sent to the List-Unsubscribe mailto or back to the return path (inbound).
Quick and idempotent: the work is in mailing.events, event_batches and dsn.

Anymail fires its tracking signal once per event of a request. Inside
`one_batch_per_request()` (the webhook views use it) the receiver only collects
them; when the view has parsed them all, the events that only count go to the
event queue (mailing.event_queue, recorded in batches by a task) and the rest are
recorded in one transaction. Outside it (a direct `tracking.send`) each event is
recorded at once.
"""

import logging
from contextlib import contextmanager
from contextvars import ContextVar

from anymail.signals import inbound, tracking
from django.dispatch import receiver

from . import dsn, event_queue
from .esp_events import attempts_of, happening_from
from .event_batches import record_events
from .events import Happening
from .unsubscribe import unsubscribe_by_mail

logger = logging.getLogger(__name__)
_batch: ContextVar[list | None] = ContextVar("tracking_batch", default=None)


def record_tracking_events(pairs: list[tuple[object, str]], queue=False) -> int:
    """Apply Anymail events (with their ESP's name); the number recorded new.
    With `queue`, those that only count are queued where they can be, after the
    others are recorded (so these are stored before the ESP hears 200)."""
    items = _matched(pairs)
    if not queue:
        return record_events(items)
    counted, others = [], []
    for item in items:
        (counted if item[1].kind in event_queue.QUEUED_KINDS else others).append(item)
    recorded = record_events(others)
    if not event_queue.accept(counted):
        recorded += record_events(counted)
    return recorded


def _matched(pairs: list[tuple[object, str]]) -> list[tuple[int, Happening]]:
    """(attempt id, happening) for each event we record and whose email we sent."""
    wanted = [(e, esp, happening_from(e, esp)) for e, esp in pairs]
    wanted = [(e, esp, h) for e, esp, h in wanted if h is not None]
    items = []
    attempt_ids = attempts_of([e for e, _esp, _h in wanted])
    for (event, esp, happening), attempt_id in zip(wanted, attempt_ids, strict=True):
        if attempt_id is None:
            logger.info("%s %s event for an unknown message", esp, event.event_type)
        else:
            items.append((attempt_id, happening))
    return items


def record_tracking_event(event, esp_name: str) -> bool:
    """Apply one event; True if it was new."""
    return record_tracking_events([(event, esp_name)]) == 1


@contextmanager
def one_batch_per_request():
    """Collect the tracking events sent inside; record them on a clean exit."""
    batch: list = []
    token = _batch.set(batch)
    try:
        yield
    finally:
        _batch.reset(token)
    record_tracking_events(batch, queue=True)


@receiver(tracking)
def on_tracking_event(sender, event, esp_name, **kwargs):
    batch = _batch.get()
    if batch is None:
        record_tracking_event(event, esp_name)
    else:
        batch.append((event, esp_name))


@receiver(inbound)
def on_inbound_message(sender, event, esp_name, **kwargs):
    message = event.message
    if dsn.is_report(message):  # a bounce, to the return path (mailing.return_path)
        dsn.record_dsn(message, message.envelope_recipient or "")
    else:
        unsubscribe_by_mail(message)
