"""Sessions read from Redis, kept in the database: Django's cached_db engine.

Profiled on a signed-in visitor's page: the session's query was a third of the
render. cached_db answers from Redis and falls back to the database when Redis does
not answer, so a Redis restart signs no one out.

It runs on a cache alias of its own ("sessions", site_config.settings.base) that
does not swallow Redis errors as the default one does: a sign-out must not pass while
the copy in Redis stays behind and still signs in (reads fall back to the database
all the same). And the copy goes first: a
sign-out that cannot reach Redis fails with the session whole (the visitor is told
and may try again), never with the row gone and the copy left.
"""

import redis
from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.core.cache import caches
from django_redis.exceptions import ConnectionInterrupted

REDIS_ERRORS = (ConnectionInterrupted, redis.RedisError)


class SessionStore(CachedDBStore):
    def load(self):
        # cached_db reads the database when Redis does not answer the read, but
        # fails when it then cannot store the copy there: read from the database.
        try:
            return super().load()
        except REDIS_ERRORS:
            return DBStore.load(self)

    def exists(self, session_key):
        # Every session has its row: asking Redis first only added a round trip
        # (and an error while Redis is down, where a new session must still start).
        return DBStore.exists(self, session_key)

    def delete(self, session_key=None):
        key = session_key or self.session_key
        if key is not None:
            try:
                caches[settings.SESSION_CACHE_ALIAS].delete(self.cache_key_prefix + key)
            except REDIS_ERRORS:
                # The key replaced at sign-in (cycle_key) may keep a copy: the
                # session in use must not (a sign-out).
                if key == self.session_key:
                    raise
        DBStore.delete(self, session_key)
