"""Recording what happened to sent emails: one Event row per ESP tracking event,
pixel open or redirected click, with its effects (the attempt's status,
suppression, unsubscription) in the same transaction, so they never drift.

An ESP may deliver an event twice: the second finds the same deduplication key
and changes nothing. A later, weaker event (delivered after bounced) never
overwrites a stronger status.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import event_statement
from .classification import Hit, agents, classify
from .counters import bump
from .models import Attempt, Client, Event, TrackedLink
from .suppression import Reason, suppress_client
from .unsubscribe import unsubscribe_client

HARD_BOUNCE, COMPLAINT = Reason.HARD_BOUNCE, Reason.COMPLAINT

logger = logging.getLogger(__name__)

Kind, Status = Event.Kind, Attempt.Status
SENT = [Status.SENDING, Status.SUCCESS, Status.UNKNOWN]
# Event kind -> the attempt status it sets, and the statuses it may replace.
TRANSITIONS = {
    Kind.DELIVERED: (Status.DELIVERED, SENT),
    Kind.HARD_BOUNCE: (Status.BOUNCED, [*SENT, Status.DELIVERED]),
    Kind.SOFT_BOUNCE: (Status.BOUNCED, [*SENT, Status.DELIVERED]),
    Kind.COMPLAINED: (Status.COMPLAINED, [*SENT, Status.DELIVERED, Status.BOUNCED]),
}
# Kinds that change no client: a figure, a status (mailing.event_statement).
COUNTED_ONLY = {Kind.DELIVERED, Kind.OPENED, Kind.CLICKED, Kind.DEFERRED}
UNCLASSIFIED_COUNTED = {Kind.DELIVERED, Kind.DEFERRED}  # stored without a lookup
# Repeated soft bounces suppress: a mailbox full for a month is as good as gone.
SOFT_BOUNCES_TO_SUPPRESS = 3
SOFT_BOUNCE_WINDOW = timedelta(days=30)


TEXT_FIELDS = (
    *("source", "esp_event_id", "description", "reject_reason", "url"),
    *("user_agent", "verdict_reason", "extra_key"),
)


@dataclass
class Happening:
    """One event before it is stored, whoever saw it (an ESP, the pixel, a click)."""

    kind: str
    source: str
    at: datetime | None = None
    esp_event_id: str = ""
    description: str = ""
    reject_reason: str = ""
    url: str = ""
    user_agent: str = ""
    ip: str | None = None
    verdict: str = ""
    verdict_reason: str = ""
    extra_key: str = field(default="", repr=False)  # what else tells two apart
    # When Vestnik took it in: the time of an event that names none, also when it
    # is stored later (mailing.event_queue). Not in the deduplication key, as `at`
    # is not when the ESP left it out: a retried post must find the first.
    received_at: datetime | None = None
    # Signs for classification that are not stored as such.
    head_first: bool = False
    esp_says_proxy: bool = False

    def __post_init__(self):
        # PostgreSQL's text columns refuse NUL, and what an ESP, a receiving
        # server or a browser says may carry one: a 500 the ESP posted again and
        # again, a queued open failing in every batch. Dropped here, whoever saw it.
        for name in TEXT_FIELDS:
            value = getattr(self, name)
            if value and "\x00" in value:
                setattr(self, name, value.replace("\x00", ""))

    def dedupe_key(self) -> str:
        if self.esp_event_id:
            seed = f"{self.source}|id|{self.esp_event_id}"
        else:
            when = self.at.isoformat() if self.at else ""
            seed = f"{self.source}|{self.kind}|{when}|{self.url}|{self.extra_key}"
        return hashlib.sha256(seed.encode()).hexdigest()


def record_event(attempt_id: int, happening: Happening) -> Event | None:
    """Store the event and apply it; None if it was already recorded."""
    key = happening.dedupe_key()  # before `at` is filled in: a retry has none either
    if happening.kind in UNCLASSIFIED_COUNTED and event_statement.usable():
        happening.at = happening.at or happening.received_at or timezone.now()
        return _store_counted(attempt_id, happening, key)  # no lookup needed first
    row = (
        Attempt.objects.filter(pk=attempt_id)
        .values_list("client_id", "run_id", "attempted_at")
        .first()
    )
    if row is None:
        return None
    client_id, run_id, sent_at = row
    happening.at = happening.at or happening.received_at or timezone.now()
    if happening.kind in (Kind.OPENED, Kind.CLICKED) and not happening.verdict:
        hit = _hit(attempt_id, run_id, sent_at, happening)
        happening.verdict, happening.verdict_reason = classify(hit)
    if happening.kind in COUNTED_ONLY and event_statement.usable():
        return _store_counted(attempt_id, happening, key)
    try:
        with transaction.atomic():
            event = _insert(attempt_id, happening, key)
            _apply(event, client_id)
            bump(run_id, event)
    except IntegrityError:
        return None  # the same event again
    return event


def _store_counted(attempt_id: int, happening: Happening, key: str) -> Event | None:
    event = new_event(attempt_id, happening, key)
    return event if event_statement.store(event, TRANSITIONS.get(event.kind)) else None


def _hit(
    attempt_id: int, run_id: int, sent_at, happening: Happening, earlier=()
) -> Hit:
    """`earlier`: (url, at) of clicks on this attempt not stored yet (a batch)."""
    together, links = 1, 0
    if happening.kind == Kind.CLICKED and happening.url:
        links = TrackedLink.objects.filter(run_id=run_id).count()
        since = happening.at - agents().all_links
        urls = set(
            Event.objects.filter(
                attempt_id=attempt_id, kind=Kind.CLICKED, at__gte=since
            ).values_list("url", flat=True)
        )
        urls |= {url for url, at in earlier if since <= at <= happening.at}
        together = len(urls | {happening.url})
    return Hit(
        kind=happening.kind,
        user_agent=happening.user_agent,
        ip=happening.ip,
        at=happening.at,
        sent_at=sent_at,
        head_first=happening.head_first,
        links_clicked_together=together,
        links_in_email=links,
        esp_says_proxy=happening.esp_says_proxy,
    )


def _insert(attempt_id: int, happening: Happening, key: str) -> Event:
    event = new_event(attempt_id, happening, key)
    event.save(force_insert=True)
    return event


def new_event(attempt_id: int, happening: Happening, key: str) -> Event:
    """The unsaved row of a happening."""
    return Event(**event_values(attempt_id, happening, key))


def event_values(attempt_id: int, happening: Happening, key: str) -> dict:
    """The columns of a happening's row (mailing.event_batches inserts many
    without building a model instance each)."""
    return {
        "attempt_id": attempt_id,
        "kind": happening.kind,
        "at": happening.at or timezone.now(),
        "source": happening.source[:32],
        "esp_event_id": happening.esp_event_id[:255],
        "dedupe_key": key,
        "description": happening.description[:2000],
        "reject_reason": happening.reject_reason[:32],
        "url": happening.url[:4000],
        "user_agent": happening.user_agent[:1000],
        "ip": happening.ip or None,
        "verdict": happening.verdict,
        "verdict_reason": happening.verdict_reason[:255],
    }


def _apply(event: Event, client_id: int) -> None:
    if event.kind in TRANSITIONS:
        status, replaces = TRANSITIONS[event.kind]
        Attempt.objects.filter(pk=event.attempt_id, status__in=replaces).update(
            status=status,
            server_response=f"{event.source}: {event.description}"[:2000],
        )
    apply_to_client(event, client_id)


def apply_to_client(event: Event, client_id: int) -> None:
    """Suppression and unsubscription: what an event does beyond its attempt."""
    reason = _suppression_reason(event.kind, client_id)
    if reason:
        kind = COMPLAINT if event.kind == Kind.COMPLAINED else HARD_BOUNCE
        suppress(client_id, f"{reason}: {event.description}", kind)
    if event.kind == Kind.UNSUBSCRIBED:
        unsubscribe_client(client_id, at=event.at)


def _suppression_reason(kind: str, client_id: int) -> str:
    if kind == Kind.HARD_BOUNCE:
        return _("hard bounce")
    if kind == Kind.COMPLAINED:
        return _("spam complaint")
    if kind == Kind.SOFT_BOUNCE:
        if _recent_soft_bounces(client_id) >= SOFT_BOUNCES_TO_SUPPRESS:
            return _("repeated soft bounces")
    return ""


def suppress(client_id: int, reason: str, kind: str = HARD_BOUNCE) -> None:
    # The client row belongs to one owner: suppression is per owner, and kept by
    # address on the owner's list so that it outlives the client (issue 12).
    Client.objects.filter(pk=client_id, suppressed_reason="").update(
        suppressed_reason=reason[:255]
    )
    suppress_client(client_id, kind, reason)


def _recent_soft_bounces(client_id: int) -> int:
    return Event.objects.filter(
        attempt__client_id=client_id,
        kind=Kind.SOFT_BOUNCE,
        at__gt=timezone.now() - SOFT_BOUNCE_WINDOW,
    ).count()
