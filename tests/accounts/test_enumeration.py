"""Sign-up, login and reset answer the same for known and unknown addresses."""

import pytest
from django.core import mail

from tests.accounts.helpers import log_in, page_shape, sign_up
from tests.factories import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def test_sign_up_answers_the_same_and_warns_the_owner_instead(client):
    make_user(email="taken@example.com")

    known = sign_up(client, "taken@example.com")
    unknown = sign_up(client, "fresh@example.com")

    assert (known.status_code, known["Location"]) == (
        unknown.status_code,
        unknown["Location"],
    )
    warning, verification = mail.outbox
    assert warning.to == ["taken@example.com"]
    assert "already have" in warning.body or "уже есть" in warning.body
    assert "/accounts/verify/" not in warning.body
    assert "/accounts/verify/" in verification.body


def test_login_failure_looks_the_same_for_known_and_unknown_addresses(client):
    make_user(email="known@example.com")

    known = log_in(client, "known@example.com", "wrong-password")
    unknown = log_in(client, "nobody@example.com", "wrong-password")

    assert known.status_code == unknown.status_code == 200
    assert page_shape(known) == page_shape(unknown)


def test_password_reset_looks_the_same_for_known_and_unknown_addresses(client):
    make_user(email="known@example.com")

    known = client.post("/accounts/password-reset/", {"email": "known@example.com"})
    unknown = client.post("/accounts/password-reset/", {"email": "no@example.com"})

    assert (known.status_code, known["Location"]) == (
        unknown.status_code,
        unknown["Location"],
    )
    assert [m.to for m in mail.outbox] == [["known@example.com"]]
