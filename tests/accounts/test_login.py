import pytest
from django.core import mail

from tests.accounts.conftest import path_in
from tests.accounts.helpers import is_logged_in, log_in, sign_up
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db


@pytest.mark.smoke
def test_unverified_sign_in_is_told_why_and_offered_a_resend(client):
    # An account from before passwords were chosen behind the link: it has one.
    make_user(email="pending@example.com", email_verified_at=None, is_active=False)
    mail.outbox.clear()

    response = client.post(
        "/en/accounts/login/",
        {"username": "pending@example.com", "password": PASSWORD},
    )

    html = response.content.decode()
    assert response.status_code == 200 and not is_logged_in(client)
    assert "Your email address is not verified yet" in html
    assert 'action="/en/accounts/verify-resend/"' in html
    assert 'value="pending@example.com"' in html

    client.post("/en/accounts/verify-resend/", {"email": "pending@example.com"})
    assert len(mail.outbox) == 1 and "/accounts/verify/" in path_in(mail.outbox[0])


def test_unverified_with_a_wrong_password_gets_the_generic_answer(client):
    sign_up(client, "pending@example.com")

    response = client.post(
        "/en/accounts/login/",
        {"username": "pending@example.com", "password": "wrong-password"},
    )

    html = response.content.decode()
    assert "The email or the password is wrong" in html
    assert "not verified" not in html


@pytest.mark.smoke
def test_blocked_user_cannot_sign_in_and_is_told_so(client):
    user = make_user(is_blocked=True)

    response = client.post(
        "/en/accounts/login/", {"username": user.email, "password": PASSWORD}
    )

    assert response.status_code == 200 and not is_logged_in(client)
    assert "Your account is blocked" in response.content.decode()


def test_a_blocked_user_loses_an_open_session(client):
    user = make_user()
    client.force_login(user)
    assert client.get("/admin/").status_code == 200

    user.is_blocked = True
    user.save(update_fields=["is_blocked"])

    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_unblocked_user_old_session_stays_ended(client):
    """Whoever held the cookie while the account was blocked (a stolen session is
    why managers block) must not be signed in again by unblocking it."""
    user = make_user()
    client.force_login(user)
    user.is_blocked = True
    user.save(update_fields=["is_blocked"])
    client.get("/admin/")

    user.is_blocked = False
    user.save(update_fields=["is_blocked"])

    assert client.get("/admin/").status_code == 302


@pytest.mark.smoke
def test_the_session_key_rotates_at_login(client):
    user = make_user()
    client.get("/accounts/login/")
    client.session["probe"] = 1  # make sure an anonymous session exists
    session = client.session
    session["probe"] = 1
    session.save()
    before = client.cookies["sessionid"].value

    log_in(client, user.email)

    assert is_logged_in(client)
    assert client.cookies["sessionid"].value != before


def test_logout_is_post_only(client):
    client.force_login(make_user())

    assert client.get("/accounts/logout/").status_code == 405
    assert is_logged_in(client)
    assert client.post("/accounts/logout/").status_code == 302
    assert not is_logged_in(client)


def test_login_matches_the_email_case_insensitively(client):
    user = make_user(email="mixed@example.com")

    response = log_in(client, "  MIXED@Example.COM ".strip(), PASSWORD)

    assert response.status_code == 302 and is_logged_in(client)
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.smoke
def test_an_overlong_email_is_refused_by_the_form_not_the_database(client):
    # SQLite refuses a LIKE pattern over 50,000 characters: a 500 before the check.
    response = log_in(client, "a" * 60_000 + "@example.com", PASSWORD)

    assert response.status_code == 200
    assert response.context["form"].errors["username"]
    assert not is_logged_in(client)


UNSAFE_NEXT = [
    "//evil.example",
    "//evil.example/admin/",
    "/\\evil.example",
    "\\\\evil.example",
    "https:evil.example",
    "https://evil.example/",
    "http://evil.example",
    "javascript:alert(1)",
    "///evil.example",
    " //evil.example",
    "http:///evil.example",
]


@pytest.mark.smoke
@pytest.mark.parametrize("next_url", UNSAFE_NEXT)
def test_next_never_leaves_the_site(client, next_url):
    user = make_user()

    response = client.post(
        "/accounts/login/",
        {"username": user.email, "password": PASSWORD, "next": next_url},
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/"


@pytest.mark.parametrize(
    "next_url", ["/accounts/profile/", "/admin/pages/", "http://testserver/en/"]
)
def test_next_inside_the_site_is_followed(client, next_url):
    user = make_user()

    response = client.post(
        "/accounts/login/",
        {"username": user.email, "password": PASSWORD, "next": next_url},
    )

    assert response["Location"] == next_url


@pytest.mark.parametrize(
    "language, prefix, words", [("ru", "", "Выйти"), ("en", "/en", "Sign out")]
)
def test_opening_the_logout_address_offers_the_button_and_signs_nobody_out(
    client, language, prefix, words
):
    client.force_login(make_user())

    response = client.get(f"{prefix}/accounts/logout/")

    assert response.status_code == 405
    assert "POST" in response["Allow"]
    page = response.content.decode()
    assert words in page and 'method="post"' in page
    assert is_logged_in(client)


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_signing_out_lands_on_the_home_of_the_same_language(client, prefix):
    client.force_login(make_user())

    response = client.post(f"{prefix}/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == f"{prefix}/"
    assert not is_logged_in(client)
