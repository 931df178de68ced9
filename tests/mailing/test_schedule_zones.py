"""Schedules in the owner's time zone (Wagtail's account preference), whatever the
site's zone: wall-clock across both DST changes in two zones, month-end clamping,
and a zone without DST that stays put."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import override_settings
from wagtail.users.models import UserProfile

from mailing import services
from mailing.models import Mailing, MailingRun
from mailing.scheduling import next_slot
from tests.factories import make_client, make_mailing, make_user

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
MOSCOW = ZoneInfo("Europe/Moscow")
UTC = ZoneInfo("UTC")
# The site's clock is another zone in every test: schedules must not follow it.
site_in_moscow = override_settings(TIME_ZONE="Europe/Moscow")
site_in_tokyo = override_settings(TIME_ZONE="Asia/Tokyo")


def owner_in(zone: ZoneInfo | None):
    owner = make_user()
    if zone is not None:
        UserProfile.objects.update_or_create(
            user=owner, defaults={"current_time_zone": zone.key}
        )
    return owner


def mailing_of(owner, first: datetime, periodicity: str, **fields) -> Mailing:
    return make_mailing(
        owner,
        clients=[make_client(owner)],
        first_send_at=first,
        periodicity=periodicity,
        **fields,
    )


def slots(mailing: Mailing, count: int, zone: ZoneInfo) -> list[datetime]:
    found, current = [mailing.first_send_at], mailing.first_send_at
    for _ in range(count - 1):
        current = next_slot(Mailing.objects.get(pk=mailing.pk), current)
        found.append(current)
    return [slot.astimezone(zone) for slot in found]


def wall(moments) -> list[tuple]:
    return [(m.month, m.day, m.hour, m.minute) for m in moments]


@site_in_moscow
def test_weekly_0900_berlin_stays_at_0900_after_the_end_of_march():
    """The reported case: the site's clock moved it to 10:00 Berlin."""
    owner = owner_in(BERLIN)
    mailing = mailing_of(
        owner, datetime(2026, 3, 16, 9, 0, tzinfo=BERLIN), Mailing.Periodicity.WEEKLY
    )

    found = slots(mailing, 4, BERLIN)

    assert wall(found) == [(3, 16, 9, 0), (3, 23, 9, 0), (3, 30, 9, 0), (4, 6, 9, 0)]
    assert found[2].astimezone(UTC) - found[1].astimezone(UTC) == timedelta(
        days=7, hours=-1
    )


@site_in_tokyo
def test_daily_in_berlin_across_the_autumn_change():
    owner = owner_in(BERLIN)
    mailing = mailing_of(
        owner, datetime(2026, 10, 24, 7, 30, tzinfo=BERLIN), Mailing.Periodicity.DAILY
    )

    found = slots(mailing, 3, BERLIN)

    assert wall(found) == [(10, 24, 7, 30), (10, 25, 7, 30), (10, 26, 7, 30)]
    assert [m.utcoffset() for m in found] == [
        timedelta(hours=2),
        timedelta(hours=1),
        timedelta(hours=1),
    ]


@site_in_moscow
@pytest.mark.parametrize(
    ("first", "expected_offsets"),
    [
        # US spring forward: Sunday 8 March 2026.
        (datetime(2026, 3, 7, 18, 0), [-5, -4, -4]),
        # US fall back: Sunday 1 November 2026.
        (datetime(2026, 10, 31, 18, 0), [-4, -5, -5]),
    ],
)
def test_daily_in_new_york_across_both_changes(first, expected_offsets):
    owner = owner_in(NEW_YORK)
    mailing = mailing_of(
        owner, first.replace(tzinfo=NEW_YORK), Mailing.Periodicity.DAILY
    )

    found = slots(mailing, 3, NEW_YORK)

    assert [(m.hour, m.minute) for m in found] == [(18, 0)] * 3
    assert [m.utcoffset() // timedelta(hours=1) for m in found] == expected_offsets


@site_in_moscow
def test_monthly_in_new_york_clamps_month_ends_across_dst():
    owner = owner_in(NEW_YORK)
    mailing = mailing_of(
        owner,
        datetime(2026, 1, 31, 8, 0, tzinfo=NEW_YORK),
        Mailing.Periodicity.MONTHLY,
    )

    found = slots(mailing, 5, NEW_YORK)

    assert wall(found) == [
        (1, 31, 8, 0),
        (2, 28, 8, 0),
        (3, 31, 8, 0),  # after the spring change: still 08:00 local
        (4, 30, 8, 0),
        (5, 31, 8, 0),
    ]


@override_settings(TIME_ZONE="Europe/Berlin")
def test_moscow_has_no_dst_and_stays_put_in_utc():
    owner = owner_in(MOSCOW)
    mailing = mailing_of(
        owner, datetime(2026, 3, 20, 9, 0, tzinfo=MOSCOW), Mailing.Periodicity.WEEKLY
    )

    found = slots(mailing, 3, MOSCOW)

    assert [m.astimezone(UTC).hour for m in found] == [6, 6, 6]
    # While Berlin, the site's zone here, moved by an hour in between.
    assert [m.astimezone(BERLIN).hour for m in found] == [7, 7, 8]


@site_in_moscow
def test_an_owner_without_a_preference_follows_the_sites_zone():
    owner = owner_in(None)
    mailing = mailing_of(
        owner, datetime(2026, 3, 20, 9, 0, tzinfo=MOSCOW), Mailing.Periodicity.DAILY
    )

    assert [m.hour for m in slots(mailing, 3, MOSCOW)] == [9, 9, 9]


@site_in_moscow
def test_an_unknown_zone_in_a_profile_falls_back_to_the_sites():
    owner = owner_in(None)
    UserProfile.objects.update_or_create(
        user=owner, defaults={"current_time_zone": "Mars/Olympus_Mons"}
    )
    mailing = mailing_of(
        owner, datetime(2026, 3, 20, 9, 0, tzinfo=MOSCOW), Mailing.Periodicity.DAILY
    )

    assert [m.hour for m in slots(mailing, 2, MOSCOW)] == [9, 9]


@site_in_moscow
def test_the_scheduler_opens_new_york_slots_at_new_york_wall_clock():
    owner = owner_in(NEW_YORK)
    first = datetime(2026, 3, 7, 9, 0, tzinfo=NEW_YORK)
    mailing = mailing_of(owner, first, Mailing.Periodicity.DAILY)

    opened = []
    for day in (7, 8, 9):
        moment = datetime(2026, 3, day, 9, 0, 20, tzinfo=NEW_YORK)
        with time_machine.travel(moment, tick=False):
            opened += services.open_scheduled_runs(moment)

    assert [run.slot.astimezone(NEW_YORK).hour for run in opened] == [9, 9, 9]
    assert [run.slot.astimezone(UTC).hour for run in opened] == [14, 13, 13]
    mailing.refresh_from_db()
    assert mailing.next_send_at == datetime(2026, 3, 10, 9, 0, tzinfo=NEW_YORK)


@site_in_moscow
def test_an_owner_changing_zone_moves_the_upcoming_slot_to_the_new_wall_clock():
    owner = owner_in(BERLIN)
    first = datetime(2026, 6, 1, 9, 0, tzinfo=BERLIN)
    mailing = mailing_of(owner, first, Mailing.Periodicity.WEEKLY)
    with time_machine.travel(first + timedelta(seconds=30), tick=False):
        services.open_scheduled_runs(first + timedelta(seconds=30))
    mailing.refresh_from_db()
    assert mailing.next_send_at == datetime(2026, 6, 8, 9, 0, tzinfo=BERLIN)

    with time_machine.travel(datetime(2026, 6, 3, tzinfo=UTC), tick=False):
        profile = UserProfile.objects.get(user=owner)
        profile.current_time_zone = "Asia/Tokyo"
        profile.save()

    mailing.refresh_from_db()
    # The first sending, 09:00 Berlin, was 16:00 in Tokyo: the time of day there.
    tokyo = ZoneInfo("Asia/Tokyo")
    assert mailing.next_send_at == datetime(2026, 6, 8, 16, 0, tzinfo=tokyo)
    assert MailingRun.objects.count() == 1
