"""View counts stay exact when pages come from the cache, and when Redis is away."""

import logging
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.test import override_settings

from blog import services
from blog.services import flush_view_counts, record_view
from home.page_cache import HEADER
from tests.factories import make_blog_index, make_post
from tests.faults.test_redis_down import sessions_cache


@pytest.fixture
def post(db):
    return make_post(make_blog_index(), slug="counted")


def reader(n) -> str:
    """A browser's user agent, another visitor for each n (one visitor counts once)."""
    return f"Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0 reader-{n}"


@pytest.mark.smoke
def test_every_visitors_view_is_counted_cached_or_not(client, post):
    responses = [
        client.get("/blog/counted/", HTTP_USER_AGENT=reader(n)) for n in range(5)
    ]
    client.get("/blog/counted/?utm_source=x", HTTP_USER_AGENT=reader(5))
    client.head("/blog/counted/", HTTP_USER_AGENT=reader(6))  # a HEAD is not a view

    flush_view_counts()

    post.refresh_from_db()
    assert [r[HEADER] for r in responses] == ["miss"] + ["hit"] * 4
    assert post.view_count == 6


def test_preview_is_not_a_view(admin_client, post):
    response = admin_client.get(f"/admin/pages/{post.pk}/edit/preview/")
    assert response.status_code == 200
    flush_view_counts()
    post.refresh_from_db()
    assert post.view_count == 0


@pytest.mark.redis
def test_counts_wait_in_redis_until_the_flush(post):
    for _ in range(3):
        record_view(post.pk)
    post.refresh_from_db()
    assert post.view_count == 0
    assert flush_view_counts() == 3
    post.refresh_from_db()
    assert post.view_count == 3
    assert flush_view_counts() == 0


@pytest.mark.redis
def test_no_view_is_lost_while_flushing(post):
    views = 2000
    recorder = threading.Thread(
        target=lambda: [record_view(post.pk) for _ in range(views)]
    )
    recorder.start()
    flushed = 0
    while recorder.is_alive():
        flushed += flush_view_counts()
    recorder.join()
    flushed += flush_view_counts()

    post.refresh_from_db()
    assert flushed == views
    assert post.view_count == views


@pytest.mark.redis
def test_a_failed_flush_is_retried_not_lost(post, monkeypatch):
    for _ in range(4):
        record_view(post.pk)

    def database_down(page_id, views):
        raise RuntimeError("database down")

    with monkeypatch.context() as patched:
        patched.setattr(services, "add_views", database_down)
        with pytest.raises(RuntimeError):
            flush_view_counts()
    record_view(post.pk)  # arrives while the failed batch waits

    assert flush_view_counts() == 4  # the failed batch first
    assert flush_view_counts() == 1
    post.refresh_from_db()
    assert post.view_count == 5


@pytest.mark.redis
@pytest.mark.slow
# serialized_rollback: the flush after a transactional test would otherwise take the
# migrations' data (home page, groups) away from the tests that follow.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_cached_views_are_exact_after_a_flush(live_server):
    post = make_post(make_blog_index(), slug="busy")
    url = f"{live_server.url}/blog/busy/"
    views = 120

    def fetch(n):
        request = urllib.request.Request(url, headers={"User-Agent": reader(n)})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers[HEADER]

    fetch(-1)  # the render that fills the cache
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(fetch, range(views)))
    flush_view_counts()

    post.refresh_from_db()
    assert results == [(200, "hit")] * views
    assert post.view_count == views + 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def private_redis():
    """A Redis of our own on another port, so we may stop it."""
    if not shutil.which("redis-server"):
        pytest.skip("needs redis-server: apt-get install redis-server")
    port = _free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.1)
    yield server, f"redis://127.0.0.1:{port}/0"
    server.kill()
    server.wait()


@pytest.mark.redis
def test_pages_serve_when_redis_goes_down(client, post, private_redis, caplog):
    server, url = private_redis
    caches = {
        "default": {**settings.CACHES["default"], "LOCATION": url},
        **sessions_cache(url),
    }
    with override_settings(CACHES=caches):
        assert client.get("/blog/counted/")[HEADER] == "miss"
        assert client.get("/blog/counted/")[HEADER] == "hit"
        server.terminate()
        server.wait()

        with caplog.at_level(logging.WARNING):
            responses = [
                client.get(path, HTTP_USER_AGENT=reader(0))
                for path in ("/", "/blog/", "/blog/counted/")
            ]

        assert [r.status_code for r in responses] == [200, 200, 200]
        assert responses[2][HEADER] == "miss"
        assert any(r.name == "django_redis.cache" for r in caplog.records)
        assert any("counted in the database" in r.getMessage() for r in caplog.records)
        post.refresh_from_db()
        assert post.view_count == 1  # the view made while Redis was down


@pytest.mark.redis
def test_a_view_is_counted_once_after_the_response_hit_or_render(client, post):
    from blog.services import PENDING_KEY, redis_client

    def visit(n):
        return client.get("/blog/counted/", HTTP_USER_AGENT=reader(n))

    visit(0)
    assert visit(1)[HEADER] == "hit"
    post.save_revision().publish()  # a new generation for this post
    assert visit(2)[HEADER] == "miss"
    assert visit(2)[HEADER] == "hit"  # the same visitor again: not counted
    assert flush_view_counts() == 3

    post.delete()
    assert visit(3).status_code == 404  # a 404 is no view
    assert int(redis_client().hget(PENDING_KEY, post.pk) or 0) == 0
