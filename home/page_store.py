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
from django.core.cache import cache, caches

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

# The page cache's lookup (KEYS: the entry, the pending view counts). The entry's
# head names the generations it was rendered under, as Redis keys with their values:
# it is served (returned) only while each still holds that value ('0' for one
# missing). Then, for a post and a visitor (ARGV[1], the mark's prefix; '' for none),
# one view counted unless marked within ARGV[2] seconds: the same mark and count as
# blog.visitors', so a cached post costs one round trip and its count is exact.
# Replies the entry or false, then counted. Profiled: the 11 arguments and 7 replies
# of a lookup that carried the generations' names were a tenth of a hit. The keys a
# head names are read without being declared in KEYS: right on one Redis (what
# Vestnik runs), not on a Redis Cluster. Only page_cache writes entries.
LOOKUP_LUA = """
local entry = redis.call('GET', KEYS[1])
if not entry then return {false, 0} end
local newline = string.find(entry, '\\n', 1, true) or 1
local ok, head = pcall(cjson.decode, string.sub(entry, 1, newline - 1))
if not ok or type(head) ~= 'table' or type(head.generations) ~= 'table' then
  return {false, 0}
end
local names, recorded = {}, {}
for name, value in pairs(head.generations) do
  names[#names + 1] = name
  recorded[#recorded + 1] = value
end
if #names > 0 then
  local values = redis.call('MGET', unpack(names))
  for i = 1, #names do
    if recorded[i] ~= (values[i] or '0') then return {false, 0} end
  end
end
local counted = 0
if head.counts_views and ARGV[1] ~= '' then
  if redis.call('SET', ARGV[1] .. head.page_id, 1, 'NX', 'EX', ARGV[2]) then
    redis.call('HINCRBY', KEYS[2], head.page_id, 1)
    counted = 1
  end
end
return {entry, counted}
"""

# A miss's store of its entry (KEYS[1], ARGV[1] for ARGV[2] seconds) with a
# visitor's view of a post (ARGV[3], the visitor's mark prefix) counted as the
# lookup counts one (KEYS[2], the pending counts; ARGV[4] the page, ARGV[5] the
# window): one round trip where a SET and the view's own script were two. Replies 1
# when the view was counted.
STORE_LUA = """
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
if redis.call('SET', ARGV[3] .. ARGV[4], 1, 'NX', 'EX', ARGV[5]) then
  redis.call('HINCRBY', KEYS[2], ARGV[4], 1)
  return 1
end
return 0
"""

_local = threading.local()


def _shared_client():
    # Asked twice per cache hit: finding it through django-redis each time was a
    # tenth of a hit (profiled). A settings change in tests makes a new backend.
    backend = caches["default"]
    if getattr(_local, "backend", None) is not backend:
        from blog.services import redis_client

        _local.shared = redis_client()
        _local.backend = backend
    return _local.shared


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
        return client().mget(_keys(names))
    except redis.RedisError:
        return None


def lookup(key: str, pending: str, mark: str, window) -> tuple | None:
    """(entry, counted) for an entry current under the generations its head names,
    (None, False) for none, or None when Redis does not answer. `mark` '' counts no
    view."""
    try:
        keys = [cache_key(key), pending]
        entry, counted = run_script(LOOKUP_LUA, keys, [mark, window])
    except redis.RedisError:
        return None
    return entry or None, bool(counted)


def _keys(names) -> list[str]:
    # The backend found once: each `cache.` attribute finds it again (per thread).
    make_key = caches["default"].make_key
    return [make_key(name) for name in names]


def cache_key(name: str) -> str:
    """`name` as Redis holds it (the cache's key prefix and version); as it is
    without Redis, where read() goes through the cache API."""
    return caches["default"].make_key(name) if available() else name


def write(name: str, value: bytes, seconds: int, view=None) -> bool:
    """Store `value` under `name`; with `view` (pending key, mark prefix, page id,
    window), count that view as the lookup would, in the same round trip. Returns
    whether the view was dealt with: counted, or already counted within the window
    (False without Redis or when Redis failed: the caller counts it itself)."""
    if not available():
        cache.set(name, value, seconds)
        return False
    try:
        if view is None:
            client().set(cache.make_key(name), value, ex=seconds)
            return False
        pending, mark, page_id, window = view
        keys = [cache.make_key(name), pending]
        run_script(STORE_LUA, keys, [value, seconds, mark, page_id, window])
        return True
    except redis.RedisError:
        return False  # not stored: the next request renders again


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
    keys = _keys(names)
    try:
        run_script(BUMP_LUA, keys, [fresh_generation()])
    except redis.ConnectionError:
        # Once more on a new connection (redis-py drops a failed one): a restarted
        # Redis closed the old one, and this change must not be lost to that.
        run_script(BUMP_LUA, keys, [fresh_generation()])


def as_generation(value) -> int:
    """A stored generation as a number: 0 when missing."""
    return 0 if value is None else int(value)
