"""View counts: counted outside the cached render, stored exactly.

A view is one script in Redis: the visitor's mark set if absent and, if it was,
one HINCRBY (the page may come from the page cache, so the count cannot live in
the render). A Huey task moves the counts into
BlogPage.view_count every minute with F(), so the database is never read-modified-
written and two counters never race. Without Redis (local-memory cache, or Redis
down) a view is one direct F() update instead: slower, but not lost.
"""

import logging

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F

from home import generations

logger = logging.getLogger(__name__)

PENDING_KEY = "vestnik:blog:views:pending"
FLUSHING_KEY = "vestnik:blog:views:flushing"
FLUSH_LOCK_KEY = "vestnik:blog:views:lock"
FLUSH_LOCK_SECONDS = 55

# Atomically take the pending counts, unless a previous flush failed half-way: then
# retry its counts first and leave the new ones pending. Nothing is read and reset
# in two steps, so a view arriving in between is never lost.
TAKE_COUNTS_LUA = """
if redis.call('EXISTS', KEYS[2]) == 0 then
  if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
  redis.call('RENAME', KEYS[1], KEYS[2])
end
return redis.call('HGETALL', KEYS[2])
"""


# Count one view unless this visitor's mark (KEYS[1]) is still there: one round
# trip. Returns 1 when counted.
COUNT_ONCE_LUA = """
if redis.call('SET', KEYS[1], 1, 'NX', 'EX', ARGV[2]) then
  redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
  return 1
end
return 0
"""


def redis_client():
    """The raw Redis client behind the cache, or None without Redis."""
    if "django_redis" not in settings.CACHES["default"]["BACKEND"]:
        return None
    from django_redis import get_redis_connection

    return get_redis_connection("default")


def add_views(page_id: int, views: int) -> None:
    from .models import BlogPage

    BlogPage.objects.filter(pk=page_id).update(view_count=F("view_count") + views)


def record_view_once(page_id: int, seen_key: str, window: int) -> bool:
    """Count one view of a page unless `seen_key` marks it counted within `window`
    seconds. Without Redis the view is counted in the database (a mark in local
    memory is one process's); with Redis failing too, rather than lost."""
    from home import page_store

    if not page_store.available():
        if cache.add(seen_key, 1, timeout=window) is False:
            return False
        add_views(page_id, 1)
        return True
    keys = [cache.make_key(seen_key), PENDING_KEY]
    try:
        counted = page_store.run_script(COUNT_ONCE_LUA, keys, [page_id, window])
    except redis.RedisError as error:
        logger.warning("view of page %s counted in the database: %s", page_id, error)
        add_views(page_id, 1)
        return True
    return bool(counted)


def record_view(page_id: int, views: int = 1) -> None:
    """Count `views` of a page (no visitor check: tests, imports)."""
    client = redis_client()
    if client is not None:
        try:
            client.hincrby(PENDING_KEY, page_id, views)
            return
        except Exception as error:  # noqa: BLE001 - any Redis failure: count in the DB
            logger.warning(
                "view of page %s counted in the database: %s", page_id, error
            )
    add_views(page_id, views)


def flush_view_counts() -> int:
    """Move the counts from Redis into the database. Returns the views moved."""
    client = redis_client()
    if client is None:
        return 0
    # Two flushes at once would both apply a retried batch: one at a time. The lock
    # expires, so a killed consumer cannot hold it for ever.
    with client.lock(FLUSH_LOCK_KEY, timeout=FLUSH_LOCK_SECONDS, blocking_timeout=5):
        return _flush(client)


def _flush(client) -> int:
    taken = client.eval(TAKE_COUNTS_LUA, 2, PENDING_KEY, FLUSHING_KEY)
    counts = {
        int(page_id): int(views)
        for page_id, views in zip(taken[::2], taken[1::2], strict=True)
        if int(views)  # an early count taken back nets to zero
    }
    if not counts:
        return 0
    with transaction.atomic():
        for page_id, views in counts.items():
            add_views(page_id, views)
    # A crash right here would count these twice on the next run; losing none
    # matters more for operators than a rare double count.
    client.delete(FLUSHING_KEY)
    # Pages kept in a process to be routed show the counts they read: read again.
    # No cached page is dropped (they show theirs for page_cache_seconds).
    generations.bump([generations.VIEWS])
    return sum(counts.values())
