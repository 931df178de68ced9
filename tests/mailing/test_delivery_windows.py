"""Delivery windows in each recipient's local time, under frozen time: rows whose
window has not opened wait (the claim holds them back), the run finishes once the
last window has opened and its rows are sent, and progress and the report show
the rows waiting."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from wagtail.users.models import UserProfile

from mailing import services
from mailing.models import Attempt, Client, Mailing, MailingRun
from mailing.sending import pipeline
from mailing.sending.outbox import claim_batch
from mailing.windows import is_open, next_opening
from tests.factories import make_client, make_mailing, make_user

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
UTC = ZoneInfo("UTC")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- The arithmetic --------------------------------------------------------------


@pytest.mark.smoke
def test_a_window_is_open_from_its_start_until_just_before_its_end():
    nine, eleven = time(9), time(11)
    assert [is_open(time(h, m), nine, eleven) for h, m in [(8, 59), (9, 0), (10, 59)]]
    assert [is_open(t, nine, eleven) for t in (time(8, 59), time(11, 0))] == [
        False,
        False,
    ]
    # 22:00-02:00 wraps midnight.
    assert [is_open(time(h), time(22), time(2)) for h in (21, 22, 23, 0, 1, 2)] == [
        False,
        True,
        True,
        True,
        True,
        False,
    ]


def test_next_opening_today_tomorrow_or_now():
    nine, eleven = time(9), time(11)
    # 06:00 UTC is 08:00 in Berlin (summer): opens at 09:00 today.
    assert next_opening(utc(2026, 6, 1, 6, 0), BERLIN, nine, eleven) == datetime(
        2026, 6, 1, 9, 0, tzinfo=BERLIN
    )
    assert next_opening(utc(2026, 6, 1, 8, 0), BERLIN, nine, eleven) is None
    # 10:00 UTC is 12:00 in Berlin: closed for today, opens tomorrow.
    assert next_opening(utc(2026, 6, 1, 10, 0), BERLIN, nine, eleven) == datetime(
        2026, 6, 2, 9, 0, tzinfo=BERLIN
    )


def test_a_window_opening_in_the_spring_gap_opens_just_after_it():
    # 02:30 does not exist in Berlin on 29 March 2026: the clock jumps 02:00 -> 03:00.
    opening = next_opening(utc(2026, 3, 28, 23, 0), BERLIN, time(2, 30), time(4))
    assert opening.astimezone(UTC) == utc(2026, 3, 29, 1, 30)  # 03:30 local


def test_windows_keep_local_time_across_the_autumn_change():
    # 9:00-11:00 in New York on the Sunday the clocks go back (1 November 2026).
    opening = next_opening(utc(2026, 11, 1, 5, 0), NEW_YORK, time(9), time(11))
    assert opening.astimezone(UTC) == utc(2026, 11, 1, 14, 0)  # EST now, UTC-5


# --- A run with recipients in three zones ----------------------------------------


@pytest.fixture
def world(db):
    """An owner in Berlin; recipients in Berlin (blank zone), New York and Tokyo."""
    owner = make_user()
    UserProfile.objects.update_or_create(
        user=owner, defaults={"current_time_zone": "Europe/Berlin"}
    )
    berlin = make_client(owner, email="berlin@example.org")
    new_york = make_client(owner, email="ny@example.org", time_zone="America/New_York")
    tokyo = make_client(owner, email="tokyo@example.org", time_zone="Asia/Tokyo")
    mailing = make_mailing(
        owner,
        clients=[berlin, new_york, tokyo],
        first_send_at=utc(2026, 6, 1, 2, 0),
        window_start=time(9, 0),
        window_end=time(11, 0),
    )
    return {"mailing": mailing, "berlin": berlin, "ny": new_york, "tokyo": tokyo}


def opened_at(moment: datetime, mailing: Mailing) -> MailingRun:
    with time_machine.travel(moment, tick=False):
        (run,) = services.open_scheduled_runs(moment)
    return run


def send_at(moment: datetime, run: MailingRun) -> list[str]:
    """Send what may go at `moment`; the addresses that went."""
    before = len(mail.outbox)
    with time_machine.travel(moment, tick=False):
        pipeline.send_run(run.pk)
    return sorted(
        message.to[0].split("<")[-1].strip(">") for message in mail.outbox[before:]
    )


def retry_times(run: MailingRun) -> dict[str, datetime | None]:
    rows = Attempt.objects.filter(run=run).values_list("client__email", "retry_at")
    return dict(rows)


def test_each_recipient_waits_for_their_own_window(world):
    # 08:00 UTC: 10:00 in Berlin (open), 04:00 in New York, 17:00 in Tokyo.
    run = opened_at(utc(2026, 6, 1, 8, 0, 5), world["mailing"])

    assert retry_times(run) == {
        "berlin@example.org": None,
        "ny@example.org": utc(2026, 6, 1, 13, 0),  # 09:00 EDT
        "tokyo@example.org": utc(2026, 6, 2, 0, 0),  # 09:00 JST next day
    }
    assert send_at(utc(2026, 6, 1, 8, 0, 10), run) == ["berlin@example.org"]
    run.refresh_from_db()
    assert run.status == MailingRun.Status.RUNNING

    assert send_at(utc(2026, 6, 1, 12, 59), run) == []
    assert send_at(utc(2026, 6, 1, 13, 0), run) == ["ny@example.org"]
    assert send_at(utc(2026, 6, 1, 23, 59), run) == []
    assert send_at(utc(2026, 6, 2, 0, 0, 30), run) == ["tokyo@example.org"]

    run.refresh_from_db()
    assert (run.status, run.sent_count) == (MailingRun.Status.FINISHED, 3)


def test_the_claim_holds_rows_back_until_their_window_opens(world):
    run = opened_at(utc(2026, 6, 1, 8, 0, 5), world["mailing"])

    rows = claim_batch(run.pk, 10, utc(2026, 6, 1, 8, 0, 10))

    assert [row[3] for row in rows] == ["berlin@example.org"]
    assert claim_batch(run.pk, 10, utc(2026, 6, 1, 12, 0)) == []


def test_progress_and_report_show_rows_waiting_for_their_window(world, client):
    run = opened_at(utc(2026, 6, 1, 8, 0, 5), world["mailing"])
    send_at(utc(2026, 6, 1, 8, 0, 10), run)

    with time_machine.travel(utc(2026, 6, 1, 9, 0), tick=False):
        progress = services.run_progress(world["mailing"])
        client.force_login(world["mailing"].owner)
        report = client.get(f"/admin/mailing/mailings/report/{world['mailing'].pk}/")
        inspect = client.get(f"/admin/mailing/mailings/inspect/{world['mailing'].pk}/")

    assert (progress["waiting"], progress["window_opens_at"]) == (
        2,
        utc(2026, 6, 1, 13, 0),
    )
    assert progress["is_running"] and progress["sent"] == 1
    assert b'data-testid="run-waiting">2<' in report.content
    assert b'data-testid="waiting-for-window"' in inspect.content


def test_a_run_opened_when_every_window_is_open_holds_nothing(world):
    Client.objects.filter(pk__in=[world["ny"].pk, world["tokyo"].pk]).update(
        time_zone=""
    )
    run = opened_at(utc(2026, 6, 1, 8, 0, 5), world["mailing"])

    assert set(retry_times(run).values()) == {None}
    assert len(send_at(utc(2026, 6, 1, 8, 0, 10), run)) == 3


def test_a_blank_or_unknown_client_zone_means_the_owners(world):
    # Written around the form's validation (a shell): treated as the owner's zone.
    Client.objects.filter(pk=world["tokyo"].pk).update(time_zone="Nowhere/Special")
    run = opened_at(utc(2026, 6, 1, 6, 0, 5), world["mailing"])  # 08:00 in Berlin

    opens = utc(2026, 6, 1, 7, 0)  # 09:00 Berlin
    assert retry_times(run)["berlin@example.org"] == opens
    assert retry_times(run)["tokyo@example.org"] == opens


def test_a_manual_run_keeps_the_window_too(world):
    with time_machine.travel(utc(2026, 6, 1, 8, 0, 5), tick=False):
        run = services.send_now(world["mailing"], requested_by=world["mailing"].owner)

    assert send_at(utc(2026, 6, 1, 8, 0, 10), run) == ["berlin@example.org"]


def test_a_transient_failure_is_retried_as_before_and_not_taken_for_a_window(world):
    run = opened_at(utc(2026, 6, 1, 8, 0, 5), world["mailing"])
    Attempt.objects.filter(run=run, client=world["berlin"]).update(
        tries=1, retry_at=utc(2026, 6, 1, 8, 5)
    )

    with time_machine.travel(utc(2026, 6, 1, 8, 1), tick=False):
        assert services.run_progress(world["mailing"])["waiting"] == 2


def test_mailings_without_a_window_are_untouched(world):
    Mailing.objects.filter(pk=world["mailing"].pk).update(
        window_start=None, window_end=None
    )
    run = opened_at(utc(2026, 6, 1, 2, 0, 5), world["mailing"])

    assert set(retry_times(run).values()) == {None}
