"""What the demo's recipients did with its past mailings: deliveries, bounces, opens
and clicks (people's and machines'), the odd unsubscribe and complaint.

Written as Event rows and counted by `rebuild_counters`, the rollups' own recount:
no suppression or unsubscription follows, so the demo's clients stay subscribed and
its mailings keep sending. Each open and click gets its verdict from the real rules
(mailing.classification), from requests shaped like each kind of visitor's.
"""

import random
from collections import defaultdict
from datetime import timedelta

from .classification import Hit, classify
from .counters import SMTP_SOURCE, rebuild_counters
from .events import TRANSITIONS
from .models import Attempt, Event

Kind = Event.Kind
# (user agent, address) of a person, Apple's privacy proxy and a security gateway.
PERSON = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0 Safari/537.36",
    "203.0.113.7",
)
APPLE_PROXY = ("Mozilla/5.0", "17.58.63.10")
SCANNER = ("Mozilla/5.0 (compatible; Barracuda Sentinel)", "198.51.100.9")
# Most ESPs report most deliveries; the rest stay "sent" as the server accepted them.
DELIVERY_REPORTED = 0.95
DEMO_LINK = "https://vestnik.example/blog/?utm_source=vestnik&utm_medium=email"


def _event(attempt: Attempt, kind: str, at, index: int, **fields) -> Event:
    return Event(
        attempt=attempt,
        kind=kind,
        at=at,
        source=fields.pop("source", "demo"),
        dedupe_key=f"demo|{kind}|{index}",
        **fields,
    )


def _hit(attempt: Attempt, kind: str, at, visitor: tuple, index: int) -> Event:
    agent, ip = visitor
    verdict, reason = classify(
        Hit(kind=kind, user_agent=agent, ip=ip, at=at, sent_at=attempt.attempted_at)
    )
    url = DEMO_LINK if kind == Kind.CLICKED else ""
    return _event(
        attempt, kind, at, index, source="pixel" if kind == Kind.OPENED else "redirect",
        url=url, user_agent=agent, ip=ip, verdict=verdict, verdict_reason=reason,
    )  # fmt: skip


def _engagement(attempt: Attempt, rng: random.Random, reader: bool) -> list[Event]:
    sent = attempt.attempted_at
    found = []
    if rng.random() < 0.25:  # Apple Mail fetches the pixel soon after delivery
        found.append(
            (Kind.OPENED, sent + timedelta(minutes=rng.randint(1, 30)), APPLE_PROXY)
        )
    if rng.random() < 0.1:  # a gateway follows the link within seconds
        found.append((Kind.CLICKED, sent + timedelta(seconds=3), SCANNER))
    if reader or rng.random() < 0.5:  # a person, some time in the next two days
        opened = sent + timedelta(minutes=rng.randint(10, 47 * 60))
        found.append((Kind.OPENED, opened, PERSON))
        if rng.random() < 0.4:
            found.append((Kind.CLICKED, opened + timedelta(minutes=1), PERSON))
    return [_hit(attempt, *hit, index) for index, hit in enumerate(found)]


def attempt_events(
    attempt: Attempt, rng: random.Random, reader: bool = False
) -> list[Event]:
    """The events one demo attempt would have drawn; a `reader` opens it."""
    sent = attempt.attempted_at
    if attempt.status == Attempt.Status.BOUNCED:  # a 5xx to RCPT TO: a hard bounce
        return [
            _event(attempt, Kind.HARD_BOUNCE, sent, 0, source=SMTP_SOURCE,
                   description=attempt.server_response)
        ]  # fmt: skip
    if attempt.status != Attempt.Status.SUCCESS:
        return []
    events = []
    if rng.random() < DELIVERY_REPORTED:
        events.append(_event(attempt, Kind.DELIVERED, sent + timedelta(seconds=2), 0))
    events += _engagement(attempt, rng, reader)
    roll, later = rng.random(), sent + timedelta(hours=rng.randint(1, 40))
    if roll < 0.02:
        events.append(_event(attempt, Kind.UNSUBSCRIBED, later, 0))
    elif roll < 0.025:
        events.append(_event(attempt, Kind.COMPLAINED, later, 0))
    return events


def seed_engagement(run_ids: list[int], rng: random.Random) -> int:
    """Events for these demo runs' attempts, then their counters; how many events."""
    attempts = Attempt.objects.filter(run_id__in=run_ids).order_by("pk")
    # A few recipients a run: one sure reader keeps each run's timeline from
    # showing no opens at all.
    read, events = set(), []
    for attempt in attempts:
        reader = attempt.run_id not in read and attempt.status == Attempt.Status.SUCCESS
        if reader:
            read.add(attempt.run_id)
        events += attempt_events(attempt, rng, reader)
    Event.objects.bulk_create(events, batch_size=2000)
    settle_statuses(attempts, events)
    rebuild_counters(run_ids)


def settle_statuses(attempts, events: list[Event]) -> None:
    """Each attempt's status as its events, recorded one by one, would leave it
    (a reported delivery, a complaint: mailing.events.TRANSITIONS)."""
    statuses = dict(attempts.values_list("pk", "status"))
    for event in sorted(events, key=lambda event: event.at):
        status, replaces = TRANSITIONS.get(event.kind, (None, ()))
        if status and statuses[event.attempt_id] in replaces:
            statuses[event.attempt_id] = status
    moved = defaultdict(list)
    for pk, status in statuses.items():
        moved[status].append(pk)
    for status, pks in moved.items():
        Attempt.objects.filter(pk__in=pks).exclude(status=status).update(status=status)
    return len(events)
