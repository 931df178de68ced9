"""Consumer leases at the service level (issue 18): claimed vs sending, lapse, fencing.

Runs on SQLite and PostgreSQL alike (outbox.exchange has a path for each).
"""

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from wagtail.users.models import UserProfile

from mailing import control, services
from mailing.models import (
    Attempt,
    ConsumerLease,
    Event,
    MailingRun,
    RunHourCounts,
    Suppression,
)
from mailing.sending import leases, pipeline
from mailing.sending.delivery import Outcome
from mailing.sending.outbox import exchange
from tests.factories import make_client, make_mailing, make_user

from .smtp_servers import smtp_server

pytestmark = pytest.mark.django_db

ROW = Attempt.Status


def opened(count: int = 6) -> MailingRun:
    owner = make_user()
    clients = [make_client(owner) for _ in range(count)]
    mailing = make_mailing(owner, clients=clients)
    return services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())


def statuses(run: MailingRun) -> Counter:
    return Counter(run.attempts.values_list("status", flat=True))


def claimed_under(run: MailingRun) -> set[int]:
    return set(run.attempts.filter(status=ROW.CLAIMED).values_list("lease", flat=True))


def sent(rows) -> list[Outcome]:
    return [Outcome(pk, tries, True, False, "250 OK") for pk, tries, *_rest in rows]


def lapse(lease_id: int) -> None:
    past = timezone.now() - timedelta(seconds=1)
    ConsumerLease.objects.filter(pk=lease_id).update(expires_at=past)


def test_rows_are_claimed_ahead_and_sending_only_once_handed_over():
    run = opened(6)
    lease = leases.acquire(timezone.now())

    ahead = exchange(run.pk, lease, timezone.now(), size=4).claimed
    assert statuses(run) == {ROW.CLAIMED: 4, ROW.PENDING: 2}
    assert set(
        run.attempts.filter(status=ROW.CLAIMED).values_list("lease", flat=True)
    ) == {lease}

    swap = exchange(run.pk, lease, timezone.now(), hand_over=ahead, size=2)
    assert swap.handed == ahead and len(swap.claimed) == 2
    assert statuses(run) == {ROW.SENDING: 4, ROW.CLAIMED: 2}

    exchange(run.pk, lease, timezone.now(), settle=sent(swap.handed))
    run.refresh_from_db()
    assert statuses(run) == {ROW.SUCCESS: 4, ROW.CLAIMED: 2}
    assert run.sent_count == 4


def test_a_group_for_a_free_connection_goes_straight_to_sending_in_one_exchange():
    """pipeline._pump's claim: one write per row before its send (no claim ahead
    and hand-over), the last group's results recorded in the same statement."""
    run = opened(6)
    lease = leases.acquire(timezone.now())

    first = exchange(run.pk, lease, timezone.now(), size=4, to_wire=True).claimed
    assert statuses(run) == {ROW.SENDING: 4, ROW.PENDING: 2}
    assert set(
        run.attempts.filter(status=ROW.SENDING).values_list("lease", flat=True)
    ) == {lease}

    now = timezone.now()
    swap = exchange(run.pk, lease, now, settle=sent(first), size=4, to_wire=True)
    assert len(swap.claimed) == 2 and not {r[0] for r in swap.claimed} & {
        r[0] for r in first
    }
    run.refresh_from_db()
    assert statuses(run) == {ROW.SUCCESS: 4, ROW.SENDING: 2}
    assert run.sent_count == 4


def test_a_lapsed_lease_flags_its_groups_on_the_wire_and_returns_nothing_else():
    run = opened(6)
    lease = leases.acquire(timezone.now())
    exchange(run.pk, lease, timezone.now(), size=2, to_wire=True)
    lapse(lease)

    report = services.sweep_stalled_runs(timezone.now())

    assert (report["unknown"], report["returned"]) == (2, 0)
    run.refresh_from_db()  # re-enqueued inline: the rest was sent
    assert statuses(run) == {ROW.UNKNOWN: 2, ROW.SUCCESS: 4}
    assert services.run_done(run) == run.total == 6


def test_a_lapsed_lease_returns_its_claimed_rows_and_flags_only_those_on_the_wire():
    run = opened(6)
    lease = leases.acquire(timezone.now())
    ahead = exchange(run.pk, lease, timezone.now(), size=3).claimed
    exchange(run.pk, lease, timezone.now(), hand_over=ahead, size=3)
    lapse(lease)

    report = services.sweep_stalled_runs(timezone.now())

    assert (report["unknown"], report["returned"]) == (3, 3)
    # The sweeper re-enqueued the run (Huey runs inline in tests): the returned
    # rows were sent, the unknown ones never again.
    run.refresh_from_db()
    assert statuses(run) == {ROW.UNKNOWN: 3, ROW.SUCCESS: 3}
    assert (run.status, run.sent_count, run.unknown_count) == ("finished", 3, 3)
    assert services.run_done(run) == run.total == 6
    returned = run.attempts.filter(status=ROW.SUCCESS)
    assert set(returned.values_list("tries", flat=True)) == {1}  # not counted twice
    assert not ConsumerLease.objects.exists()


def test_a_consumer_whose_lease_was_taken_writes_and_sends_nothing():
    run = opened(4)
    stale = leases.acquire(timezone.now())
    on_wire = exchange(run.pk, stale, timezone.now(), size=2).claimed
    exchange(run.pk, stale, timezone.now(), hand_over=on_wire)
    ahead = exchange(run.pk, stale, timezone.now(), size=2).claimed
    lapse(stale)
    leases.reap_lapsed(timezone.now())
    fresh = leases.acquire(timezone.now())
    taken = exchange(run.pk, fresh, timezone.now(), size=10).claimed
    assert [row[0] for row in taken] == [row[0] for row in ahead]

    # The stale consumer wakes up: results (one a refusal for good), a hand-over
    # and a claim, all fenced.
    (refused_id, refused_tries, *_rest), *rest_on_wire = on_wire
    refused = Outcome(refused_id, refused_tries, False, False, "550 no such user")
    refused.hard_bounce = True
    late = [refused, *sent(rest_on_wire), *sent(ahead)]
    swap = exchange(run.pk, stale, timezone.now(), late, hand_over=ahead, size=10)

    assert swap.handed == [] and swap.claimed == []
    assert not leases.renew(stale, timezone.now())
    run.refresh_from_db()
    assert statuses(run) == {ROW.UNKNOWN: 2, ROW.CLAIMED: 2}
    assert (run.sent_count, run.unknown_count) == (0, 2)
    assert set(
        run.attempts.filter(status=ROW.CLAIMED).values_list("lease", flat=True)
    ) == {fresh}
    # Nothing of the late results reaches the timeline, the events or the list.
    assert not RunHourCounts.objects.filter(run=run, sends__gt=0).exists()
    assert not Event.objects.filter(attempt__run=run).exists()
    assert not Suppression.objects.exists()


def test_a_live_lease_is_renewed_and_never_reaped():
    run = opened(2)
    lease = leases.acquire(timezone.now())
    exchange(run.pk, lease, timezone.now(), size=2)
    later = timezone.now() + timedelta(seconds=20)

    assert leases.renew(lease, later)  # a slow server: the main thread still beats
    assert leases.reap_lapsed(later + timedelta(seconds=15))["returned"] == 0
    assert statuses(run) == {ROW.CLAIMED: 2}


def test_the_hand_over_rechecks_the_run_and_returns_what_may_not_go():
    run = opened(4)
    lease = leases.acquire(timezone.now())
    ahead = exchange(run.pk, lease, timezone.now(), size=4).claimed
    control.pause_mailing(run.mailing)

    swap = exchange(run.pk, lease, timezone.now(), hand_over=ahead)

    assert swap.handed == []
    assert statuses(run) == {ROW.PENDING: 4}
    assert set(run.attempts.values_list("tries", flat=True)) == {0}


def test_cancel_takes_the_claimed_rows_too():
    run = opened(4)
    lease = leases.acquire(timezone.now())
    ahead = exchange(run.pk, lease, timezone.now(), size=2).claimed
    control.cancel_run(run)

    assert exchange(run.pk, lease, timezone.now(), hand_over=ahead).handed == []
    run.refresh_from_db()
    assert statuses(run) == {ROW.CANCELLED: 4}
    assert services.run_done(run) == run.cancelled_count == 4


def test_rows_of_a_stalled_lease_are_shown_waiting_for_it_to_lapse():
    run = opened(3)
    lease = leases.acquire(timezone.now())
    exchange(run.pk, lease, timezone.now(), size=3)
    assert leases.waiting_for_lapse(run.pk, timezone.now())["count"] == 0

    quiet = timezone.now() + timedelta(seconds=12)  # missed two heartbeats
    waiting = leases.waiting_for_lapse(run.pk, quiet)

    assert waiting["count"] == 3
    assert waiting["until"] == ConsumerLease.objects.get().expires_at


def test_the_admin_shows_held_and_unknown_rows_and_the_totals_add_up(client):
    run = opened(6)
    dead = leases.acquire(timezone.now())
    ahead = exchange(run.pk, dead, timezone.now(), size=2).claimed
    exchange(run.pk, dead, timezone.now(), hand_over=ahead, size=2)
    lapse(dead)
    leases.reap_lapsed(timezone.now())  # 2 unknown, 2 back to pending
    stalled = leases.acquire(timezone.now())
    exchange(run.pk, stalled, timezone.now(), size=3)
    quiet = timezone.now() - timedelta(seconds=12)
    ConsumerLease.objects.filter(pk=stalled).update(heartbeat_at=quiet)
    owner = run.mailing.owner
    profile = UserProfile.get_for_user(owner)
    profile.preferred_language = "en"
    profile.save()
    client.force_login(owner)
    en = {"accept-language": "en"}

    page = client.get(
        reverse("mailing_mailing:inspect", args=[run.mailing_id]), headers=en
    ).content.decode()
    report = client.get(
        reverse("mailing_mailing:report", args=[run.mailing_id]), headers=en
    ).content.decode()

    progress = services.run_progress(run.mailing)
    assert (progress["unknown"], progress["held"], progress["done"]) == (2, 3, 2)
    assert "2 recipients are unknown" in page and "#unknown" in page
    assert "3 recipients are held by a consumer that stopped answering" in page
    assert '<progress max="100" value="33"' in page  # 2 of 6: unknown is settled
    assert 'data-testid="run-unknown">2<' in report
    assert 'data-testid="run-held">3<' in report
    assert 'data-testid="resend-unknown"' in report  # the existing offer
    client.force_login(make_user())
    foreign = client.get(reverse("mailing_mailing:report", args=[run.mailing_id]))
    assert foreign.status_code in (302, 403, 404)


class SlowServer:
    """Takes longer over each email than a whole lease lasts."""

    def __init__(self, seconds: float):
        self.seconds, self.received = seconds, 0

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.seconds)
        self.received += 1
        return "250 OK"


def test_a_slow_mail_server_does_not_cost_a_live_consumer_its_lease(settings):
    settings.EMAIL_BACKEND = "mailing.sending.smtp.EmailBackend"
    settings.SENDING_LEASE_SECONDS, settings.SENDING_LEASE_HEARTBEAT = 1, 0.2
    settings.SENDING_CONCURRENCY, settings.SENDING_BATCH_SIZE = 1, 2
    run = opened(2)
    server = SlowServer(seconds=1.5)
    with smtp_server(server) as port:
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        pipeline.send_run(run.pk)

    run.refresh_from_db()
    assert server.received == 2
    assert statuses(run) == {ROW.SUCCESS: 2}
    assert (run.status, run.sent_count, run.unknown_count) == ("finished", 2, 0)
