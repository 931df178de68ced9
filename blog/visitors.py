"""Who counts as a view: one per visitor, per post, per half hour; never a bot.

A visitor is a keyed hash of their address, user agent and the post: nothing is
stored that names them (no cookie, no address), and without the secret the hash
cannot be matched to an address. The hash lives in the cache for the window only.
The agents are the blog's own short list (mailing's engagement agents are about
mail clients and link scanners, and blog does not read mailing).
"""

import hashlib
import re
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from accounts.throttling import client_ip

from .services import record_view

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


def seen_key(request: HttpRequest, page_id: int) -> str | None:
    """The cache key marking this visitor's view of a post, or None for a bot."""
    user_agent = request.META.get("HTTP_USER_AGENT", "")
    if is_bot(user_agent):
        return None
    visitor = f"{client_ip(request)}|{user_agent}|{page_id}".encode()
    digest = hashlib.blake2b(
        visitor, key=_secret(settings.SECRET_KEY), digest_size=16
    ).hexdigest()
    return SEEN_PREFIX + digest


def count_view(request: HttpRequest, page_id: int) -> bool:
    """Count a view of `page_id` unless this visitor was counted within the window."""
    key = seen_key(request, page_id)
    # None, not False, when Redis is down: counted (in the database) rather than lost.
    if key is None or cache.add(key, 1, timeout=WINDOW_SECONDS) is False:
        return False
    record_view(page_id)
    return True


def forget_view(request: HttpRequest, page_id: int) -> None:
    """Take back a view counted for a page this request did not show after all."""
    key = seen_key(request, page_id)
    if key is not None:
        cache.delete(key)
        record_view(page_id, -1)
