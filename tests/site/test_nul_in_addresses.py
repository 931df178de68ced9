"""A NUL (%00) in an address is a 400 that says why, never a 500.

The outside run found PostgreSQL's refusal of NUL in a text parameter as 500s
wherever a view queried a value of the address: a subscribe form's key, the blog's
tag filter, Wagtail's pages API (search, locale, find), the snippet choosers and
the bulk actions. SQLite stores NUL, so there the same addresses were 404s or
pages: either way not the refusal they are now."""

import pytest
from django.test import Client as HttpClient

from tests.factories import english, make_blog_index, make_user

pytestmark = pytest.mark.django_db

PUBLIC = [
    "/subscribe/%00/",
    "/subscribe/a%00b/",
    "/blog/?tag=%00",
    "/en/blog/?tag=a%00",
    "/api/v2/pages/?search=%00",
    "/api/v2/pages/?locale=%00",
    "/api/v2/pages/find/?html_path=%00",
]
ADMIN = [
    "/admin/snippets/choose/mailing/client/chosen/%00/",
    "/admin/bulk/mailing/client/delete/?id=%00",
    "/admin/mailing/clients/?q=%00",
]


@pytest.fixture
def blog():
    return make_blog_index()


@pytest.mark.parametrize("path", PUBLIC)
def test_a_nul_in_a_public_address_is_refused_with_its_reason(blog, path):
    response = HttpClient().get(path)
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


@pytest.mark.parametrize("path", ADMIN)
def test_a_nul_in_an_admin_address_is_refused_with_its_reason(path):
    http = HttpClient()
    http.force_login(make_user("mailing_user"))
    response = http.get(path)
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_the_refusal_speaks_the_language_of_the_address(blog):
    english = HttpClient().get("/en/blog/?tag=%00").content.decode()
    russian = HttpClient().get("/blog/?tag=%00").content.decode()
    assert "The address contains a NUL character." in english
    assert "The address contains a NUL character." not in russian


def test_the_apis_refusal_is_json_in_the_apis_error_shape():
    """It was the site's HTML 400 page, to clients that read JSON."""
    http = HttpClient()
    http.force_login(english(make_user("mailing_user")))
    for path in ("/api/v1/mailings/?status=%00", "/api/v2/pages/?search=%00"):
        response = http.get(path, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400
        assert response["Content-Type"] == "application/json"
        assert response.json() == {
            "code": "bad_request",
            "message": "The address contains a NUL character.",
        }
    http.force_login(make_user("mailing_user"))
    russian = http.get("/api/v1/clients/?q=%00").json()
    assert russian == {"code": "bad_request", "message": "В адресе есть символ NUL."}
