"""Issue 11 finding 4: login throttling that a stranger cannot turn against an owner.

Counted per matched account and per IP, apart; atomic under concurrency; lifted by
a successful password reset, which the locked page points to; and an address that
only PostgreSQL's case folding matches to an account (the dotless ı) reaches none.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth.signals import user_login_failed
from django.core import mail
from django.db import connection
from django.test import Client

from accounts.throttling import MAX_FAILURES_PER_ACCOUNT
from tests.accounts.conftest import path_in
from tests.accounts.helpers import is_logged_in
from tests.factories import PASSWORD, make_user

NEW_PASSWORD = "lantern-orchard-77"  # noqa: S105 - test password
THROTTLED = "Too many failed sign-in attempts"


def attempt(client, email, password="wrong-password", ip="203.0.113.5"):
    return client.post(
        "/en/accounts/login/",
        {"username": email, "password": password},
        REMOTE_ADDR=ip,
    )


def lock(email):
    for n in range(MAX_FAILURES_PER_ACCOUNT):
        attempt(Client(), email, ip=f"198.51.100.{n}")


def reset_password(email, password=NEW_PASSWORD):
    http = Client()
    http.post("/en/accounts/password-reset/", {"email": email}, REMOTE_ADDR="192.0.2.4")
    form = http.get(path_in(mail.outbox[-1]), follow=True)
    assert form.context["validlink"]
    http.post(
        form.redirect_chain[-1][0],
        {"new_password1": password, "new_password2": password},
    )


@pytest.mark.django_db
def test_finding4_a_password_reset_lifts_the_lock_and_the_owner_gets_in():
    user = make_user(email="owner@example.com")
    lock(user.email)
    owner = Client()
    assert THROTTLED in attempt(owner, user.email, PASSWORD).content.decode()

    reset_password(user.email)

    assert attempt(owner, user.email, NEW_PASSWORD).status_code == 302
    assert is_logged_in(owner)


@pytest.mark.django_db
def test_finding4_the_locked_page_tells_the_owner_how_to_get_back_in():
    user = make_user(email="owner@example.com")
    lock(user.email)

    html = attempt(Client(), user.email, PASSWORD).content.decode()

    assert THROTTLED in html
    assert "reset your password" in html
    assert 'href="/en/accounts/password-reset/"' in html


@pytest.mark.django_db
def test_finding4_a_reset_does_not_lift_the_lock_of_an_ip():
    user = make_user(email="owner@example.com")
    for n in range(20):
        attempt(Client(), f"guess{n}@example.com", ip="203.0.113.66")

    reset_password(user.email)

    response = attempt(Client(), user.email, NEW_PASSWORD, ip="203.0.113.66")
    assert "from your network" in response.content.decode()


@pytest.mark.django_db
def test_finding4_a_confusable_address_does_not_sign_in_to_another_account():
    user = make_user(email="user2@vestnik.example")
    lock(user.email)
    http = Client()

    # ſ (long s) folds to s under NFKC; ı (dotless i) does not, but PostgreSQL's
    # UPPER() makes it I, so email__iexact matched it to user2@vestnik.example.
    response = attempt(http, "user2@veſtnık.example", PASSWORD, ip="192.0.2.200")

    assert response.status_code == 200
    assert not is_logged_in(http)


@pytest.mark.django_db
def test_finding4_a_confusable_address_matches_no_account_even_unlocked():
    make_user(email="user2@vestnik.example")
    http = Client()

    attempt(http, "user2@vestnık.example", PASSWORD)

    assert not is_logged_in(http)


@pytest.mark.django_db
def test_finding4_the_account_counter_follows_the_account_not_the_spelling():
    user = make_user(email="owner@example.com")
    for n, spelling in enumerate(
        ["owner@example.com", " OWNER@example.com", "ｏｗｎｅｒ@example.com"] * 2
    ):
        attempt(Client(), spelling, ip=f"198.51.100.{n}")

    assert THROTTLED in attempt(Client(), user.email, PASSWORD).content.decode()


@pytest.mark.django_db(transaction=True)
def test_finding4_concurrent_wrong_tries_are_evaluated_at_most_up_to_the_limit():
    user = make_user(email="target@example.com")
    tries, evaluated, guard = 40, [], threading.Lock()
    start = threading.Barrier(tries)

    def count(sender, credentials, **kwargs):
        with guard:
            evaluated.append(credentials.get("username"))

    def guess(n):
        try:
            http = Client()
            start.wait()
            return attempt(http, user.email, f"wrong-{n}", ip=f"10.9.{n}.1").status_code
        finally:
            connection.close()

    user_login_failed.connect(count)
    try:
        with ThreadPoolExecutor(max_workers=tries) as pool:
            answers = list(pool.map(guess, range(tries)))
    finally:
        user_login_failed.disconnect(count)

    print(f"{tries} concurrent wrong tries: {len(evaluated)} evaluated")
    assert answers == [200] * tries
    assert len(evaluated) <= MAX_FAILURES_PER_ACCOUNT
