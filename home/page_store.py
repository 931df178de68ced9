"""The page cache's storage: raw values by key, through redis-py's public client.

Profiled on a hit: checking a connection out of redis-py's pool for every command
cost more than the rest of the hit. So each thread keeps a client of its own on one
connection (redis-py's documented `single_connection_client`), taken from the cache's
pool, and follows that pool when the cache is replaced (a settings change in tests).
A failed command leaves redis-py to reconnect on the next one.

The values are bytes this module's callers encode themselves (no pickle, so a
deploy that changes a model cannot break what Redis holds) and generation counters
that only ever grow. Without Redis (local memory: one process) Django's cache API
holds the same values.
"""

import threading
import time

import redis
from django.core.cache import cache

# Bump each generation counter: one more if it exists, else a start no earlier
# counter of that name can have held (Redis lost it: a restart, an eviction), so a
# value recorded before never matches again.
BUMP_LUA = """
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    redis.call('INCR', key)
  else
    redis.call('SET', key, ARGV[1])
  end
end
return #KEYS
"""

_local = threading.local()


def _shared_client():
    from blog.services import redis_client

    return redis_client()


def client() -> redis.Redis | None:
    """This thread's single-connection client, or None without Redis.

    Raises redis.RedisError when its connection cannot be made.
    """
    shared = _shared_client()
    if shared is None:
        return None
    pool = shared.connection_pool
    if getattr(_local, "pool", None) is not pool:
        # Connects now: a failure leaves the pool unset, to try again next time.
        _local.client = redis.Redis(connection_pool=pool, single_connection_client=True)
        _local.scripts = {}
        _local.pool = pool
    return _local.client


def run_script(lua: str, keys: list[str], args: list) -> object:
    """Run a Lua script on this thread's client (redis-py's Script: it sends the
    script's hash, and the script again where Redis lost it after a restart)."""
    found = client()
    registered = _local.scripts.get(lua)
    if registered is None:
        registered = _local.scripts[lua] = found.register_script(lua)
    return registered(keys=keys, args=args)


def available() -> bool:
    """Whether the cache is Redis (reachable or not)."""
    return _shared_client() is not None


def fresh_generation() -> int:
    """A generation no earlier one can equal (microseconds since the epoch)."""
    return time.time_ns() // 1_000


def read(names: list[str]) -> list | None:
    """The values of `names` (bytes, or None where missing), in one round trip.

    None when Redis does not answer: the caller serves without the cache.
    """
    if not available():
        values = cache.get_many(names)
        return [values.get(name) for name in names]
    try:
        return client().mget([cache.make_key(name) for name in names])
    except redis.RedisError:
        return None


def write(name: str, value: bytes, seconds: int) -> None:
    if not available():
        cache.set(name, value, seconds)
        return
    try:
        client().set(cache.make_key(name), value, ex=seconds)
    except redis.RedisError:
        pass  # not stored: the next request renders again


def bump(names: list[str]) -> None:
    """Make each generation in `names` new, in one round trip. Raises when Redis
    cannot be told (the caller decides whether that may pass)."""
    if not names:
        return
    if not available():
        for name in names:
            if not cache.add(name, fresh_generation(), timeout=None):
                try:
                    cache.incr(name)
                except ValueError:  # expired between add and incr
                    cache.add(name, fresh_generation(), timeout=None)
        return
    keys = [cache.make_key(name) for name in names]
    try:
        run_script(BUMP_LUA, keys, [fresh_generation()])
    except redis.ConnectionError:
        # Once more on a new connection (redis-py drops a failed one): a restarted
        # Redis closed the old one, and this change must not be lost to that.
        run_script(BUMP_LUA, keys, [fresh_generation()])


def as_generation(value) -> int:
    """A stored generation as a number: 0 when missing."""
    return 0 if value is None else int(value)
