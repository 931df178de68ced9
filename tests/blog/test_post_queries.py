"""A post rendered for a visitor the page cache cannot answer: a fixed number of
queries, whatever the post holds."""

import pytest
import redis
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from wagtail.rich_text import RichText

from home.page_cache import HEADER
from tests.factories import make_blog_index, make_image, make_post

pytestmark = [pytest.mark.django_db, pytest.mark.redis]

# The session: the post and its route are kept in the process (home.routing).
FROM_FRAGMENTS = 1
# With nothing cached (the generations start again, so nothing kept matches): the
# session, the active locale (Wagtail's Page.localized, on the way to the request's
# tree), the pages on the path, the post itself with its main image, the site and
# its root page, whether any page is private, the menu (the root's translations,
# their children), the site root paths and their translations (Wagtail's own
# cache), the post's translations and the home pages' (the language switcher: this
# post has none), the image's renditions, the tags.
COLD = 15


def get_with_a_session_cookie(client, url: str):
    # A session cookie (a stale one: Django deletes it in the response) sends the
    # visitor past the page cache, to a full render.
    client.cookies["sessionid"] = "no-such-session"
    response = client.get(url)
    assert response[HEADER] == "bypass"
    return response


def make_full_post(index, slug: str, size: int):
    body = []
    for n in range(size):
        body += [
            ("paragraph", RichText(f"<p>Paragraph {n}</p>")),
            ("quote", f"Quote {n}"),
            ("code", {"language": "bash", "code": f"echo {n}"}),
        ]
    return make_post(
        index,
        slug=slug,
        main_image=make_image(f"main {slug}", size=(1600, 900)),
        tags=[f"tag-{slug}-{n}" for n in range(size)],
        body=body,
    )


def render_queries(client, post, *, cold: bool) -> int:
    get_with_a_session_cookie(client, post.url)  # renditions are made here
    if cold:
        cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = get_with_a_session_cookie(client, post.url)
    assert response.status_code == 200
    assert response.content.decode().count("badge") >= 1
    return len(queries)


@pytest.mark.parametrize("cold", [True, False], ids=["cold cache", "fragments"])
def test_a_post_renders_in_a_fixed_number_of_queries(client, cold):
    index = make_blog_index()
    small = make_full_post(index, "small", 1)
    large = make_full_post(index, "large", 12)

    expected = COLD if cold else FROM_FRAGMENTS
    assert render_queries(client, small, cold=cold) == expected
    assert render_queries(client, large, cold=cold) == expected


def redis_round_trips(monkeypatch) -> list:
    commands = []
    execute = redis.Redis.execute_command

    def counted(self, *args, **options):
        commands.append(args[0])
        return execute(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", counted)
    return commands


def test_a_post_from_fragments_is_four_redis_round_trips(client, monkeypatch):
    post = make_full_post(make_blog_index(), "counted", 2)
    get_with_a_session_cookie(client, post.url)
    commands = redis_round_trips(monkeypatch)

    get_with_a_session_cookie(client, post.url)

    # The session's copy (accounts.sessions: none for this stale cookie, which the
    # database then answers), the generations with the menu and the switcher's
    # addresses, the two fragments (the routed post kept its view restrictions; the
    # test client sends no user agent: a bot, whose view is not counted).
    assert commands == ["GET", "MGET", "GET", "GET"]


def test_the_first_visitor_after_a_publish_costs_two_queries(client, monkeypatch):
    """A page cache miss rendered whole: the post read again by its id (its
    address, image, renditions, switcher and menu stand), its tags; in Redis the
    lookup, the generations with what the page shows around the post, the entry
    stored (the test client sends no user agent: no view is counted)."""
    post = make_full_post(make_blog_index(), "republished", 2)
    client.get(post.url)
    post.intro = "Changed intro"
    post.save_revision().publish()
    commands = redis_round_trips(monkeypatch)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(post.url)

    assert response[HEADER] == "miss" and "Changed intro" in response.content.decode()
    assert len(queries) == 2
    assert commands == ["EVALSHA", "MGET", "SET"]


def test_a_fragment_never_outlives_a_publish(client):
    post = make_post(make_blog_index(), slug="changing", title="Before")
    assert "Before" in get_with_a_session_cookie(client, post.url).content.decode()

    post.title = "After"
    post.save_revision().publish()

    content = get_with_a_session_cookie(client, post.url).content.decode()
    assert "After" in content and "Before" not in content


def test_a_preview_neither_stores_nor_reads_the_fragments(client):
    post = make_post(make_blog_index(), slug="previewed", title="Live title")
    post.title = "Draft title"
    draft = post.save_revision().as_object()

    # Previewed first: had it stored its fragments, visitors would read the draft.
    assert "<h1>Draft title</h1>" in draft.make_preview_request().content.decode()
    for response in (get_with_a_session_cookie(client, post.url), client.get(post.url)):
        content = response.content.decode()
        assert "Live title" in content and "Draft title" not in content
    # And with the live fragments cached, a preview still shows the draft.
    assert "<h1>Draft title</h1>" in draft.make_preview_request().content.decode()


def test_a_miss_counts_the_view_as_it_stores_the_entry(client, monkeypatch):
    """A reader (a browser's agent: counted) on a miss: the entry is stored and the
    view counted in one script, not a SET then a count of its own."""
    from blog.services import PENDING_KEY, redis_client

    post = make_full_post(make_blog_index(), "counted-on-store", 1)
    client.get(post.url)
    post.save_revision().publish()
    commands = redis_round_trips(monkeypatch)

    agent = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"
    response = client.get(post.url, HTTP_USER_AGENT=agent)

    assert response[HEADER] == "miss"
    assert commands == ["EVALSHA", "MGET", "EVALSHA"]
    assert int(redis_client().hget(PENDING_KEY, post.pk)) == 1
    # The same reader again, from the entry stored: not counted twice.
    assert client.get(post.url, HTTP_USER_AGENT=agent)[HEADER] == "hit"
    assert int(redis_client().hget(PENDING_KEY, post.pk)) == 1


def test_a_publish_that_changes_the_tags_shows_them_at_once(client):
    post = make_full_post(make_blog_index(), "retagged", 1)
    assert "tag-retagged-0" in client.get(post.url).content.decode()

    post.tags.set(["zebra", "apple"])
    post.save_revision().publish()

    content = client.get(post.url).content.decode()
    assert "tag-retagged-0" not in content
    # In the order they were given (taggit's: by the tagged item), as before.
    assert content.index(">zebra<") < content.index(">apple<")


def test_a_preview_shows_the_tags_being_edited(client):
    post = make_full_post(make_blog_index(), "previewed-tags", 1)
    post.tags.set(["draft-tag"])
    draft = post.save_revision().as_object()

    content = draft.make_preview_request().content.decode()
    assert ">draft-tag<" in content and "tag-previewed-tags-0" not in content
    assert ">tag-previewed-tags-0<" in client.get(post.url).content.decode()
