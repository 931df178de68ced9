"""The page cache's one Redis round trip per request, at the least cost in Python.

Profiled on a hit: redis-py's command path (pool checkout with a readiness poll,
retry wrapper, metrics hooks, argument packing) cost more than the rest of the hit
together. Here each thread keeps one connection of its own, a command's bytes are
packed once per key and reused, and the reply is read straight off the socket.
A failure drops the connection (the next call reconnects) and is raised for the
caller's fallback to the ordinary cache client.
"""

from django.core.cache import caches
from redis.exceptions import NoScriptError

from . import upstream

_packed: dict[tuple, list[bytes]] = {}
PACKED_LIMIT = 10_000

# Read (generation, entry) and count one view unless this visitor's mark (KEYS[4])
# is still there: one command, so one round trip. The third reply says if counted.
LOOKUP_AND_COUNT_LUA = """
local found = redis.call('MGET', KEYS[1], KEYS[2])
local counted = 0
if redis.call('SET', KEYS[4], 1, 'NX', 'EX', ARGV[2]) then
  redis.call('HINCRBY', KEYS[3], ARGV[1], 1)
  counted = 1
end
return {found[1], found[2], counted}
"""
_script_sha: str | None = None


def _connection():
    """This thread's own connection, or None without Redis.

    Kept on the thread's cache backend (Django gives each thread its own), so it
    follows that backend: a new one after a settings change gets a new connection.
    """
    backend = caches["default"]
    connection = getattr(backend, "_page_store_connection", None)
    if connection is None:
        from blog.services import redis_client

        client = redis_client()
        if client is None:
            connection = False
        else:
            connection = upstream.new_connection(client)
        backend._page_store_connection = connection
    return connection or None


def available() -> bool:
    return _connection() is not None


def command(*args):
    """Run one command on this thread's connection and return its reply."""
    connection = _connection()
    packed = _packed.get(args)
    if packed is None:
        if len(_packed) >= PACKED_LIMIT:
            _packed.clear()
        packed = _packed[args] = upstream.pack(connection, *args)
    try:
        return upstream.send_and_read(connection, packed)
    except NoScriptError:
        raise  # a whole reply was read: the connection is still in step
    except Exception:
        connection.disconnect()
        raise


def lookup(generation_key: str, key: str) -> list:
    """[generation, entry] as stored (raw bytes or None)."""
    return command("MGET", generation_key, key)


def lookup_and_count(
    generation_key: str,
    key: str,
    pending_key: str,
    seen_key: str,
    page_id: int,
    window: int,
):
    """[generation, entry, 1 if a new view of `page_id` was counted else 0]."""
    global _script_sha
    if _script_sha is None:
        _script_sha = command("SCRIPT", "LOAD", LOOKUP_AND_COUNT_LUA).decode()
    keys = (generation_key, key, pending_key, seen_key)
    args = ("EVALSHA", _script_sha, 4, *keys, page_id, window)
    try:
        return command(*args)
    except NoScriptError:  # a restarted Redis forgot it: load it again
        _script_sha = command("SCRIPT", "LOAD", LOOKUP_AND_COUNT_LUA).decode()
        return command("EVALSHA", _script_sha, *args[2:])
