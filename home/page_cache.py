"""Whole pages for anonymous visitors, answered before sessions, auth and routing.

Why not Django's `cache_page`: it decides after the view, from the response. The
session middleware adds `Vary: Cookie` later still, so a prototype stored an editor's
page (with the Wagtail userbar) and served it to everyone. Here the decision is made
on the request, before anything renders: a request that carries a session or messages
cookie (the only ways to be signed in or to be owed a one-off message) is never
answered from the cache and its response is never stored.

Invalidation is by generation: every entry records the generation it was rendered
in, and a publish, unpublish, move or delete bumps the generation, so every page
(home, index, posts, all languages and query strings) is dropped at once. The
generation is read in the same round trip as the entry (MGET), and read before the
render, so a render that raced a publish is stored as stale and never served.
"""

import hashlib
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language_from_path

logger = logging.getLogger(__name__)

GENERATION_KEY = "pagecache:generation"
HEADER = "X-Page-Cache"
MESSAGES_COOKIE = "messages"  # django.contrib.messages' CookieStorage.cookie_name
NOT_STORED_CACHE_CONTROL = ("private", "no-cache", "no-store")


@dataclass(frozen=True)
class PageCacheInfo:
    """What a page tells the middleware about its response."""

    seconds: int
    page_id: int
    counts_views: bool


class CachedPageMixin:
    """A page whose public response may be cached whole (see PageCacheMiddleware)."""

    page_cache_seconds = 60
    counts_views = False

    def serve(self, request, *args, **kwargs):
        response = super().serve(request, *args, **kwargs)
        # A preview is an editor's draft: never stored, never a view.
        if not getattr(request, "is_preview", False):
            response.page_cache = PageCacheInfo(
                self.page_cache_seconds, self.pk, self.counts_views
            )
        return response


def invalidate_pages() -> None:
    """Drop every cached page: the next request for each renders afresh."""
    if not cache.add(GENERATION_KEY, 1, timeout=None):
        try:
            cache.incr(GENERATION_KEY)
        except ValueError:  # expired between add and incr
            cache.add(GENERATION_KEY, 1, timeout=None)


def page_key(request: HttpRequest, host: str) -> str:
    # The language follows the path alone (prefix_default_language=False).
    language = get_language_from_path(request.path_info) or settings.LANGUAGE_CODE
    query = "&".join(
        f"{name}={value}"
        for name, values in sorted(request.GET.lists())
        for value in values
    )
    raw = f"{request.scheme}|{host}|{language}|{request.path}|{query}"
    return "pagecache:page:" + hashlib.blake2b(raw.encode(), digest_size=20).hexdigest()


def _record_view(page_id: int) -> None:
    from blog.services import record_view

    record_view(page_id)


class PageCacheMiddleware:
    """Put it early (after SecurityMiddleware and WhiteNoise): a hit skips the rest."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.skip_prefixes = tuple(settings.PAGE_CACHE_SKIP_PREFIXES)
        self.bypass_cookies = (settings.SESSION_COOKIE_NAME, MESSAGES_COOKIE)

    def __call__(self, request):
        host = self._cacheable_host(request)
        if host is None:
            return self._serve(request, None, None, "bypass")
        key = page_key(request, host)
        found = cache.get_many([GENERATION_KEY, key])
        generation = found.get(GENERATION_KEY, 0)
        entry = found.get(key)
        if entry is not None and entry["generation"] == generation:
            return self._replay(request, entry)
        return self._serve(request, key, generation, "miss")

    def _cacheable_host(self, request) -> str | None:
        """The host to key on, or None when this request must not touch the cache."""
        if request.method not in ("GET", "HEAD"):
            return None
        if request.path_info.startswith(self.skip_prefixes):
            return None
        if any(name in request.COOKIES for name in self.bypass_cookies):
            return None
        try:
            return request.get_host()
        except Exception:  # noqa: BLE001 - DisallowedHost: Django answers it below
            return None

    def _serve(self, request, key, generation, state: str):
        response = self.get_response(request)
        info: PageCacheInfo | None = getattr(response, "page_cache", None)
        if info is None:
            return response
        if (
            info.counts_views
            and request.method == "GET"
            and response.status_code == 200
        ):
            _record_view(info.page_id)
        if key is not None and self._storable(request, response):
            self._store(key, generation, response, info)
        response[HEADER] = state
        return response

    @staticmethod
    def _storable(request, response) -> bool:
        user = getattr(request, "user", None)
        cache_control = response.get("Cache-Control", "")
        return (
            request.method == "GET"
            and response.status_code == 200
            and not response.streaming
            and not response.cookies
            and not (user is not None and user.is_authenticated)
            and not any(word in cache_control for word in NOT_STORED_CACHE_CONTROL)
        )

    @staticmethod
    def _store(key, generation, response, info: PageCacheInfo) -> None:
        entry = {
            "generation": generation,
            "status": response.status_code,
            "headers": list(response.items()),
            "content": response.content,
            "page_id": info.page_id,
            "counts_views": info.counts_views,
        }
        cache.set(key, entry, info.seconds)

    @staticmethod
    def _replay(request, entry) -> HttpResponse:
        body = b"" if request.method == "HEAD" else entry["content"]
        response = HttpResponse(body, status=entry["status"])
        for name, value in entry["headers"]:
            response[name] = value
        response[HEADER] = "hit"
        if entry["counts_views"] and request.method == "GET":
            _record_view(entry["page_id"])
        return response
