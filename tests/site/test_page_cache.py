"""Whole-page cache: hits, invalidation, and never storing a signed-in visit."""

import pytest
from django.conf import settings
from django.test import Client

from home.page_cache import HEADER
from tests.factories import (
    home_page,
    make_blog_index,
    make_post,
    make_user,
    translate,
)

pytestmark = pytest.mark.django_db

USERBAR = "wagtail-userbar"


@pytest.fixture
def post():
    return make_post(make_blog_index(), slug="cached", title="Original title")


@pytest.mark.smoke
@pytest.mark.parametrize("path", ["/", "/en/", "/blog/", "/blog/?page=1"])
def test_second_anonymous_request_is_a_hit_without_queries(
    client, post, path, django_assert_num_queries
):
    first = client.get(path)
    with django_assert_num_queries(0):
        second = client.get(path)

    assert first[HEADER] == "miss"
    assert second[HEADER] == "hit"
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]


SECURITY_HEADERS = (
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "X-Frame-Options",
)


@pytest.mark.parametrize("path", ["/", "/blog/cached/"])
def test_a_hit_carries_the_security_headers_of_the_render(client, post, path):
    # The cache answers before the security middlewares: the entry must hold them.
    first = client.get(path)
    second = client.get(path)

    assert second[HEADER] == "hit"
    for name in SECURITY_HEADERS:
        assert second[name] == first[name], name


def test_a_hit_on_a_post_counts_outside_the_render(client, post):
    browser = "Mozilla/5.0 Firefox/128.0"
    client.get("/blog/cached/", HTTP_USER_AGENT=f"{browser} one")
    second = client.get("/blog/cached/", HTTP_USER_AGENT=f"{browser} two")
    assert second[HEADER] == "hit"
    # Counted twice (two visitors): once on the render, once on the hit (pending in
    # Redis, or written straight through without it).
    from blog.services import flush_view_counts

    flush_view_counts()
    post.refresh_from_db()
    assert post.view_count == 2


def test_languages_and_queries_are_separate_entries(client, post):
    translate(post.get_parent())
    assert client.get("/blog/")[HEADER] == "miss"
    assert client.get("/en/blog/")[HEADER] == "miss"
    assert client.get("/blog/?page=1")[HEADER] == "miss"
    assert 'lang="en"' in client.get("/en/blog/").content.decode()
    assert 'lang="ru"' in client.get("/blog/").content.decode()


def test_publish_drops_the_cached_pages(client, post):
    for path in ("/", "/blog/", "/blog/cached/"):
        client.get(path)
        assert client.get(path)[HEADER] == "hit"

    post.title = "New title"
    post.save_revision().publish()

    for path in ("/", "/blog/", "/blog/cached/"):
        response = client.get(path)
        assert response[HEADER] == "miss", path
    assert "New title" in client.get("/blog/cached/").content.decode()
    assert "New title" in client.get("/blog/").content.decode()


def test_unpublish_move_and_delete_drop_the_cached_pages(client, post):
    client.get("/blog/")
    post.unpublish()
    response = client.get("/blog/")
    assert response[HEADER] == "miss"
    assert "Original title" not in response.content.decode()

    other_index = make_blog_index(title="Other", slug="other")
    post.save_revision().publish()
    client.get("/other/")
    post.move(other_index, pos="last-child")
    assert client.get("/other/")[HEADER] == "miss"

    client.get("/other/")
    post.delete()
    assert client.get("/other/")[HEADER] == "miss"


def test_making_a_post_private_drops_its_cached_copy(client, post):
    from wagtail.models import PageViewRestriction

    client.get("/blog/cached/")
    assert client.get("/blog/cached/")[HEADER] == "hit"

    restriction = PageViewRestriction.objects.create(
        page=post, restriction_type=PageViewRestriction.LOGIN
    )
    assert client.get("/blog/cached/").status_code == 302  # to the login page

    restriction.delete()
    assert client.get("/blog/cached/").status_code == 200


def test_editor_visit_never_reaches_an_anonymous_visitor(post):
    editor = Client()
    editor.force_login(make_user("editor"))
    anonymous = Client()

    seen_by_editor = editor.get("/blog/cached/")
    first = anonymous.get("/blog/cached/")
    second = anonymous.get("/blog/cached/")

    assert seen_by_editor[HEADER] == "bypass"
    assert USERBAR in seen_by_editor.content.decode()
    assert first[HEADER] == "miss"  # the editor's render was not stored
    assert second[HEADER] == "hit"
    for response in (first, second):
        assert USERBAR not in response.content.decode()
    # And the other way round: an editor never gets the anonymous copy.
    again = editor.get("/blog/cached/")
    assert again[HEADER] == "bypass" and USERBAR in again.content.decode()


def test_a_session_or_messages_cookie_bypasses_the_cache(client, post):
    client.get("/blog/")
    client.cookies[settings.SESSION_COOKIE_NAME] = "whatever"
    assert client.get("/blog/")[HEADER] == "bypass"
    del client.cookies[settings.SESSION_COOKIE_NAME]
    client.cookies["messages"] = "x"
    assert client.get("/blog/")[HEADER] == "bypass"


def test_head_is_answered_from_the_cache_without_a_body(client, post):
    client.get("/blog/")
    response = client.head("/blog/")
    assert response[HEADER] == "hit"
    assert response.content == b""


def test_non_page_urls_never_touch_the_cache(client):
    assert HEADER not in client.get("/robots.txt")
    assert HEADER not in client.get("/admin/login/")


def test_home_figures_are_cached_for_a_minute(client):
    from home.services import FIGURES_SECONDS, live_figures

    assert FIGURES_SECONDS == 60
    assert home_page().page_cache_seconds == 60
    assert live_figures() == {
        "mailings_total": 0,
        "mailings_running": 0,
        "unique_clients": 0,
    }
