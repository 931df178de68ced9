"""A field's error is announced with it: every id that a field's aria-describedby
names is on the page (Django 5.2 names `<id>_error` and `<id>_helptext`; our
templates gave those blocks no id, so screen readers read no error)."""

import re

import pytest
from django.core.cache import cache

from mailing import subscribe
from tests.factories import make_list, make_user

pytestmark = pytest.mark.django_db

DESCRIBED_BY = re.compile(r'aria-describedby="([^"]+)"')


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()  # sign-up and reset throttles
    yield
    cache.clear()


def assert_errors_announced(response, fields: int):
    assert response.status_code in (200, 400)
    html = response.content.decode()
    named = [name for found in DESCRIBED_BY.findall(html) for name in found.split()]
    errors = [name for name in named if name.endswith("_error")]
    assert len(errors) == fields, named
    for name in named:
        assert f'id="{name}"' in html, f"{name} is named but not on the page"


@pytest.mark.parametrize(
    ("path", "data", "fields"),
    [
        ("/accounts/signup/", {"email": "not-an-email"}, 1),
        ("/en/accounts/password-reset/", {"email": "x@"}, 1),
        ("/en/accounts/verify-resend/", {"email": "x@"}, 1),
        ("/accounts/login/", {"username": "", "password": ""}, 2),
    ],
)
def test_an_account_forms_errors_are_named_by_their_fields(client, path, data, fields):
    assert_errors_announced(client.post(path, data), fields)


def test_the_subscribe_forms_errors_are_named_by_their_fields(client):
    settings = subscribe.form_settings_for(make_list(make_user()))
    settings.is_enabled = True
    settings.consent_text = "I agree."
    settings.save()

    response = client.post(f"/subscribe/{settings.key}/", {"email": "bad@"})

    assert_errors_announced(response, 2)  # the address and the missing consent
    assert 'aria-invalid="true" aria-describedby="id_consent_error"' in (
        response.content.decode()
    )
