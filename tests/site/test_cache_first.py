"""The page cache answers before SecurityMiddleware, CSP and the host check: a hit
must be what those would have let through, with the headers they would have added."""

import pytest
from django.test import Client, override_settings

from home.page_cache import HEADER
from tests.factories import make_blog_index, make_post, make_user, translate

pytestmark = pytest.mark.django_db

HSTS = 60 * 60 * 24 * 365
PRODUCTION_SECURITY = {
    "SECURE_SSL_REDIRECT": True,
    "SECURE_HSTS_SECONDS": HSTS,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_HSTS_PRELOAD": True,
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
}


@pytest.fixture
def post():
    index = make_blog_index()
    translate(index)  # /en/blog/ is the index's English translation
    return make_post(index, slug="cached", title="Cached post")


@pytest.mark.parametrize("path", ["/", "/blog/", "/blog/cached/", "/en/blog/"])
def test_plain_http_is_redirected_even_when_the_https_page_is_cached(post, path):
    with override_settings(**PRODUCTION_SECURITY):
        browser = Client()
        assert browser.get(path, secure=True)[HEADER] == "miss"
        hit = browser.get(path, secure=True)
        for _ in range(2):
            plain = browser.get(path)
            assert plain.status_code == 301
            assert plain["Location"] == f"https://testserver{path}"
            assert plain.get(HEADER) != "hit"

    assert hit[HEADER] == "hit"
    assert hit["Strict-Transport-Security"] == (
        f"max-age={HSTS}; includeSubDomains; preload"
    )
    assert "default-src 'self'" in hit["Content-Security-Policy"]


def test_head_answers_like_get_without_a_body(client, post):
    head_miss = client.head("/blog/cached/")
    get = client.get("/blog/cached/")
    head_hit = client.head("/blog/cached/")

    assert head_miss.status_code == head_hit.status_code == 200
    assert head_miss.content == head_hit.content == b""
    assert head_hit[HEADER] == "hit"
    assert head_hit["Content-Type"] == get["Content-Type"]
    assert head_hit["Content-Length"] == str(len(get.content))


@pytest.mark.parametrize("host", ["evil.example", "testserver.evil.example"])
def test_a_host_outside_allowed_hosts_never_gets_a_cached_page(client, post, host):
    client.get("/blog/cached/")
    assert client.get("/blog/cached/")[HEADER] == "hit"

    response = Client(raise_request_exception=False).get(
        "/blog/cached/", headers={"host": host}
    )
    assert response.status_code == 400
    assert b"Cached post" not in response.content


def test_parameter_order_only_shares_an_entry_when_the_page_is_the_same(client):
    index = make_blog_index()
    make_post(index, title="About apples", tags=["apples"])
    make_post(index, title="About pears", tags=["pears"])

    # Django's request.GET.get returns a repeated parameter's last value.
    last_pears = client.get("/blog/?tag=apples&tag=pears").content.decode()
    last_apples = client.get("/blog/?tag=pears&tag=apples").content.decode()
    assert "About pears" in last_pears and "About apples" not in last_pears
    assert "About apples" in last_apples and "About pears" not in last_apples

    # An encoded name is the same name to Django.
    encoded_last = client.get("/blog/?tag=apples&t%61g=pears").content.decode()
    plain_last = client.get("/blog/?t%61g=pears&tag=apples").content.decode()
    assert "About pears" in encoded_last and "About apples" in plain_last

    # Different names in another order are the same page: one entry.
    client.get("/blog/?tag=apples&page=1")
    assert client.get("/blog/?page=1&tag=apples")[HEADER] == "hit"


def test_a_signed_in_editor_neither_gets_nor_stores_a_cached_page(post):
    anonymous = Client()
    anonymous.get("/blog/cached/")
    editor = Client()
    editor.force_login(make_user("editor"))

    seen = editor.get("/blog/cached/")
    assert seen[HEADER] == "bypass"
    assert "wagtail-userbar" in seen.content.decode()
    assert editor.get("/blog/cached/")[HEADER] == "bypass"
    assert "wagtail-userbar" not in anonymous.get("/blog/cached/").content.decode()


def test_a_preview_is_never_answered_from_the_cache(client, post):
    # Wagtail runs a preview through the whole middleware chain at the page's own
    # address; without the editor's request (an allowed call) it has no cookie.
    site_host = {"host": "localhost"}  # the Site's: where the preview is made
    client.get("/blog/cached/", headers=site_host)
    assert client.get("/blog/cached/", headers=site_host)[HEADER] == "hit"
    post.title = "Draft title"
    draft = post.save_revision().as_object()

    visit = client.get("/blog/cached/", headers=site_host).wsgi_request
    for original_request in (None, visit):
        preview = draft.make_preview_request(original_request)
        assert "Draft title" in preview.content.decode()
        assert preview.get(HEADER) != "hit"
    public = client.get("/blog/cached/", headers=site_host).content.decode()
    assert "Draft title" not in public
