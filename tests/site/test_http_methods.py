"""Methods no browser form sends (PUT, DELETE, PATCH, WebDAV's, TRACE) on the public
site: a 405 naming what the address takes, not a 403 about a missing CSRF token."""

import pytest
from django.test import Client

from tests.factories import make_blog_index, make_post, make_user

pytestmark = pytest.mark.django_db

METHODS = ["PUT", "DELETE", "PATCH", "PROPFIND", "TRACE"]
PAGES = {
    "home": ("/", {"GET", "HEAD", "OPTIONS", "POST"}),
    "blog index": ("/blog/", {"GET", "HEAD", "OPTIONS", "POST"}),
    "post": ("/blog/post/", {"GET", "HEAD", "OPTIONS", "POST"}),
    "english page": ("/en/", {"GET", "HEAD", "OPTIONS", "POST"}),
    "signup": ("/accounts/signup/", {"GET", "HEAD", "OPTIONS", "POST"}),
    "login": ("/en/accounts/login/", {"GET", "HEAD", "OPTIONS", "POST"}),
    "signup done": ("/accounts/signup/done/", {"GET", "HEAD", "OPTIONS"}),
    "password reset": ("/accounts/password-reset/", {"GET", "HEAD", "OPTIONS", "POST"}),
    "email change": ("/accounts/profile/email/", {"GET", "POST"}),
    "logout": ("/accounts/logout/", {"OPTIONS", "POST"}),
}


@pytest.fixture
def browser():
    make_post(make_blog_index(), slug="post")
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user())
    return client


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kind", PAGES)
def test_a_method_no_form_sends_is_not_allowed(browser, kind, method):
    path, allowed = PAGES[kind]
    response = browser.generic(method, path)
    assert response.status_code == 405
    assert set(response["Allow"].split(", ")) == allowed


def test_a_post_without_its_token_is_still_refused(browser):
    for path in (
        "/accounts/signup/",
        "/en/accounts/login/",
        "/accounts/profile/email/",
    ):
        assert browser.post(path, {"email": "x@example.org"}).status_code == 403


def test_pages_still_answer_the_methods_they_take(browser):
    assert browser.get("/blog/post/").status_code == 200
    assert browser.head("/blog/").status_code == 200
    assert browser.options("/accounts/signup/done/").status_code == 200
    # The sign-up sends the signed-in on, as the login does: asked by a visitor.
    visitor = Client(enforce_csrf_checks=True)
    assert visitor.options("/accounts/signup/").status_code == 200
    assert browser.options("/accounts/signup/")["Location"] == "/admin/"


def test_the_api_keeps_its_own_answer():
    """The API answers in its shape (mailing.api): 401 without a token, JSON."""
    response = Client(enforce_csrf_checks=True).put("/api/v1/mailings/")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"


def test_the_admin_keeps_its_own_methods(browser):
    """Wagtail's admin sends PATCH and DELETE itself (dismissibles, previews)."""
    admin = Client(enforce_csrf_checks=True)
    admin.force_login(make_user("superuser"))
    assert admin.patch("/admin/dismissibles/", "{}").status_code == 403  # CSRF


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_an_api_address_with_no_route_answers_in_the_apis_shape_whatever_the_method(
    client, method
):
    """An id that is no id routes nowhere in the API (here: to the pages' catch-all);
    the API's JSON 404 answers it, not the site's HTML 405."""
    answer = getattr(client, method)("/api/v1/clients/abc/", HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"
