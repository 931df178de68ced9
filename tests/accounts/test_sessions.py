"""Sessions read from Redis (accounts/sessions.py): a signed-in request asks the
database nothing about its session, and every way out still ends it everywhere."""

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from accounts.sessions import REDIS_ERRORS
from tests.factories import PASSWORD, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.redis]

PROFILE = "/accounts/profile/"


def signed_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def is_signed_in(browser) -> bool:
    response = browser.get(PROFILE)
    assert response.status_code in (200, 302)
    return response.status_code == 200


def test_sessions_use_cached_db_on_an_alias_that_reports_redis_errors():
    assert settings.SESSION_ENGINE == "accounts.sessions"
    sessions = settings.CACHES[settings.SESSION_CACHE_ALIAS]
    assert not sessions["OPTIONS"].get("IGNORE_EXCEPTIONS")


def test_a_signed_in_request_reads_its_session_from_redis():
    browser = signed_in(make_user())

    with CaptureQueriesContext(connection) as queries:
        assert is_signed_in(browser)

    assert not [q["sql"] for q in queries if "django_session" in q["sql"]]


def test_a_sign_out_ends_the_copy_in_redis_too():
    browser = signed_in(make_user())
    copied_cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value

    browser.post("/accounts/logout/")

    other = Client()
    other.cookies[settings.SESSION_COOKIE_NAME] = copied_cookie
    assert not is_signed_in(other) and not is_signed_in(browser)


def test_a_password_change_signs_out_the_other_sessions():
    user = make_user()
    here, there = signed_in(user), signed_in(user)
    new = "lantern-orchard-77"

    response = here.post(
        "/accounts/profile/password/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )

    assert response.status_code == 302
    assert is_signed_in(here) and not is_signed_in(there)


def unreachable_sessions_cache() -> dict:
    sessions = settings.CACHES["sessions"]
    # Nothing listens on port 1.
    return {
        **settings.CACHES,
        "sessions": {**sessions, "LOCATION": "redis://127.0.0.1:1/0"},
    }


def test_without_redis_sessions_come_from_the_database_and_a_sign_out_fails_whole():
    browser = signed_in(make_user())

    with override_settings(CACHES=unreachable_sessions_cache()):
        assert is_signed_in(browser)
        # The copy could not be removed: the sign-out fails and ends nothing, so no
        # copy outlives the row (the visitor sees the error and may try again).
        with pytest.raises(REDIS_ERRORS):
            browser.post("/accounts/logout/")

    assert is_signed_in(browser)
    browser.post("/accounts/logout/")
    assert not is_signed_in(browser)


def test_without_redis_a_sign_in_still_starts_a_session():
    user = make_user()
    browser = Client()

    with override_settings(CACHES=unreachable_sessions_cache()):
        response = browser.post(
            "/accounts/login/", {"username": user.email, "password": PASSWORD}
        )
        assert response.status_code == 302 and is_signed_in(browser)
