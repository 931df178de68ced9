"""SMTP hard bounces at send time: a recipient's server answered RCPT TO with a
5xx. Over an ESP the ESP reports such a bounce by webhook; over plain SMTP the
refusal is the only report there will be, so it becomes the same event (kind
hard bounce, source "smtp") with the same effects: the address is suppressed for
its owner and the rollups count it.

Counted once: the attempt stays `failure` (it was never sent, the run's
failed_count has it) and its event is a hard bounce counted also in the rollup
column `send_bounces`; the reports take those out of "failed" and put them in
"bounced" (mailing.rollups.with_rates, admin_reports.outcomes).
"""

from __future__ import annotations

from .counters import SMTP_SOURCE
from .event_batches import record_events
from .events import Happening, Kind
from .sending.outcome import Outcome


def record_send_bounces(outcomes: list[Outcome]) -> int:
    """Record the hard bounces among settled outcomes; the number new. Called
    after the outcomes are committed; an attempt has at most one (no timestamp in
    its deduplication key), so a retried call adds nothing."""
    items = [
        (outcome.attempt_id, Happening(
            kind=Kind.HARD_BOUNCE, source=SMTP_SOURCE, description=outcome.response
        ))
        for outcome in outcomes
        if outcome.hard_bounce and not outcome.ok and not outcome.transient
    ]  # fmt: skip
    return record_events(items)
