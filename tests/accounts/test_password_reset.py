import pytest
from django.core import mail

from tests.accounts.conftest import path_in
from tests.accounts.helpers import is_logged_in, log_in
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "lantern-orchard-77"  # noqa: S105 - test password


@pytest.mark.smoke
def test_password_reset_end_to_end(client):
    user = make_user(email="forgetful@example.com", language="en")

    response = client.post(
        "/accounts/password-reset/", {"email": "Forgetful@example.com"}
    )

    assert response["Location"] == "/accounts/password-reset/done/"
    (message,) = mail.outbox
    assert message.subject == "Set a new password for Vestnik"
    assert message.alternatives[0][1] == "text/html"
    link = path_in(message)
    assert link.startswith("/en/accounts/password-reset/")

    # Django swaps the token for a session marker and redirects to the form.
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200 and form_page.context["validlink"]
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response["Location"] == "/en/accounts/password-reset/complete/"

    assert log_in(client, user.email, PASSWORD).status_code == 200
    assert log_in(client, user.email, NEW_PASSWORD).status_code == 302
    assert is_logged_in(client)
    # The link is spent.
    client.logout()
    assert not client.get(link, follow=True).context["validlink"]


def test_blocked_user_gets_no_reset_email(client):
    make_user(email="blocked@example.com", is_blocked=True)

    response = client.post(
        "/accounts/password-reset/", {"email": "blocked@example.com"}
    )

    assert response.status_code == 302 and not mail.outbox
