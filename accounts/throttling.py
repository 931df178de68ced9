"""Slowing down guessing and mail bombing: requests counted per IP and per account.

Counters live in the cache (Redis in production) so every web worker sees the same
numbers, and they expire on their own after the window. The account counter is
keyed by the account the address matches (by the normalised address when none
does), so a throttled answer says nothing about which addresses are registered,
and no second spelling of an address gets a fresh counter.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from .models import User, normalize_email

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
    account: str

    @classmethod
    def of(cls, throttle: Throttle, request: HttpRequest, email: str) -> "Attempt":
        return cls(throttle, client_ip(request), account_key(email))

    @property
    def keys(self) -> dict[str, str]:
        name = self.throttle.name
        return {
            "ip": f"{name}:ip:{self.ip}",
            "account": f"{name}:account:{self.account}",
        }


def account_key(email: str) -> str:
    """The matched account, so every spelling that reaches it shares one counter.

    An address without an account counts under its own spelling: a throttled
    answer then looks the same for both.
    """
    user_id = User.objects.by_email(email).values_list("pk", flat=True).first()
    if user_id is None:
        return f"email:{normalize_email(email)}"
    return f"user:{user_id}"


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


def _count(key: str, window: int) -> int:
    # add() starts the window only once; incr() is atomic in Redis (and in the
    # local-memory cache, under its lock).
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr(): a new window
        cache.add(key, 0, timeout=window)
        return cache.incr(key)


def reserve(attempt: Attempt) -> str | None:
    """Count this try before it is evaluated; the limit it exceeds ("ip" or
    "account"), or None if it may go on.

    Counting first is what holds the limit under concurrency: N parallel tries
    get N distinct counts and only those within the limit are evaluated, where
    checking and then counting let every one of them through.
    """
    throttle = attempt.throttle
    counts = {
        kind: _count(key, throttle.window_seconds) for kind, key in attempt.keys.items()
    }
    if counts["ip"] > throttle.max_per_ip:
        return "ip"
    if counts["account"] > throttle.max_per_account:
        return "account"
    return None


def release(attempt: Attempt) -> None:
    """A successful try: forgive the account, and take this try off the IP.

    The IP keeps its failures: otherwise a guesser could reset their counter by
    signing in to an account of their own between guesses.
    """
    cache.delete(attempt.keys["account"])
    try:
        cache.decr(attempt.keys["ip"])
    except ValueError:  # the window ended meanwhile
        pass


def forgive_account(throttle: Throttle, user) -> None:
    """A new password set through the emailed link proves the owner: the lock a
    stranger's guesses put on the account is lifted (the IPs keep theirs)."""
    cache.delete(Attempt(throttle, "", f"user:{user.pk}").keys["account"])
