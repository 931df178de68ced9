"""The admin shows and reads a mailing's times in its owner's zone, checks delivery
windows and client time zones with a message, and never answers 500."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from wagtail.users.models import UserProfile

from mailing.models import Client, Mailing
from tests.factories import (
    make_client,
    make_list,
    make_mailing,
    make_message,
    make_user,
)

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def owner():
    user = make_user()
    UserProfile.objects.update_or_create(
        user=user, defaults={"current_time_zone": "America/New_York"}
    )
    return user


@pytest.fixture
def root():
    """A superuser on the other side of the world."""
    user = make_user("superuser")
    UserProfile.objects.update_or_create(
        user=user, defaults={"current_time_zone": "Asia/Tokyo"}
    )
    return user


def mailing_data(owner, **extra) -> dict:
    data = {
        "name": "Weekly news",
        "message": make_message(owner).pk,
        "lists": [make_list(owner, clients=[make_client(owner)]).pk],
        "first_send_at": "2031-01-06 10:00",
        "periodicity": "weekly",
        "end_at": "",
        "window_start": "",
        "window_end": "",
    }
    return {**data, **extra}


def errors_of(response) -> dict:
    assert response.status_code == 200
    return response.context["form"].errors


def test_the_owner_types_times_of_their_own_zone(client, owner):
    client.force_login(owner)
    page = client.get(reverse("mailing_mailing:add")).content.decode()

    response = client.post(reverse("mailing_mailing:add"), mailing_data(owner))

    assert response.status_code == 302
    mailing = Mailing.objects.get(owner=owner)
    assert mailing.first_send_at == datetime(2031, 1, 6, 10, 0, tzinfo=NEW_YORK)
    assert mailing.next_send_at == mailing.first_send_at
    assert "America/New_York" in page


def test_a_superuser_elsewhere_sees_and_keeps_the_owners_wall_clock(
    client, owner, root
):
    first = datetime(2031, 1, 6, 10, 0, tzinfo=NEW_YORK)
    mailing = make_mailing(owner, first_send_at=first, periodicity="weekly")
    client.force_login(root)
    edit = reverse("mailing_mailing:edit", args=[mailing.pk])

    page = client.get(edit).content.decode()
    data = mailing_data(owner, message=mailing.message_id, name="Renamed by root")
    response = client.post(edit, data)

    assert 'value="2031-01-06 10:00"' in page
    assert response.status_code == 302
    mailing.refresh_from_db()
    assert (mailing.name, mailing.first_send_at) == ("Renamed by root", first)


def test_the_inspect_page_names_the_owners_zone_and_their_time(client, owner, root):
    first = datetime(2031, 1, 6, 10, 0, tzinfo=NEW_YORK)
    mailing = make_mailing(owner, first_send_at=first, periodicity="weekly")
    client.force_login(root)

    page = client.get(reverse("mailing_mailing:inspect", args=[mailing.pk]))

    content = page.content.decode()
    schedule = content.split('data-testid="schedule"')[1][:400]
    assert "America/New_York" in schedule
    assert "10:00" in schedule
    # The field list too (Wagtail's template showed UTC, 15:00).
    fields = content.split('data-testid="schedule"')[1]
    assert fields.count("10:00") >= 3  # first send, next send, the schedule line
    assert "15:00" not in fields


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("09:00", "", "window_end"),
        ("", "11:00", "window_start"),
        ("09:00", "09:00", "window_end"),
    ],
)
def test_a_half_or_empty_window_is_refused_with_a_message(
    client, owner, start, end, field
):
    client.force_login(owner)

    response = client.post(
        reverse("mailing_mailing:add"),
        mailing_data(owner, window_start=start, window_end=end),
    )

    assert field in errors_of(response)
    assert not Mailing.objects.filter(owner=owner).exists()


def test_a_window_is_saved(client, owner):
    client.force_login(owner)

    response = client.post(
        reverse("mailing_mailing:add"),
        mailing_data(owner, window_start="22:00", window_end="02:00"),
    )

    assert response.status_code == 302
    mailing = Mailing.objects.get(owner=owner)
    assert (mailing.window_start, mailing.window_end) == (time(22), time(2))


@pytest.mark.parametrize(
    ("value", "saved"),
    [("Asia/Tokyo", True), ("", True), ("Mars/Olympus_Mons", False)],
)
def test_a_client_time_zone_is_an_iana_name_or_empty(client, owner, value, saved):
    client.force_login(owner)
    page = client.get(reverse("mailing_client:add")).content.decode()

    response = client.post(
        reverse("mailing_client:add"),
        {"email": "tz@example.org", "full_name": "TZ", "time_zone": value},
    )

    assert '<option value="Europe/Berlin"' in page
    if saved:
        assert response.status_code == 302
        assert Client.objects.get(email="tz@example.org").time_zone == value
    else:
        assert "time_zone" in errors_of(response)
        assert not Client.objects.filter(email="tz@example.org").exists()
