"""The page chrome (home.chrome) is rendered once per address and kept while what
it shows stands: a post's own publish leaves it, a menu change reaches every page
at once, and a visitor the page cache does not store never uses it."""

import pytest

from home import chrome
from home.page_cache import HEADER
from tests.factories import make_blog_index, make_post

pytestmark = [pytest.mark.django_db, pytest.mark.redis]

MARK = "<!-- kept chrome -->"


@pytest.fixture
def post():
    return make_post(make_blog_index(title="Blog"), slug="chrome", title="First")


def mark_kept_chrome():
    """Tag what the process keeps, so a page built from it shows the tag."""
    assert chrome._kept
    for key, html in chrome._kept.items():
        chrome._kept[key] = html + MARK


def test_a_posts_own_publish_keeps_the_chrome(client, post):
    first = client.get("/blog/chrome/")
    assert first[HEADER] == "miss" and MARK not in first.content.decode()
    mark_kept_chrome()

    post.title = "Second"
    post.save_revision().publish()
    content = client.get("/blog/chrome/").content.decode()

    assert "Second" in content and MARK in content


def test_a_menu_change_shows_on_every_page_at_once(client, post):
    client.get("/blog/chrome/")
    mark_kept_chrome()

    index = post.get_parent().specific
    index.title = "Journal"
    index.save_revision().publish()
    content = client.get("/blog/chrome/").content.decode()

    assert MARK not in content
    assert ">Journal</a>" in content and ">Blog</a>" not in content


def test_a_visitor_the_page_cache_does_not_store_keeps_nothing(client, post):
    client.cookies["sessionid"] = "no-such-session"
    assert client.get("/blog/chrome/")[HEADER] == "bypass"
    assert chrome._kept == {}


def test_an_address_that_was_not_found_gets_its_pages_chrome(client, post):
    """A 404 there keeps nothing: publishing a page at that address later bumps
    none of the generations the chrome names."""
    assert client.get("/blog/later/").status_code == 404
    assert chrome._kept == {}

    make_post(post.get_parent(), slug="later", title="Later")
    content = client.get("/blog/later/").content.decode()

    assert 'class="nav-link active" aria-current="page"' in content
