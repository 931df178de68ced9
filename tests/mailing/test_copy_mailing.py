"""Copying a mailing: the add form filled from it, stored only when saved."""

from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from mailing.models import Mailing
from tests.factories import make_client, make_mailing, make_user, recipients_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def original():
    owner = make_user(email="owner@example.com")
    clients = [make_client(owner) for _ in range(3)]
    make_client(owner)  # not a recipient
    return make_mailing(
        owner,
        name="Weekly news",
        clients=clients,
        periodicity="weekly",
        first_send_at=(timezone.now() + timedelta(days=2)).replace(
            second=0, microsecond=0
        ),
        window_start=time(9),
        window_end=time(11),
    )


def copy_url(mailing):
    return reverse("mailing_mailing:copy", args=[mailing.pk])


def test_copy_opens_the_filled_form_and_stores_nothing(client, original):
    client.force_login(original.owner)
    response = client.get(copy_url(original))
    assert response.status_code == 200
    form = response.context["form"]
    # "Copy of …" in the owner's language.
    assert form.initial["name"] != original.name
    assert form.initial["name"].endswith(" Weekly news")
    assert form.initial["message"] == original.message_id
    assert form.initial["periodicity"] == "weekly"
    assert sorted(form.initial["lists"]) == sorted(
        original.lists.values_list("pk", flat=True)
    )
    assert Mailing.objects.count() == 1


def test_saving_the_copy_creates_a_new_mailing(client, original):
    client.force_login(original.owner)
    form = client.get(copy_url(original)).context["form"]
    data = {
        "name": form.initial["name"],
        "message": original.message_id,
        "lists": [str(pk) for pk in form.initial["lists"]],
        "first_send_at": form["first_send_at"].value(),
        "periodicity": "weekly",
        "window_start": "09:00",
        "window_end": "11:00",
        "track_engagement": "on",
    }
    response = client.post(copy_url(original), data)
    assert response.status_code == 302, response.context["form"].errors
    copy = Mailing.objects.exclude(pk=original.pk).get()
    assert copy.owner == original.owner and copy.message == original.message
    assert copy.status == Mailing.Status.CREATED and copy.is_enabled
    assert set(copy.lists.all()) == set(original.lists.all())
    assert set(recipients_of(copy)) == set(recipients_of(original))
    assert copy.first_send_at == original.first_send_at
    assert copy.next_send_at == copy.first_send_at  # the model scheduled it
    assert not copy.runs.exists()
    original.refresh_from_db()
    assert original.name == "Weekly news" and recipients_of(original).count() == 3


def test_a_past_first_send_is_left_to_choose_again(client, original):
    Mailing.objects.filter(pk=original.pk).update(
        first_send_at=timezone.now() - timedelta(days=3)
    )
    client.force_login(original.owner)
    form = client.get(copy_url(original)).context["form"]
    assert not form["first_send_at"].value()
    # Saved as it comes, it is refused: nothing is sent at once behind their back.
    response = client.post(
        copy_url(original),
        {"name": "x", "message": original.message_id, "periodicity": "once"},
    )
    assert (
        response.status_code == 200
        and "first_send_at" in response.context["form"].errors
    )
    assert Mailing.objects.count() == 1


@pytest.mark.parametrize("role", ["mailing_user", "manager"])
def test_others_cannot_copy(client, original, role):
    client.force_login(make_user(role))
    for response in (
        client.get(copy_url(original)),
        client.post(copy_url(original), {"name": "stolen"}),
    ):
        # Wagtail answers a refused admin request with a redirect to its home.
        assert response.status_code == 302
        assert response.url == reverse("wagtailadmin_home")
    assert Mailing.objects.count() == 1


def test_the_copy_keeps_the_segment(client, original):
    from mailing.models import Segment

    segment = Segment.objects.create(owner=original.owner, name="VIP", rules=[])
    original.segment = segment
    original.save()
    client.force_login(original.owner)

    form = client.get(copy_url(original)).context["form"]

    assert form.initial["segment"] == segment.pk
