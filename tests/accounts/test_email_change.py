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


def test_the_old_address_is_told_once_the_change_is_confirmed(user_client, settings):
    settings.SUPPORT_EMAIL = "help@vestnik.example"
    user_client.post(
        "/accounts/profile/email/",
        {"new_email": "john.new@example.com", "password": PASSWORD},
    )
    (link_email,) = mail.outbox

    user_client.get(path_in(link_email))

    _, notice = mail.outbox
    assert notice.to == ["old@example.com"]
    assert "j***@example.com" in notice.body
    assert "john.new" not in notice.body + notice.alternatives[0][0]
    assert "help@vestnik.example" in notice.body
    assert "/accounts/login/" in notice.body


def test_an_unconfirmed_change_sends_nothing_to_the_old_address(user_client):
    user_client.post(
        "/accounts/profile/email/",
        {"new_email": "new@example.com", "password": PASSWORD},
    )

    assert [m.to for m in mail.outbox] == [["new@example.com"]]


def test_the_notice_is_in_the_account_language_and_names_no_support_address(client):
    user = make_user(email="old@example.com", language="ru")
    client.force_login(user)
    client.post(
        "/en/accounts/profile/email/",
        {"new_email": "new@example.com", "password": PASSWORD},
    )

    client.get(path_in(mail.outbox[0]))

    notice = mail.outbox[1]
    assert notice.subject == (
        "Адрес электронной почты вашей учётной записи в Vestnik изменён"
    )
    assert "администратор" in notice.body and "n***@example.com" in notice.body


def test_the_new_address_cannot_be_an_ip_literal(user_client):
    response = user_client.post(
        "/en/accounts/profile/email/",
        {"new_email": "me@[127.0.0.1]", "password": PASSWORD},
    )

    assert "not an IP address" in response.content.decode()
    assert not mail.outbox
    user_client.user.refresh_from_db()
    assert user_client.user.email == "old@example.com"


def test_a_blocked_account_cannot_confirm_a_pending_change(user_client):
    # The block is the administrators' word on the account: a link asked for
    # before it must not move the account to another address after it.
    user_client.post(
        "/accounts/profile/email/",
        {"new_email": "new@example.com", "password": PASSWORD},
    )
    User.objects.filter(pk=user_client.user.pk).update(is_blocked=True)

    response = user_client.get("/en" + path_in(mail.outbox[0]))

    assert response.status_code == 400
    assert User.objects.get(pk=user_client.user.pk).email == "old@example.com"


def test_a_spent_email_change_link_speaks_of_the_change_not_of_a_sign_up(
    user_client,
):
    """The outside run followed a used change link while signed in: the page told
    them to sign in and offered a new sign-up verification link."""
    user_client.post(
        "/accounts/profile/email/",
        {"new_email": "new@example.com", "password": PASSWORD},
    )
    path = "/en" + path_in(mail.outbox[0])
    user_client.get(path)

    response = user_client.get(path)

    assert response.status_code == 400
    page = response.content.decode()
    assert "ask for a new link" in page
    assert 'href="/en/accounts/profile/email/"' in page
    assert "verification link" not in page and "just sign in" not in page
