import pytest
from django.test import RequestFactory, override_settings

from accounts.throttling import (
    MAX_FAILURES_PER_ACCOUNT,
    MAX_FAILURES_PER_IP,
    client_ip,
)
from tests.accounts.helpers import is_logged_in
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

THROTTLED = "Too many failed sign-in attempts"


def attempt(client, email, password="wrong-password", ip="203.0.113.5", **headers):
    return client.post(
        "/en/accounts/login/",
        {"username": email, "password": password},
        REMOTE_ADDR=ip,
        **headers,
    )


@pytest.mark.smoke
def test_an_account_is_throttled_after_repeated_failures_even_with_the_right_password(
    client,
):
    user = make_user(email="victim@example.com")
    for n in range(MAX_FAILURES_PER_ACCOUNT):
        # Each guess from a different IP: the per-account counter still adds up.
        response = attempt(client, "victim@example.com", ip=f"198.51.100.{n}")
        assert THROTTLED not in response.content.decode()

    response = attempt(client, user.email, PASSWORD, ip="192.0.2.77")

    assert THROTTLED in response.content.decode()
    assert not is_logged_in(client)


def test_changing_the_case_of_the_email_does_not_reset_the_account_counter(client):
    make_user(email="victim@example.com")
    for n in range(MAX_FAILURES_PER_ACCOUNT):
        attempt(client, "victim@example.com", ip=f"198.51.100.{n}")

    response = attempt(client, "  VICTIM@Example.COM", PASSWORD, ip="192.0.2.1")

    assert THROTTLED in response.content.decode()


def test_an_unknown_account_is_throttled_the_same_way(client):
    for n in range(MAX_FAILURES_PER_ACCOUNT):
        attempt(client, "ghost@example.com", ip=f"198.51.100.{n}")

    assert THROTTLED in attempt(client, "ghost@example.com").content.decode()


@pytest.mark.smoke
def test_an_ip_is_throttled_across_accounts(client):
    user = make_user()
    for n in range(MAX_FAILURES_PER_IP):
        attempt(client, f"guess{n}@example.com")

    response = attempt(client, user.email, PASSWORD)

    assert THROTTLED in response.content.decode()
    assert not is_logged_in(client)
    # Another address is not affected.
    assert attempt(client, user.email, PASSWORD, ip="192.0.2.9").status_code == 302


def test_a_spoofed_forwarded_for_header_does_not_reset_the_ip_counter(client):
    user = make_user()
    for n in range(MAX_FAILURES_PER_IP):
        attempt(client, f"guess{n}@example.com", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")

    response = attempt(client, user.email, PASSWORD, HTTP_X_FORWARDED_FOR="10.9.9.9")

    assert THROTTLED in response.content.decode()


def test_a_successful_login_clears_the_account_counter_but_not_the_ip_counter(
    client,
):
    user = make_user()
    for _ in range(MAX_FAILURES_PER_ACCOUNT - 1):
        attempt(client, user.email)
    assert attempt(client, user.email, PASSWORD).status_code == 302
    client.logout()

    for _ in range(MAX_FAILURES_PER_ACCOUNT - 1):
        attempt(client, user.email, ip="192.0.2.50")

    assert attempt(client, user.email, PASSWORD, ip="192.0.2.50").status_code == 302


def test_client_ip_ignores_forwarded_for_without_a_trusted_proxy():
    request = RequestFactory().get(
        "/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="10.0.0.1"
    )

    assert client_ip(request) == "192.0.2.1"


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_client_ip_takes_the_entry_the_trusted_proxy_wrote():
    # The client forged "1.1.1.1"; the proxy appended the real peer 198.51.100.7.
    request = RequestFactory().get(
        "/",
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="1.1.1.1, 198.51.100.7",
    )

    assert client_ip(request) == "198.51.100.7"
