"""Issue 11 finding 3: an account signed up by someone else ends up the inbox owner's.

The attacker signs up the victim's address first, with a password of their own. On
the old flow the victim's sign-up mailed a fresh link to that same account and the
link activated it with the attacker's password. Now nobody chooses a password at
sign-up: the person who follows the emailed link chooses it.
"""

import pytest
from django.core import mail
from django.test import Client

from accounts.models import User
from tests.accounts.conftest import path_in
from tests.accounts.helpers import finish_sign_up, is_logged_in, log_in

pytestmark = pytest.mark.django_db

VICTIM = "victim@example.com"
ATTACKER_PASSWORD = "attacker-knows-this-1"  # noqa: S105 - test password
VICTIM_PASSWORD = "victim-chose-this-2"  # noqa: S105 - test password


def sign_up_with_password(client, email, password):
    """The old sign-up form's fields: a password, if the form still took one."""
    return client.post(
        "/accounts/signup/",
        {"email": email, "password1": password, "password2": password},
    )


def test_finding3_attacker_first_sign_up_leaves_the_attacker_locked_out():
    attacker, victim = Client(), Client()
    sign_up_with_password(attacker, VICTIM, ATTACKER_PASSWORD)
    sign_up_with_password(victim, VICTIM, VICTIM_PASSWORD)

    finish_sign_up(victim, path_in(mail.outbox[-1]), VICTIM_PASSWORD)

    assert log_in(attacker, VICTIM, ATTACKER_PASSWORD).status_code == 200
    assert not is_logged_in(attacker)
    victim.logout()
    assert log_in(victim, VICTIM, VICTIM_PASSWORD).status_code == 302
    assert User.objects.get(email=VICTIM).is_active


def test_finding3_the_victim_clicking_the_attackers_email_gets_their_own_password():
    attacker, victim = Client(), Client()
    sign_up_with_password(attacker, VICTIM, ATTACKER_PASSWORD)

    # The unsolicited "confirm your address" email, clicked by its recipient.
    finish_sign_up(victim, path_in(mail.outbox[0]), VICTIM_PASSWORD)

    assert log_in(attacker, VICTIM, ATTACKER_PASSWORD).status_code == 200
    assert not is_logged_in(attacker)


def test_finding3_every_older_link_dies_once_one_is_used():
    attacker, victim = Client(), Client()
    sign_up_with_password(attacker, VICTIM, ATTACKER_PASSWORD)
    sign_up_with_password(victim, VICTIM, VICTIM_PASSWORD)
    first, second = (path_in(message) for message in mail.outbox)

    finish_sign_up(victim, second, VICTIM_PASSWORD)

    assert Client().get(first).status_code == 400
    assert (
        Client()
        .post(first, {"new_password1": "x-Other-9999", "new_password2": "x-Other-9999"})
        .status_code
        == 400
    )
    assert log_in(Client(), VICTIM, VICTIM_PASSWORD).status_code == 302


def test_finding3_opening_the_link_changes_nothing_until_a_password_is_chosen():
    """Mail scanners open links: a GET must not activate the account."""
    sign_up_with_password(Client(), VICTIM, ATTACKER_PASSWORD)
    link = path_in(mail.outbox[0])

    page = Client().get(link)

    assert page.status_code == 200
    user = User.objects.get(email=VICTIM)
    assert not user.is_active and user.email_verified_at is None
    assert not user.has_usable_password()
