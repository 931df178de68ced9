"""A person signs up in Chromium, follows the emailed link, chooses the password there
and reaches the admin; then signs in again with it."""

import pytest
from django.core import mail

from accounts.models import User
from tests.accounts.conftest import path_in
from tests.accounts.helpers import SIGNUP_PASSWORD

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    # The live server needs committed rows; serialized rollback restores the role
    # groups of the data migration for the tests that come after.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_sign_up_follow_the_link_and_reach_the_dashboard(live_server, page):
    page.goto(f"{live_server.url}/accounts/signup/")
    page.fill("input[name=email]", "browser@example.com")
    page.click("button[type=submit].btn-primary")
    page.wait_for_url("**/accounts/signup/done/")

    (message,) = mail.outbox
    page.goto(live_server.url + path_in(message))
    assert "browser@example.com" in page.inner_text("main")
    page.fill("input[name=new_password1]", SIGNUP_PASSWORD)
    page.fill("input[name=new_password2]", SIGNUP_PASSWORD)
    page.click("main button[type=submit].btn-primary")
    page.wait_for_url("**/admin/")
    page.wait_for_selector(".w-dashboard")

    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "browser@example.com")
    page.fill("input[name=password]", SIGNUP_PASSWORD)
    page.click("main button[type=submit].btn-primary")
    page.wait_for_url("**/admin/")

    page.wait_for_selector(".w-dashboard")
    assert User.objects.get(email="browser@example.com").is_active
