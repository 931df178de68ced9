"""Redis dies (and hangs) while pages are served: every page still answers 200.

The cache points at a private Redis started for the test; the shared one is never
touched. /healthz/ is the one page that must notice, and say 503.
"""

import time

import pytest
import redis
from django.core.cache import cache
from django.test import override_settings
from django_redis.pool import ConnectionFactory

from tests.security.access import outcome
from tests.security.urlwalk import walk

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def redis_caches(url: str, timeout: float = 1) -> dict:
    from django.conf import settings

    return {
        "default": {
            **settings.CACHES["default"],
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "vestnik-faults",
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": timeout,
                "SOCKET_TIMEOUT": timeout,
            },
        },
        # With Redis, sessions read their copies there too (accounts/sessions.py).
        **sessions_cache(url, timeout),
    }


def sessions_cache(url: str, timeout: float = 1) -> dict:
    from django.conf import settings

    if "sessions" not in settings.CACHES:
        return {}
    sessions = settings.CACHES["sessions"]
    options = {"SOCKET_CONNECT_TIMEOUT": timeout, "SOCKET_TIMEOUT": timeout}
    return {"sessions": {**sessions, "LOCATION": url, "OPTIONS": options}}


@pytest.fixture
def redis_cache(private_redis):
    # django-redis keeps connection pools process-wide, keyed by URL: start clean.
    ConnectionFactory._pools.clear()
    with override_settings(CACHES=redis_caches(private_redis.url)):
        yield private_redis
    ConnectionFactory._pools.clear()


SIGNED_IN_PAGES = ["/admin/"]


def public_pages(world) -> list[str]:
    """Every address an anonymous visitor gets a page from, plus the admin home."""
    anonymous = world.client_for("anonymous", raise_request_exception=False)
    paths = [
        target.path
        for target in walk(world.filler()).targets
        if not target.path.startswith("/healthz/")
        and outcome(anonymous.get(target.path)) == "ok"
    ]
    return paths + SIGNED_IN_PAGES


def serve(world, paths: list[str]) -> dict[str, int]:
    signed_in = world.client_for("user_a", raise_request_exception=False)
    anonymous = world.client_for("anonymous", raise_request_exception=False)
    statuses = {}
    for path in paths:
        http = signed_in if path in SIGNED_IN_PAGES else anonymous
        statuses[path] = http.get(path).status_code
    return statuses


def commands_processed(url: str) -> int:
    return redis.Redis.from_url(url).info("stats")["total_commands_processed"]


def cache_works() -> bool:
    cache.set("faults:probe", "1", 30)
    return cache.get("faults:probe") == "1"


def test_pages_stay_up_while_redis_is_down_and_recover_when_it_returns(
    world, redis_cache, client
):
    paths = public_pages(world)
    assert cache_works(), "the private Redis must be the live cache before the fault"
    before = commands_processed(redis_cache.url)
    assert set(serve(world, paths).values()) == {200}
    used = commands_processed(redis_cache.url) - before - 1  # minus INFO itself

    redis_cache.stop()
    down = serve(world, paths)
    health_down = client.get("/healthz/")

    redis_cache.start()
    after = serve(world, paths)
    print(
        f"fault injected: Redis stopped (SIGTERM) on port {redis_cache.port}; "
        f"cache commands the {len(paths)} pages sent while it was up: {used}; "
        f"pages served while down: {len(down)}, non-200: "
        f"{sum(s != 200 for s in down.values())}; after restart: {len(after)} pages, "
        f"cache working again: {cache_works()}"
    )
    assert {p: s for p, s in down.items() if s != 200} == {}
    assert health_down.status_code == 503
    assert health_down.json()["checks"]["cache"] == "down"
    assert set(after.values()) == {200}
    assert cache_works()


def test_a_hung_redis_costs_a_timeout_not_an_error(world, redis_cache, client):
    """SIGSTOP: connections are accepted and never answered."""
    paths = ["/", "/en/", "/admin/"]
    serve(world, paths)
    redis_cache.pause()
    # A short timeout keeps the suite quick; what is proved (bounded, no error)
    # does not depend on its length.
    ConnectionFactory._pools.clear()
    try:
        with override_settings(CACHES=redis_caches(redis_cache.url, timeout=0.25)):
            started = time.monotonic()
            hung = serve(world, paths)
            health = client.get("/healthz/")
            elapsed = time.monotonic() - started
    finally:
        redis_cache.resume()
    print(
        f"fault injected: Redis hung (SIGSTOP); {len(hung)} pages served, "
        f"statuses {sorted(set(hung.values()))}, /healthz/ {health.status_code}, "
        f"{elapsed:.1f} s in all"
    )
    assert set(hung.values()) == {200}
    assert health.status_code == 503
    # Each cache call gives up after SOCKET_TIMEOUT (0.25 s): bounded, not stuck.
    assert elapsed < 10
