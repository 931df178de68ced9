"""A routed page is kept in the process (home.routing) only while it is what
Wagtail would route to: a publish, an unpublish, a new slug or a deleted tree takes
effect on the next request, and nothing is kept longer than the page's cached
copies live."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from home import routing
from tests.factories import home_page, make_blog_index, make_image, make_post, translate

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


def session_get(client, path: str):
    # A session cookie sends the visitor past the page cache, to routing.
    client.cookies["sessionid"] = "no-such-session"
    return client.get(path)


def page_queries(client, path: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert session_get(client, path).status_code == 200
    return [q["sql"] for q in queries if "wagtailcore_" in q["sql"]]


@pytest.fixture
def post():
    return make_post(make_blog_index(), slug="kept", title="First title")


def test_a_page_is_routed_once_then_kept(client, post):
    assert page_queries(client, "/blog/kept/")
    assert page_queries(client, "/blog/kept/") == []


def test_the_english_tree_is_found_without_a_query(client, post):
    translate(post, copy_parents=True, title="English title")
    assert "English title" in session_get(client, "/en/blog/kept/").content.decode()
    assert page_queries(client, "/en/blog/kept/") == []


def test_a_publish_takes_effect_at_once(client, post):
    session_get(client, "/blog/kept/")
    post.title = "Second title"
    post.save_revision().publish()
    assert "Second title" in session_get(client, "/blog/kept/").content.decode()


def test_a_published_page_is_read_again_by_its_id_alone(client, post):
    """Its address still leads to it: no walk down the path, and its switcher's
    addresses (its translations') stand."""
    session_get(client, "/blog/kept/")
    post.title = "Second title"
    post.save_revision().publish()

    with CaptureQueriesContext(connection) as queries:
        content = session_get(client, "/blog/kept/").content.decode()

    assert "Second title" in content and "First title" not in content
    pages = [q["sql"] for q in queries if "wagtailcore_page" in q["sql"]]
    assert len(pages) == 1 and "url_path" not in pages[0].split("WHERE")[1]


def renditions_of(image) -> str:
    # A rendition's file is named after its image's: "test-7.2e16d0ba.fill-...".
    return "/" + image.file.name.rsplit("/", 1)[-1].rsplit(".", 1)[0] + "."


def test_a_page_read_again_shows_the_image_it_shows_now(client, post):
    first, second = make_image("first"), make_image("second")
    post.main_image = first
    post.save_revision().publish()
    assert renditions_of(first) in session_get(client, "/blog/kept/").content.decode()

    post.main_image = second
    post.save_revision().publish()

    content = session_get(client, "/blog/kept/").content.decode()
    assert renditions_of(second) in content and renditions_of(first) not in content


def test_an_unpublished_page_is_gone_at_once(client, post):
    session_get(client, "/blog/kept/")
    post.unpublish()
    assert session_get(client, "/blog/kept/").status_code == 404


def test_a_page_is_kept_no_longer_than_its_cached_copies(client, post, monkeypatch):
    session_get(client, "/blog/kept/")
    later = routing.monotonic() + post.page_cache_seconds + 1
    monkeypatch.setattr(routing, "monotonic", lambda: later)
    assert page_queries(client, "/blog/kept/")


def test_a_deleted_english_home_is_no_longer_served(client):
    english_home = translate(home_page(), hero_title="English hero")
    assert "English hero" in session_get(client, "/en/").content.decode()

    english_home.delete()

    assert "English hero" not in session_get(client, "/en/").content.decode()


@pytest.mark.parametrize("path", ["/blog/kept/", "/"])
def test_a_kept_page_keeps_its_view_restrictions(client, post, path, monkeypatch):
    """Wagtail asks on every serve; a kept page (a post, the site's root) answers
    from what it read under the site generation, not from Redis or the database."""
    from home import page_cache

    session_get(client, path)
    asked = []
    monkeypatch.setattr(page_cache, "any_view_restrictions", lambda: asked.append(1))

    assert session_get(client, path).status_code == 200
    assert asked == []


def test_a_kept_page_made_private_is_refused_at_once(client, post):
    from wagtail.models import PageViewRestriction

    session_get(client, "/blog/kept/")
    PageViewRestriction.objects.create(
        page=post, restriction_type=PageViewRestriction.LOGIN
    )

    response = session_get(client, "/blog/kept/")
    assert response.status_code == 302 and "login" in response["Location"]
