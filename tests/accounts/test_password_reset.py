import pytest
from django.core import mail
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.throttling import MAX_RESETS_PER_ACCOUNT, MAX_RESETS_PER_IP
from tests.accounts.conftest import path_in
from tests.accounts.helpers import is_logged_in, log_in, page_shape
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
    spent = client.get(link, follow=True)
    assert not spent.context["validlink"]
    assert spent.status_code == 400


@pytest.mark.parametrize(
    ("prefix", "heading"),
    [("", "Эта ссылка не работает"), ("/en", "This link does not work")],
)
def test_a_dead_reset_link_says_so_in_its_heading(client, prefix, heading):
    """It answered 200 under "Set a new password", with no form to set one."""
    user = make_user(email="late@example.com")
    uid = urlsafe_base64_encode(force_bytes(user.pk))

    response = client.get(f"{prefix}/accounts/password-reset/{uid}/set-password/")

    assert response.status_code == 400
    html = response.content.decode()
    assert f"<title>{heading} · Vestnik</title>" in html
    assert f">{heading}</h1>" in html
    assert 'name="new_password1"' not in html


def test_blocked_user_gets_no_reset_email(client):
    make_user(email="blocked@example.com", is_blocked=True)

    response = client.post(
        "/accounts/password-reset/", {"email": "blocked@example.com"}
    )

    assert response.status_code == 302 and not mail.outbox


RESET_THROTTLED = "You asked for several password reset links"


def ask_reset(client, email, ip="203.0.113.9"):
    return client.post("/en/accounts/password-reset/", {"email": email}, REMOTE_ADDR=ip)


def test_reset_emails_for_one_address_are_throttled_whatever_the_ip(client):
    make_user(email="victim@example.com")
    for n in range(MAX_RESETS_PER_ACCOUNT):
        ask_reset(client, "victim@example.com", ip=f"198.51.100.{n}")
    assert len(mail.outbox) == MAX_RESETS_PER_ACCOUNT

    response = ask_reset(client, "  VICTIM@Example.COM", ip="192.0.2.1")

    assert response["Location"] == "/en/accounts/password-reset/done/"
    assert len(mail.outbox) == MAX_RESETS_PER_ACCOUNT
    assert RESET_THROTTLED in client.get(response["Location"]).content.decode()


def test_a_throttled_reset_answers_the_same_for_known_and_unknown_addresses(client):
    make_user(email="known@example.com")
    answers = {}
    for email in ("known@example.com", "ghost@example.com"):
        for n in range(MAX_RESETS_PER_ACCOUNT):
            ask_reset(client, email, ip=f"198.51.100.{n}")
        response = ask_reset(client, email, ip="192.0.2.2")
        done = client.get(response["Location"])
        answers[email] = (response.status_code, response["Location"], page_shape(done))

    assert answers["known@example.com"] == answers["ghost@example.com"]
    assert RESET_THROTTLED in answers["ghost@example.com"][2]


def test_reset_requests_from_one_ip_are_throttled_across_addresses(client):
    make_user(email="target@example.com")
    for n in range(MAX_RESETS_PER_IP):
        ask_reset(client, f"guess{n}@example.com")

    ask_reset(client, "target@example.com")
    assert not mail.outbox
    # Another address is not affected.
    ask_reset(client, "target@example.com", ip="192.0.2.3")
    assert [m.to for m in mail.outbox] == [["target@example.com"]]


def test_the_throttled_reset_message_is_translated(client):
    for n in range(MAX_RESETS_PER_ACCOUNT):
        ask_reset(client, "ghost@example.com", ip=f"198.51.100.{n}")

    response = client.post(
        "/accounts/password-reset/", {"email": "ghost@example.com"}, follow=True
    )

    html = response.content.decode()
    assert RESET_THROTTLED not in html
    assert "15" in html and "ссылк" in html
