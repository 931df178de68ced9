from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.utils import timezone

from accounts.models import MAILING_USERS_GROUP, User
from tests.accounts.conftest import path_in
from tests.accounts.helpers import (
    SIGNUP_PASSWORD,
    finish_sign_up,
    is_logged_in,
    log_in,
    sign_up,
)
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.mark.smoke
def test_sign_up_verify_and_reach_the_admin(client):
    response = sign_up(client, "New.Person@Example.com")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/signup/done/"
    user = User.objects.get(email="new.person@example.com")
    assert not user.is_active and user.email_verified_at is None
    assert not user.has_usable_password()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.person@example.com"]
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and path_in(message) in html

    response = finish_sign_up(client, path_in(message))

    # Choosing the password behind the link verifies the address and signs in.
    assert response.status_code == 302 and response["Location"] == "/admin/"
    user.refresh_from_db()
    assert user.is_active and user.email_verified_at is not None
    assert user.groups.filter(name=MAILING_USERS_GROUP).exists()
    assert client.get("/admin/").status_code == 200
    client.logout()

    response = log_in(client, "new.person@example.com", SIGNUP_PASSWORD)

    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_sign_up_stores_the_language_and_mails_in_it(client):
    sign_up(client, "en@example.com", language_prefix="/en")
    sign_up(client, "ru@example.com")

    english, russian = mail.outbox
    assert User.objects.get(email="en@example.com").language == "en"
    assert english.subject == "Confirm your email address for Vestnik"
    assert path_in(english).startswith("/en/accounts/verify/")
    assert User.objects.get(email="ru@example.com").language == "ru"
    assert russian.subject == "Подтвердите адрес электронной почты для Vestnik"
    assert path_in(russian).startswith("/accounts/verify/")


def test_the_link_refuses_weak_and_mismatched_passwords(client):
    sign_up(client, "a@example.com", language_prefix="/en")
    link = path_in(mail.outbox[0])

    response = client.post(link, {"new_password1": "123", "new_password2": "123"})
    assert response.status_code == 200
    assert "This password is too short" in response.content.decode()

    response = client.post(
        link, {"new_password1": SIGNUP_PASSWORD, "new_password2": "x"}
    )
    assert "didn’t match" in response.content.decode()
    assert not User.objects.get(email="a@example.com").is_active


@pytest.mark.smoke
def test_a_used_link_is_dead(client):
    sign_up(client, "once@example.com")
    link = path_in(mail.outbox[0])
    assert finish_sign_up(client, link).status_code == 302
    client.logout()

    response = client.get(link)

    assert response.status_code == 400
    assert "already been used" in client.get("/en" + link).content.decode()


def test_a_used_link_tells_a_signed_in_user_the_address_is_confirmed(client):
    # They were told to "just sign in" while signed in already.
    sign_up(client, "twice@example.com")
    link = path_in(mail.outbox[0])
    assert finish_sign_up(client, link).status_code == 302

    response = client.get("/en" + link)

    assert response.status_code == 400
    page = response.content.decode()
    assert "twice@example.com is already confirmed" in page
    assert 'href="/admin/">Go to your workspace' in page
    assert "just sign in" not in page
    page = client.get(link).content.decode()
    assert "twice@example.com уже подтверждён" in page
    assert 'href="/admin/">Перейти в рабочее место' in page


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_a_signed_in_user_is_sent_on_from_the_sign_up_like_from_the_login(
    client, prefix
):
    # The form was shown to them, and its POST mailed a link to another address.
    client.force_login(make_user(email="in@example.com"))

    shown = client.get(f"{prefix}/accounts/signup/")
    posted = sign_up(client, "someone.else@example.com", language_prefix=prefix)

    login = client.get(f"{prefix}/accounts/login/")
    assert shown.status_code == posted.status_code == login.status_code == 302
    assert shown["Location"] == posted["Location"] == login["Location"] == "/admin/"
    assert not User.objects.filter(email="someone.else@example.com").exists()
    assert mail.outbox == []


def test_a_tampered_link_is_refused(client):
    sign_up(client, "tamper@example.com")
    link = path_in(mail.outbox[0])
    token = link.rstrip("/").rsplit("/", 1)[1]
    forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")

    assert client.get(f"/accounts/verify/{forged}/").status_code == 400
    assert finish_sign_up(client, f"/accounts/verify/{forged}/").status_code == 400
    assert client.get("/accounts/verify/not-a-token/").status_code == 400
    assert not User.objects.get(email="tamper@example.com").is_active


def test_the_link_expires_after_three_days(client):
    sign_up(client, "late@example.com")
    link = path_in(mail.outbox[0])

    with time_machine.travel(timezone.now() + timedelta(days=3, minutes=1)):
        assert finish_sign_up(client, link).status_code == 400
    with time_machine.travel(timezone.now() + timedelta(days=2, hours=23)):
        assert finish_sign_up(client, link).status_code == 302

    assert User.objects.get(email="late@example.com").is_active


def test_resend_sends_a_new_link_that_works(client):
    sign_up(client, "again@example.com")

    response = client.post("/accounts/verify-resend/", {"email": "AGAIN@example.com"})

    assert response.status_code == 302
    assert len(mail.outbox) == 2
    assert finish_sign_up(client, path_in(mail.outbox[1])).status_code == 302
    assert is_logged_in(client)
    client.logout()
    assert log_in(client, "again@example.com", SIGNUP_PASSWORD).status_code == 302


def test_resend_for_unknown_or_verified_address_sends_nothing_but_looks_the_same(
    client,
):
    known = client.post("/accounts/verify-resend/", {"email": "nobody@example.com"})

    assert known.status_code == 302 and known["Location"] == "/accounts/signup/done/"
    assert not mail.outbox


def test_forgot_password_before_the_first_one_sends_the_sign_up_link(client):
    sign_up(client, "pending@example.com")
    mail.outbox.clear()
    cache.clear()  # the resend limit of the sign-up itself

    response = client.post(
        "/accounts/password-reset/", {"email": "pending@example.com"}
    )

    assert response.status_code == 302
    (message,) = mail.outbox
    assert "/accounts/verify/" in path_in(message)
    assert finish_sign_up(client, path_in(message)).status_code == 302


@pytest.mark.parametrize("address", ["a@[127.0.0.1]", "a@[::1]", "a@[10.0.0.5] "])
@pytest.mark.parametrize(
    ("prefix", "words"),
    [("", "не IP-адрес"), ("/en", "not an IP address")],
)
def test_sign_up_refuses_an_ip_literal_address(client, address, prefix, words):
    response = sign_up(client, address, language_prefix=prefix)
    assert response.status_code == 200
    assert words in response.content.decode()
    assert not User.objects.exists()
    assert mail.outbox == []
