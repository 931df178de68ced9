"""Slowing down guessing and mail bombing: requests counted per IP and per account.

Counters live in the cache (Redis in production) so every web worker sees the same
numbers, and they expire on their own after the window. The account counter is
keyed by the normalised email whether or not an account has it, so a throttled
answer says nothing about which addresses are registered.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from .models import normalize_email

WINDOW_SECONDS = 15 * 60
# One person mistyping is far below these; a guessing script is far above.
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_IP = 20
# Someone waiting for a slow reset email asks twice, maybe three times; more only
# fills a stranger's inbox.
MAX_RESETS_PER_ACCOUNT = 3
MAX_RESETS_PER_IP = 10


@dataclass(frozen=True)
class Throttle:
    """Limits for one kind of request, per IP and per account, in one window."""

    name: str
    max_per_ip: int
    max_per_account: int
    window_seconds: int = WINDOW_SECONDS

    @property
    def minutes(self) -> int:
        return self.window_seconds // 60


LOGIN_FAILURES = Throttle(
    "login-failures", MAX_FAILURES_PER_IP, MAX_FAILURES_PER_ACCOUNT
)
PASSWORD_RESETS = Throttle("password-resets", MAX_RESETS_PER_IP, MAX_RESETS_PER_ACCOUNT)


@dataclass(frozen=True)
class Attempt:
    throttle: Throttle
    ip: str
    email: str

    @property
    def keys(self) -> dict[str, str]:
        name = self.throttle.name
        return {
            "ip": f"{name}:ip:{self.ip}",
            "account": f"{name}:account:{normalize_email(self.email)}",
        }


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or the address the Nth trusted proxy saw.

    X-Forwarded-For is only read when TRUSTED_PROXY_COUNT says proxies append to
    it, and then only the entries those proxies wrote: anything further left was
    written by the client and may be forged.
    """
    remote_addr = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote_addr
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    if len(forwarded) < proxies:
        return remote_addr
    return forwarded[-proxies]


def is_throttled(attempt: Attempt) -> bool:
    keys, throttle = attempt.keys, attempt.throttle
    counts = cache.get_many(list(keys.values()))
    return (counts.get(keys["ip"]) or 0) >= throttle.max_per_ip or (
        counts.get(keys["account"]) or 0
    ) >= throttle.max_per_account


def record(attempt: Attempt) -> None:
    window = attempt.throttle.window_seconds
    for key in attempt.keys.values():
        # add() starts the window only once; incr() is atomic in Redis.
        cache.add(key, 0, timeout=window)
        try:
            cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, timeout=window)


def clear_account_failures(attempt: Attempt) -> None:
    """A successful login forgives the account, never the IP.

    Otherwise a guesser could reset their IP counter by signing in to an account of
    their own between guesses.
    """
    cache.delete(attempt.keys["account"])
