"""Who counts as a view: one per visitor, per post, per half hour; never a bot.

A visitor is a keyed hash of their address, user agent and the post: nothing is
stored that names them (no cookie, no address), and without the secret the hash
cannot be matched to an address. The hash lives in Redis for the window only.
The agents are the blog's own short list (mailing's engagement agents are about
mail clients and link scanners, and blog does not read mailing).

Counted after the response is made (home.page_cache announces each view of a post,
from its cache or rendered), so a count is never taken back. The count a post
shows is its database count as of its render: up to a minute behind on a cached
copy, by design (see blog.tasks).
"""

import hashlib
import re
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

from accounts.throttling import client_ip

from .services import PENDING_KEY, record_view_once

WINDOW_SECONDS = 30 * 60
SEEN_PREFIX = "blog:seen:"

# Crawlers announce themselves; scripts and headless browsers use their library's
# agent. An empty agent is a script too: browsers always send one.
BOT_AGENTS = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|preview|facebookexternalhit|embedly|"
    r"python-|curl/|wget/|go-http-client|libwww|java/|okhttp|axios/|node-fetch|"
    r"httpclient|headlesschrome|phantomjs|scrapy|lighthouse|pingdom|uptime|monitor",
    re.IGNORECASE,
)


@lru_cache(maxsize=1)
def _secret(secret_key: str) -> bytes:
    return hashlib.blake2b(f"blog.visitors|{secret_key}".encode()).digest()


def is_bot(user_agent: str) -> bool:
    return not user_agent.strip() or BOT_AGENTS.search(user_agent) is not None


def visitor_prefix(request: HttpRequest) -> str | None:
    """The start of this visitor's marks (a mark is this and a post's id), or None
    for a bot."""
    user_agent = request.META.get("HTTP_USER_AGENT", "")
    return _visitor_prefix(client_ip(request), user_agent, settings.SECRET_KEY)


# Asked on every hit of a cached post: profiled, the agent's regex and the keyed
# hash were a tenth of it, and a reader's next pages repeat them. The bound keeps
# memory small even for agents as long as a header may be.
@lru_cache(maxsize=1024)
def _visitor_prefix(address: str, user_agent: str, secret_key: str) -> str | None:
    if is_bot(user_agent):
        return None
    visitor = f"{address}|{user_agent}".encode()
    digest = hashlib.blake2b(
        visitor, key=_secret(secret_key), digest_size=16
    ).hexdigest()
    return f"{SEEN_PREFIX}{digest}:"


def seen_key(request: HttpRequest, page_id: int) -> str | None:
    """The cache key marking this visitor's view of a post, or None for a bot."""
    prefix = visitor_prefix(request)
    return None if prefix is None else f"{prefix}{page_id}"


def count_view(request: HttpRequest, page_id: int) -> bool:
    """Count a view of `page_id` unless this visitor was counted within the window."""
    key = seen_key(request, page_id)
    if key is None:
        return False
    return record_view_once(page_id, key, WINDOW_SECONDS)


def count_announced_view(sender, request, page_id, **kwargs) -> None:
    """Receiver of home.page_cache.page_viewed (a rendered post)."""
    count_view(request, page_id)


class CachedViewCounter:
    """What home.page_cache needs to count a view of a cached post in its lookup's
    round trip, exactly as count_view would: the same mark, the same pending count."""

    window = WINDOW_SECONDS

    @staticmethod
    def pending_key() -> str:
        return PENDING_KEY

    @staticmethod
    def mark_prefix(request: HttpRequest) -> str | None:
        """The visitor's mark prefix as stored (the cache's key prefix included)."""
        from django.core.cache import cache

        prefix = visitor_prefix(request)
        return None if prefix is None else cache.make_key(prefix)
