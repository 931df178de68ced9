"""Slowing down password guessing: failed logins counted per IP and per account.

Counters live in the cache (Redis in production) so every web worker sees the same
numbers, and they expire on their own after the window.
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


@dataclass(frozen=True)
class LoginAttempt:
    ip: str
    email: str

    @property
    def keys(self) -> dict[str, str]:
        return {
            "ip": f"login-failures:ip:{self.ip}",
            "account": f"login-failures:account:{normalize_email(self.email)}",
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


def is_throttled(attempt: LoginAttempt) -> bool:
    counts = cache.get_many(list(attempt.keys.values()))
    return (counts.get(attempt.keys["ip"]) or 0) >= MAX_FAILURES_PER_IP or (
        counts.get(attempt.keys["account"]) or 0
    ) >= MAX_FAILURES_PER_ACCOUNT


def record_failure(attempt: LoginAttempt) -> None:
    for key in attempt.keys.values():
        # add() starts the window only once; incr() is atomic in Redis.
        cache.add(key, 0, timeout=WINDOW_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, timeout=WINDOW_SECONDS)


def clear_account_failures(attempt: LoginAttempt) -> None:
    """A successful login forgives the account, never the IP.

    Otherwise a guesser could reset their IP counter by signing in to an account of
    their own between guesses.
    """
    cache.delete(attempt.keys["account"])
