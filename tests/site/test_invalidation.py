"""A change drops what can show it, per page and language (home.generations,
home.signals): one rule per test, each against the real cache."""

import uuid

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from blog.services import flush_view_counts, record_view
from home import generations, page_store, signals
from home.page_cache import HEADER
from tests.factories import make_blog_index, make_post, translate

pytestmark = pytest.mark.django_db


@pytest.fixture
def blog():
    index = make_blog_index()
    first = make_post(index, slug="first", title="First post")
    second = make_post(index, slug="second", title="Second post")
    return index, first, second


def prime(client, *paths):
    for path in paths:
        client.get(path)
        assert client.get(path)[HEADER] == "hit", path


def states(client, *paths):
    return {path: client.get(path)[HEADER] for path in paths}


def test_editing_one_post_keeps_the_other_posts_copy(client, blog):
    _index, first, _second = blog
    prime(client, "/blog/first/", "/blog/second/")

    first.title = "First post, edited"
    first.save_revision().publish()

    assert states(client, "/blog/first/", "/blog/second/") == {
        "/blog/first/": "miss",
        "/blog/second/": "hit",
    }
    assert "First post, edited" in client.get("/blog/first/").content.decode()


def test_publishing_a_post_drops_its_languages_lists_and_its_lists_translation(
    client, blog
):
    index, first, _second = blog
    translate(index)
    translate(first, title="First, in English")
    prime(client, "/", "/blog/", "/en/", "/en/blog/")

    make_post(index, slug="third", title="Third post")

    assert states(client, "/", "/blog/", "/en/", "/en/blog/") == {
        "/": "miss",
        "/blog/": "miss",
        "/en/": "hit",
        # Its switcher leads to this list's tags and page numbers where they are.
        "/en/blog/": "miss",
    }
    assert "Third post" in client.get("/blog/").content.decode()


def test_publishing_a_translation_drops_the_post_it_translates(client, blog):
    index, first, _second = blog
    translate(index)
    prime(client, "/blog/first/", "/blog/second/")

    translate(first, title="First, in English")

    # The Russian post's switcher now links to its translation.
    assert states(client, "/blog/first/", "/blog/second/") == {
        "/blog/first/": "miss",
        "/blog/second/": "hit",
    }
    assert 'href="/en/blog/first/"' in client.get("/blog/first/").content.decode()


def test_unpublishing_a_post_drops_it_and_its_lists(client, blog):
    _index, first, _second = blog
    prime(client, "/blog/", "/blog/first/", "/blog/second/")

    first.unpublish()

    assert client.get("/blog/first/").status_code == 404
    assert "First post" not in client.get("/blog/").content.decode()
    assert client.get("/blog/second/")[HEADER] == "hit"


@pytest.mark.redis  # without Redis a view is written straight through: no flush
def test_the_view_count_flush_drops_no_page(client, blog):
    _index, first, _second = blog
    prime(client, "/", "/blog/", "/blog/first/")
    record_view(first.pk)

    assert flush_view_counts() >= 1
    assert set(states(client, "/", "/blog/", "/blog/first/").values()) == {"hit"}


def test_a_subtree_delete_costs_one_bump_now_and_one_query_on_commit(
    blog, monkeypatch, django_capture_on_commit_callbacks
):
    index, _first, _second = blog
    for n in range(5):
        make_post(index, slug=f"more-{n}")
    bumps = []
    monkeypatch.setattr(generations, "bump", bumps.append)

    with django_capture_on_commit_callbacks():
        index.delete()  # 8 rows, a post_delete each

    assert bumps == [["pagecache:generation:ru", "pagecache:listing:ru"]]
    with CaptureQueriesContext(connection) as queries:
        signals.drop_deleted_batch(
            {(index.translation_key, index.locale_id), (uuid.uuid4(), index.locale_id)}
        )
    assert len(queries) == 1
    assert sorted(bumps[-1]) == ["pagecache:generation:ru", "pagecache:listing:ru"]


@pytest.mark.redis
def test_a_generation_lost_by_redis_never_comes_back():
    if not page_store.available():
        pytest.skip("needs REDIS_URL")
    name = generations.listing_generation("ru")
    page_store.bump([name])
    page_store.bump([name])
    before = page_store.as_generation(page_store.read([name])[0])

    cache.delete(name)  # Redis lost it (a restart, an eviction)
    page_store.bump([name])
    after = page_store.as_generation(page_store.read([name])[0])

    assert after != before and after > before
    page_store.bump([name])
    assert page_store.as_generation(page_store.read([name])[0]) == after + 1


@pytest.mark.redis
def test_an_entry_of_another_format_is_a_miss(client, blog):
    from home.page_cache import Entry

    assert Entry.decode(b"\x80\x05pickled-by-an-older-deploy") is None
    prime(client, "/blog/first/")


def test_a_visitor_with_a_session_sees_a_post_edited_elsewhere_at_once(blog):
    _index, first, second = blog
    reader = Client()
    reader.cookies["sessionid"] = "no-such-session"
    for path in ("/blog/first/", "/blog/second/"):
        reader.get(path)

    first.title = "First, retitled"
    first.save_revision().publish()

    assert "First, retitled" in reader.get("/blog/first/").content.decode()
    assert "Second post" in reader.get("/blog/second/").content.decode()


def stored_entry(path):
    from django.test import RequestFactory

    from home.page_cache import Entry, page_key

    request = RequestFactory().get(path)
    return Entry.decode(page_store.read([page_key(request, request.get_host())])[0])


@pytest.mark.redis
def test_an_entry_names_the_generations_its_lookup_checks(client, blog):
    """The lookup script reads only what the entry's head names: a post's site,
    language and address, and for a list its language's listing too."""
    if not page_store.available():
        pytest.skip("needs REDIS_URL")
    prime(client, "/blog/first/", "/blog/")
    post, listing = stored_entry("/blog/first/"), stored_entry("/blog/")

    names = generations.request_generation_names("/blog/first/", "ru")
    assert set(post.generations) == {
        page_store.cache_key(names[role]) for role in ("site", "language", "page")
    }
    names = generations.request_generation_names("/blog/", "ru")
    assert set(listing.generations) == {
        page_store.cache_key(names[role]) for role in generations.ROLES
    }
    for name, value in post.generations.items():
        assert value == str(page_store.as_generation(page_store.client().get(name)))
