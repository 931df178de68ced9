"""Messages per second, per owner and for the whole service.

A fixed one-second window counted in Redis (shared by every consumer) when REDIS_URL
is set, else in this process. One Lua script checks and counts the owner's window and
the global one together, so a grant is all-or-nothing and two consumers never both
take the last slot. The window comes from Redis' own clock, not the consumers'.
"""

import logging
import threading
import time

from django.conf import settings

logger = logging.getLogger(__name__)

# KEYS: counter prefixes; ARGV[1]: messages wanted; ARGV[2..]: limit per key.
# Returns 0 when granted, else the milliseconds left in the current window.
_TAKE = """
local now = redis.call('TIME')
local window = now[1]
local wanted = tonumber(ARGV[1])
for i, prefix in ipairs(KEYS) do
  local used = tonumber(redis.call('GET', prefix .. window) or '0')
  if used + wanted > tonumber(ARGV[i + 1]) then
    return 1000 - math.floor(tonumber(now[2]) / 1000)
  end
end
for i, prefix in ipairs(KEYS) do
  redis.call('INCRBY', prefix .. window, wanted)
  redis.call('EXPIRE', prefix .. window, 2)
end
return 0
"""


class RateLimiter:
    def __init__(self, per_owner: int, global_: int):
        self.per_owner = per_owner
        self.global_ = global_

    @classmethod
    def from_settings(cls) -> "RateLimiter":
        owner, global_ = settings.SENDING_RATE_PER_OWNER, settings.SENDING_RATE_GLOBAL
        if settings.REDIS_URL:
            return RedisRateLimiter(owner, global_)
        return LocalRateLimiter(owner, global_)

    def _limits(self, owner_id: int) -> dict[str, int]:
        limits = {}
        if self.per_owner:
            limits[f"vestnik:rate:owner:{owner_id}:"] = self.per_owner
        if self.global_:
            limits["vestnik:rate:global:"] = self.global_
        return limits

    def largest_grant(self) -> int:
        """The most one call may ask for: a bigger wish could never be granted."""
        caps = [limit for limit in (self.per_owner, self.global_) if limit]
        return min(caps) if caps else 1_000_000

    def take(self, owner_id: int, count: int) -> None:
        """Block until `count` messages of `owner_id` may go out."""
        limits = self._limits(owner_id)
        if not limits:
            return
        while (wait_ms := self._try(limits, count)) > 0:
            time.sleep(wait_ms / 1000)

    def _try(self, limits: dict[str, int], count: int) -> int:
        raise NotImplementedError


class LocalRateLimiter(RateLimiter):
    def __init__(self, per_owner: int, global_: int, clock=time.time):
        super().__init__(per_owner, global_)
        self._clock = clock
        self._lock = threading.Lock()
        self._window = 0
        self._used: dict[str, int] = {}

    def _try(self, limits: dict[str, int], count: int) -> int:
        now = self._clock()
        with self._lock:
            if int(now) != self._window:
                self._window, self._used = int(now), {}
            if any(self._used.get(k, 0) + count > v for k, v in limits.items()):
                return max(1, int((1 - now % 1) * 1000))
            for key in limits:
                self._used[key] = self._used.get(key, 0) + count
            return 0


class RedisRateLimiter(RateLimiter):
    def __init__(self, per_owner: int, global_: int):
        super().__init__(per_owner, global_)
        self._local = LocalRateLimiter(per_owner, global_)
        self._script = None

    def _try(self, limits: dict[str, int], count: int) -> int:
        import redis

        try:
            if self._script is None:
                client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
                self._script = client.register_script(_TAKE)
            return int(self._script(keys=list(limits), args=[count, *limits.values()]))
        except redis.RedisError:
            # Redis down: keep sending, limited per process rather than not at all.
            logger.warning("rate limit: Redis unavailable, limiting in process")
            return self._local._try(limits, count)
