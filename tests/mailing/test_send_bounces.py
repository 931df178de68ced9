"""Over plain SMTP, a 5xx reply to RCPT TO is a hard bounce: an event (source
smtp) counted in the rollups, the address suppressed like an ESP's hard bounce,
and the report counts the row once (a bounce, not also a failure)."""

import pytest
from django.test import override_settings
from django.utils import timezone

from mailing import services
from mailing.admin_reports import outcomes
from mailing.counters import rebuild_counters
from mailing.models import Attempt, Client, Event, MailingRun, RunDayCounts
from mailing.rollups import mailing_figures
from mailing.sending import pipeline
from mailing.suppression import address_hash
from tests.factories import make_client, make_mailing, make_user, recipients_of

from .smtp_servers import RecordingHandler, smtp_server, smtp_settings

pytestmark = pytest.mark.django_db


def test_a_5xx_at_rcpt_is_a_hard_bounce_counted_once(pipelining):
    owner = make_user()
    mailing = make_mailing(owner, clients=[make_client(owner) for _ in range(4)])
    gone, busy, *good = list(recipients_of(mailing).order_by("pk"))
    handler = RecordingHandler(
        refuse={
            gone.email: "550 5.1.1 No such user here",
            busy.email: "450 4.2.1 Mailbox busy, try later",
        }
    )
    with (
        smtp_server(handler, pipelining) as port,
        override_settings(**smtp_settings(port), SENDING_MAX_TRIES=2),
    ):
        run = services.open_run(mailing, MailingRun.Kind.MANUAL, timezone.now())
        pipeline.send_run(run.pk)
    run.refresh_from_db()
    assert (run.sent_count, run.failed_count) == (2, 2)

    bounce = Event.objects.get(kind=Event.Kind.HARD_BOUNCE)
    assert bounce.attempt.client_id == gone.pk and bounce.source == "smtp"
    assert bounce.description == "550 5.1.1 No such user here"
    assert bounce.attempt.status == Attempt.Status.FAILURE
    assert Client.objects.get(pk=gone.pk).suppressed_reason
    assert owner.suppressions.filter(address_hash=address_hash(gone.email)).exists()
    # A 4xx, even when it ends the row for good, says nothing about the address.
    assert not Client.objects.get(pk=busy.pk).suppressed_reason

    figures = mailing_figures(mailing)
    assert (figures["hard_bounces"], figures["send_bounces"]) == (1, 1)
    assert (figures["failed"], figures["bounces"]) == (1, 1)  # not 2 and 1
    assert figures["bounce_rate"] == round(100 * 1 / 3, 2)  # of the 3 tried
    counts = outcomes(figures)
    assert (counts["succeeded"], counts["failed"]) == (2, 2)

    incremental = list(RunDayCounts.objects.values())
    rebuild_counters()
    assert list(RunDayCounts.objects.values()) == [
        {**row, "id": new["id"]} for row, new in
        zip(incremental, RunDayCounts.objects.values(), strict=True)
    ]  # fmt: skip
