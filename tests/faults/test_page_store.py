"""home.page_store keeps a Redis client on one connection per thread for the page
cache's lookup: a Redis restart mid-traffic must cost no page and no view, and
threads (gunicorn gthread) must never share a connection."""

import hashlib
import threading

import pytest
import redis
from django.core.cache import cache
from django.test import Client

from blog.services import flush_view_counts
from home import page_store
from home.page_cache import HEADER
from home.page_store import LOOKUP_LUA, STORE_LUA
from tests.factories import make_blog_index, make_post
from tests.faults.test_redis_down import redis_cache  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def views_of(post) -> int:
    flush_view_counts()
    post.refresh_from_db()
    return post.view_count


def test_a_redis_restart_mid_traffic_costs_no_page_and_no_view(redis_cache):  # noqa: F811
    post = make_post(make_blog_index(), slug="busy", title="Busy post")
    browser = Client()
    readers = iter(range(100))

    def visit():
        # Another reader each time: one reader's repeats count once.
        agent = f"Mozilla/5.0 Firefox/128.0 reader-{next(readers)}"
        return browser.get("/blog/busy/", HTTP_USER_AGENT=agent)

    states = [visit()[HEADER] for _ in range(4)]
    assert states == ["miss", "hit", "hit", "hit"]
    assert views_of(post) == 4

    redis_cache.stop()
    down = [visit() for _ in range(3)]
    redis_cache.start()  # empty: no entry, no generation, no script
    after = [visit() for _ in range(4)]

    assert [r.status_code for r in down + after] == [200] * 7
    # The first request after the restart may find the old socket dead; then the
    # connection is made anew and the counting script loaded again.
    assert [r[HEADER] for r in after][-2:] == ["hit", "hit"]
    assert views_of(post) == 4 + 3 + 4
    # The scripts that count (a miss's store, a hit's lookup) were loaded again.
    raw = redis.Redis.from_url(redis_cache.url)
    shas = [
        hashlib.sha1(lua.encode()).hexdigest()  # noqa: S324 - Redis' own
        for lua in (STORE_LUA, LOOKUP_LUA)
    ]
    assert raw.script_exists(*shas) == [True, True]


def test_threads_never_share_a_connection():
    if not page_store.available():
        pytest.skip("needs Redis: set REDIS_URL")
    threads_count, rounds = 8, 300
    for n in range(threads_count):
        cache.set(f"page-store-thread-{n}", n, 60)
    connections, wrong, errors = [], [], []

    def work(n: int) -> None:
        key = cache.make_key(f"page-store-thread-{n}")
        try:
            connections.append(page_store.client())  # kept alive: ids stay unique
            for _ in range(rounds):
                reply = page_store.client().mget([key, key])
                if reply != [str(n).encode()] * 2:
                    wrong.append((n, reply))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads_count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == [] and wrong == []
    assert len({id(client.connection) for client in connections}) == threads_count


def test_a_page_made_private_while_redis_hangs_is_not_served_after(redis_cache):  # noqa: F811
    from wagtail.models import PageViewRestriction

    post = make_post(make_blog_index(), slug="soon-private", title="Soon private")
    visitor = Client()
    visitor.get("/blog/soon-private/")
    assert visitor.get("/blog/soon-private/")[HEADER] == "hit"

    redis_cache.pause()  # hung, not restarted: what it holds survives
    try:
        made = False
        try:
            PageViewRestriction.objects.create(
                page=post, restriction_type=PageViewRestriction.LOGIN
            )
            made = True
        except Exception:  # noqa: BLE001 - refusing the change is a right answer
            pass
    finally:
        redis_cache.resume()

    response = visitor.get("/blog/soon-private/")
    if made:
        assert response.status_code == 302
    else:
        assert response.status_code == 200
        assert not PageViewRestriction.objects.exists()


def test_a_page_made_private_after_a_redis_restart_is_protected(redis_cache):  # noqa: F811
    from wagtail.models import PageViewRestriction

    from home.generations import invalidate_pages

    post = make_post(make_blog_index(), slug="soon-private", title="Soon private")
    visitor = Client()
    visitor.get("/blog/soon-private/")
    invalidate_pages()  # every connection of this thread has been used
    redis_cache.stop()
    redis_cache.start()

    PageViewRestriction.objects.create(
        page=post, restriction_type=PageViewRestriction.LOGIN
    )
    assert visitor.get("/blog/soon-private/").status_code == 302
