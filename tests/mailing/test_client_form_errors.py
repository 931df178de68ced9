"""A bad address on the client form gets one clear message, not a second
"Invalid email: " with nothing after it (the model's check of the empty value
left by the failed field)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from mailing.models import Client
from tests.factories import english, make_user

pytestmark = pytest.mark.django_db


def test_a_malformed_email_gets_one_message(client):
    client.force_login(english(make_user()))
    response = client.post(
        reverse("mailing_client:add"),
        {"email": "not an email", "full_name": "Ann", "comment": "", "time_zone": ""},
    )
    errors = response.context["form"].errors
    assert errors["email"] == ["Enter a valid email address."]
    assert not Client.objects.exists()


def test_an_empty_address_is_required_once():
    with pytest.raises(ValidationError) as raised:
        Client(owner=make_user(), email="", full_name="").full_clean()
    with translation.override("en"):
        errors = raised.value.message_dict
    assert errors["email"] == errors["full_name"] == ["This field cannot be blank."]


def test_a_model_check_still_refuses_what_the_form_field_lets_through():
    with translation.override("en"), pytest.raises(ValidationError) as raised:
        Client(owner=make_user(), email="ann@", full_name="Ann").full_clean()
    assert "Invalid email: ann@" in raised.value.message_dict["email"]
