"""When mailings go out: slots in the site's time zone, and the scheduler pass."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import override_settings

from mailing import services
from mailing.models import Mailing, MailingRun
from mailing.scheduling import next_slot
from mailing.sending import pipeline
from tests.factories import make_client, make_mailing, make_user

BERLIN = ZoneInfo("Europe/Berlin")
berlin_time = override_settings(TIME_ZONE="Europe/Berlin")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def utc(moment: datetime) -> datetime:
    # Same-zone subtraction in Python ignores offsets: compare instants in UTC.
    return moment.astimezone(ZoneInfo("UTC"))


def schedule(first: datetime, periodicity: str, end_at=None) -> Mailing:
    """An unsaved mailing is enough for slot arithmetic."""
    return Mailing(first_send_at=first, periodicity=periodicity, end_at=end_at)


def slots(mailing: Mailing, count: int) -> list[datetime]:
    found, current = [mailing.first_send_at], mailing.first_send_at
    for _ in range(count - 1):
        current = next_slot(mailing, current)
        found.append(current)
    return [slot.astimezone(BERLIN) for slot in found]


@pytest.mark.smoke
@berlin_time
def test_daily_keeps_the_wall_clock_across_spring_forward():
    mailing = schedule(at(2026, 3, 28, 9, 0), Mailing.Periodicity.DAILY)
    first, second, third = slots(mailing, 3)

    assert [(s.day, s.hour, s.minute) for s in (first, second, third)] == [
        (28, 9, 0),
        (29, 9, 0),
        (30, 9, 0),
    ]
    # Local 09:00 is 08:00 UTC before the change and 07:00 UTC after it.
    assert utc(second) - utc(first) == timedelta(hours=23)
    assert first.utcoffset() == timedelta(hours=1)
    assert second.utcoffset() == timedelta(hours=2)


@berlin_time
def test_weekly_keeps_the_wall_clock_across_fall_back():
    mailing = schedule(at(2026, 10, 20, 18, 30), Mailing.Periodicity.WEEKLY)
    first, second = slots(mailing, 2)

    assert (second.month, second.day, second.hour, second.minute) == (10, 27, 18, 30)
    assert utc(second) - utc(first) == timedelta(days=7, hours=1)


@berlin_time
def test_monthly_clamps_to_short_months_and_returns_to_the_31st():
    mailing = schedule(at(2026, 12, 31, 10, 0), Mailing.Periodicity.MONTHLY)

    assert [(s.month, s.day, s.hour) for s in slots(mailing, 6)] == [
        (12, 31, 10),
        (1, 31, 10),
        (2, 28, 10),
        (3, 31, 10),  # back to the 31st, and across the DST change at 10:00 local
        (4, 30, 10),
        (5, 31, 10),
    ]


@berlin_time
def test_monthly_on_the_29th_in_a_leap_year():
    mailing = schedule(at(2028, 1, 29, 8, 0), Mailing.Periodicity.MONTHLY)

    assert [(s.month, s.day) for s in slots(mailing, 3)] == [(1, 29), (2, 29), (3, 29)]


@berlin_time
def test_slots_missed_while_nothing_ran_are_not_sent_one_by_one():
    mailing = schedule(at(2026, 1, 1, 9, 0), Mailing.Periodicity.DAILY)

    assert next_slot(mailing, at(2026, 2, 10, 12, 0)) == at(2026, 2, 11, 9, 0)


@berlin_time
def test_end_date_and_once_have_no_next_slot():
    ends = schedule(
        at(2026, 5, 1, 9, 0), Mailing.Periodicity.DAILY, end_at=at(2026, 5, 2, 12, 0)
    )

    assert next_slot(ends, at(2026, 5, 1, 9, 0)) == at(2026, 5, 2, 9, 0)
    assert next_slot(ends, at(2026, 5, 2, 9, 0)) is None
    once = schedule(at(2026, 5, 1, 9, 0), Mailing.Periodicity.ONCE)
    assert next_slot(once, at(2026, 5, 1, 9, 0)) is None


# --- The scheduler pass ------------------------------------------------------------

pass_db = pytest.mark.django_db


def due_mailing(**fields) -> Mailing:
    owner = fields.pop("owner", None) or make_user()
    first = fields.pop("first", at(2026, 6, 1, 9, 0))
    return make_mailing(
        owner,
        clients=[make_client(owner), make_client(owner)],
        first_send_at=first,
        next_send_at=first,
        **fields,
    )


@pass_db
@berlin_time
def test_the_task_firing_twice_opens_exactly_one_run_per_slot():
    mailing = due_mailing(periodicity=Mailing.Periodicity.DAILY)

    with time_machine.travel(at(2026, 6, 1, 9, 0, 30), tick=False):
        first_pass = services.open_scheduled_runs(at(2026, 6, 1, 9, 0, 30))
        second_pass = services.open_scheduled_runs(at(2026, 6, 1, 9, 0, 40))

    assert len(first_pass) == 1 and second_pass == []
    run = MailingRun.objects.get()
    assert (run.kind, run.slot, run.total) == ("scheduled", at(2026, 6, 1, 9, 0), 2)
    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.RUNNING
    assert mailing.next_send_at == at(2026, 6, 2, 9, 0)


@pass_db
@berlin_time
def test_two_schedulers_that_read_the_same_row_open_one_run():
    mailing = due_mailing(periodicity=Mailing.Periodicity.WEEKLY)
    stale_copy = Mailing.objects.get(pk=mailing.pk)
    now = at(2026, 6, 1, 9, 1)

    assert services._open_scheduled_run(mailing, now) is not None
    assert services._open_scheduled_run(stale_copy, now) is None
    assert MailingRun.objects.count() == 1


@pass_db
@berlin_time
def test_a_unique_slot_stops_a_second_run_even_past_the_schedule_check():
    mailing = due_mailing(periodicity=Mailing.Periodicity.DAILY)
    services.open_run(mailing, MailingRun.Kind.SCHEDULED, mailing.next_send_at)

    assert services._open_scheduled_run(mailing, at(2026, 6, 1, 9, 1)) is None
    assert MailingRun.objects.count() == 1
    mailing.refresh_from_db()
    # The slot has its run: the schedule moves on rather than retrying it forever.
    assert mailing.next_send_at == at(2026, 6, 2, 9, 0)


@pass_db
@berlin_time
def test_next_day_opens_the_next_slot():
    due_mailing(periodicity=Mailing.Periodicity.DAILY)

    services.open_scheduled_runs(at(2026, 6, 1, 9, 0))
    services.open_scheduled_runs(at(2026, 6, 1, 23, 0))
    services.open_scheduled_runs(at(2026, 6, 2, 9, 0))

    assert list(MailingRun.objects.order_by("slot").values_list("slot", flat=True)) == [
        at(2026, 6, 1, 9, 0),
        at(2026, 6, 2, 9, 0),
    ]


@pass_db
@berlin_time
def test_disabled_mailings_and_blocked_owners_are_skipped():
    due_mailing(is_enabled=False)
    due_mailing(owner=make_user(is_blocked=True))
    due_mailing(owner=make_user(is_active=False))
    later = due_mailing(first=at(2026, 6, 1, 10, 0))

    assert services.open_scheduled_runs(at(2026, 6, 1, 9, 30)) == []
    assert MailingRun.objects.count() == 0
    assert [r.mailing for r in services.open_scheduled_runs(at(2026, 6, 1, 10, 0))] == [
        later
    ]


@pass_db
@berlin_time
def test_a_once_mailing_finishes_after_its_run():
    mailing = due_mailing(periodicity=Mailing.Periodicity.ONCE)

    (run,) = services.open_scheduled_runs(at(2026, 6, 1, 9, 0))
    mailing.refresh_from_db()
    assert (mailing.status, mailing.next_send_at) == ("running", None)

    pipeline.send_run(run.pk)
    mailing.refresh_from_db()
    run.refresh_from_db()
    assert run.status == MailingRun.Status.FINISHED and run.sent_count == 2
    assert mailing.status == Mailing.Status.FINISHED


@pass_db
@berlin_time
def test_past_the_end_date_finishes_without_sending():
    mailing = due_mailing(
        periodicity=Mailing.Periodicity.DAILY, end_at=at(2026, 5, 31, 0, 0)
    )

    assert services.open_scheduled_runs(at(2026, 6, 1, 9, 0)) == []
    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.FINISHED
    assert not MailingRun.objects.exists()


@pass_db
@berlin_time
def test_the_periodic_task_runs_the_pass_at_the_current_time():
    from mailing.tasks import schedule_due_mailings

    due_mailing(periodicity=Mailing.Periodicity.DAILY)
    with time_machine.travel(at(2026, 6, 1, 9, 0, 5), tick=False):
        schedule_due_mailings.call_local()
        schedule_due_mailings.call_local()

    assert MailingRun.objects.count() == 1
