"""Run and day counters kept with each event equal a rebuild from the events,
after a random mix of events (kinds, verdicts, days, duplicates)."""

import random
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from mailing.events import Happening, record_event
from mailing.models import Event, MailingRun, RunDayCounts
from mailing.services import open_run
from tests.factories import make_client, make_mailing, make_user

pytestmark = pytest.mark.django_db

AGENTS = ["Mozilla/5.0", "python-requests/2.31", "Mozilla/5.0 (X11) Firefox/128.0"]


def snapshot() -> list[tuple]:
    fields = ["run_id", "day", *[f.name for f in RunDayCounts._meta.fields[3:]]]
    return sorted(RunDayCounts.objects.values_list(*fields))


def test_counters_equal_the_rebuild_after_a_random_mix():
    rng = random.Random(17)
    owner = make_user()
    attempts = []
    for _ in range(2):
        mailing = make_mailing(owner, clients=[make_client(owner) for _ in range(4)])
        run = open_run(mailing, MailingRun.Kind.MANUAL, mailing.first_send_at)
        attempts += list(run.attempts.values_list("pk", flat=True))
    now = timezone.now()
    for _ in range(150):
        kind = rng.choice(Event.Kind.values)
        at = now - timedelta(days=rng.randrange(3), minutes=rng.randrange(600))
        happening = Happening(
            kind=kind,
            source=rng.choice(["postmark", "pixel"]),
            at=at,
            esp_event_id=str(rng.randrange(120)),  # some arrive twice
            url=f"https://example.org/{rng.randrange(3)}",
            user_agent=rng.choice(AGENTS),
        )
        record_event(rng.choice(attempts), happening)
    incremental = snapshot()
    stored = Event.objects.count()

    call_command("rebuild_counters", verbosity=0)

    assert stored > 50 and len(incremental) > 2
    assert snapshot() == incremental
    totals = [sum(row[2:]) for row in incremental]
    human = Event.objects.filter(verdict=Event.Verdict.HUMAN).count()
    assert sum(totals) == stored + human  # each event once, human ones twice
