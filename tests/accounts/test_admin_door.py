"""Wagtail's admin has no login of its own: it sends people to /accounts/login/."""

import pytest
from django.core import mail

from tests.accounts.helpers import SIGNUP_PASSWORD, is_logged_in, sign_up
from tests.factories import PASSWORD, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def test_admin_login_redirects_to_the_accounts_login(client):
    response = client.get("/admin/login/?next=/admin/pages/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/pages/"


def test_anonymous_admin_visit_goes_to_the_accounts_login(client):
    response = client.get("/admin/")

    assert response["Location"] == "/accounts/login/?next=/admin/"


@pytest.mark.parametrize("who", ["verified", "unverified", "blocked"])
def test_posting_to_the_admin_login_signs_nobody_in(client, who):
    if who == "unverified":
        sign_up(client, "pending@example.com")
        email, password = "pending@example.com", SIGNUP_PASSWORD
    else:
        email = make_user(is_blocked=(who == "blocked")).email
        password = PASSWORD

    response = client.post("/admin/login/", {"username": email, "password": password})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not is_logged_in(client)


def test_admin_password_reset_leads_to_the_accounts_reset(client):
    make_user(email="known@example.com")

    response = client.post("/admin/password_reset/", {"email": "known@example.com"})

    assert response["Location"] == "/accounts/password-reset/"
    assert not mail.outbox
    assert client.get("/admin/password_reset/done/").status_code == 404


def test_admin_account_page_cannot_change_the_email(client):
    user = make_user(email="me@example.com")
    client.force_login(user)

    page = client.get("/admin/account/").content.decode()

    assert 'name="name_email-email"' not in page
