import pytest
from django.core import mail

from accounts.models import User
from tests.accounts.conftest import path_in
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def user_client(client):
    user = make_user(email="old@example.com")
    client.force_login(user)
    client.user = user
    return client


def test_email_change_needs_the_password(user_client):
    response = user_client.post(
        "/en/accounts/profile/email/",
        {"new_email": "new@example.com", "password": "wrong"},
    )

    assert "The password is wrong." in response.content.decode()
    assert not mail.outbox


@pytest.mark.smoke
def test_email_changes_only_after_the_new_address_confirms(user_client):
    response = user_client.post(
        "/accounts/profile/email/",
        {"new_email": "New@Example.com", "password": PASSWORD},
    )

    assert response["Location"] == "/accounts/profile/"
    (message,) = mail.outbox
    assert message.to == ["new@example.com"]
    user = User.objects.get(pk=user_client.user.pk)
    assert user.email == "old@example.com"

    response = user_client.get(path_in(message))

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email == "new@example.com"
    # The link is dead once used.
    assert user_client.get(path_in(message)).status_code == 400


def test_an_address_taken_meanwhile_is_not_stolen(user_client):
    user_client.post(
        "/accounts/profile/email/",
        {"new_email": "new@example.com", "password": PASSWORD},
    )
    make_user(email="new@example.com")

    response = user_client.get("/en" + path_in(mail.outbox[0]), follow=True)

    assert "That address now belongs to another account." in response.content.decode()
    assert User.objects.get(pk=user_client.user.pk).email == "old@example.com"


def test_asking_for_an_address_of_another_account_warns_its_owner(user_client):
    make_user(email="other@example.com")

    user_client.post(
        "/accounts/profile/email/",
        {"new_email": "other@example.com", "password": PASSWORD},
    )

    (message,) = mail.outbox
    assert message.to == ["other@example.com"]
    assert "/accounts/email/confirm/" not in message.body
