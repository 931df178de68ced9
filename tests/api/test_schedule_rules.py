"""A mailing's dates and delivery window follow one rule (mailing.scheduling
.schedule_problems): the admin form and the API refuse the same input, on the same
field, in the same words."""

import pytest
from django.urls import reverse

from mailing.models import Mailing
from tests.factories import make_client, make_list, make_message, make_user

pytestmark = pytest.mark.django_db

FIRST = "2031-01-01T10:00:00+00:00"
BAD = [
    ({"end_at": "2030-12-31T10:00:00+00:00"}, "end_at"),
    ({"end_at": FIRST}, "end_at"),  # the end must come after, not at, the start
    ({"window_start": "09:00"}, "window_end"),
    ({"window_end": "17:00"}, "window_start"),
    ({"window_start": "09:00", "window_end": "09:00"}, "window_end"),
    # Year 1 in the owner's zone was year 0 in UTC: stored by PostgreSQL as a BC
    # timestamp nothing could read back, which failed the scheduler for everyone.
    ({"first_send_at": "0001-01-01T00:00:00+00:00"}, "first_send_at"),
    ({"end_at": "3001-06-01T00:00:00+00:00"}, "end_at"),
]


@pytest.fixture
def setup():
    owner = make_user(language="en")
    return owner, make_message(owner), make_list(owner, clients=[make_client(owner)])


def admin_errors(http, message, mailing_list, extra: dict) -> dict:
    data = {
        "name": "Rules",
        "message": message.pk,
        "lists": [mailing_list.pk],
        "first_send_at": "2031-01-01 10:00",
        "periodicity": "daily",
        "end_at": "",
        "window_start": "",
        "window_end": "",
    }
    for name, value in extra.items():
        data[name] = value.replace("T", " ").removesuffix(":00+00:00")
    response = http.post(reverse("mailing_mailing:add"), data)
    assert response.status_code == 200  # the form again, not a redirect
    return response.context["form"].errors


def api_errors(token_for, owner, message, mailing_list, extra: dict) -> dict:
    body = {
        "name": "Rules",
        "message": message.pk,
        "lists": [mailing_list.pk],
        "first_send_at": FIRST,
        **extra,
    }
    answer = token_for(owner).post(
        "/api/v1/mailings/", body, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert answer.status_code == 400, answer.content
    return answer.json()["fields"]


@pytest.mark.parametrize(("extra", "field"), BAD)
def test_the_form_and_the_api_refuse_the_same_input(
    client, token_for, setup, extra, field
):
    owner, message, mailing_list = setup
    client.force_login(owner)

    in_form = admin_errors(client, message, mailing_list, extra)
    in_api = api_errors(token_for, owner, message, mailing_list, extra)

    assert list(in_form) == [field] == list(in_api)
    assert list(in_form[field]) == list(in_api[field])
    assert not Mailing.objects.exists()


def test_a_change_through_the_api_is_checked_against_what_is_kept(token_for, setup):
    owner, message, mailing_list = setup
    api = token_for(owner)
    created = api.post(
        "/api/v1/mailings/",
        {
            "name": "Rules",
            "message": message.pk,
            "lists": [mailing_list.pk],
            "first_send_at": FIRST,
            "window_start": "09:00",
            "window_end": "17:00",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    url = f"/api/v1/mailings/{created.json()['id']}/"

    same = api.patch(url, {"window_end": "09:00:00"}, format="json")
    early = api.patch(url, {"end_at": "2030-01-01T00:00:00Z"}, format="json")

    assert (same.status_code, list(same.json()["fields"])) == (400, ["window_end"])
    assert (early.status_code, list(early.json()["fields"])) == (400, ["end_at"])
