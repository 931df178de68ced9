"""Whole pages for anonymous visitors, answered before sessions, auth and routing.

Why not Django's `cache_page`: it decides after the view, from the response. The
session middleware adds `Vary: Cookie` later still, so a prototype stored an editor's
page (with the Wagtail userbar) and served it to everyone. Here the decision is made
on the request, before anything renders: a request that carries a session or messages
cookie (the only ways to be signed in or to be owed a one-off message) is never
answered from the cache and its response is never stored.

Invalidation is by generation, one per language: every entry records its
language's generation as it was when rendered, and a publish, unpublish or delete
of a page bumps the generation of that page's language (each language has its own
page tree), so that language's pages (home, index, posts, query strings) are
dropped and the other language's stay. A page with translations bumps every
language (the switcher on the translations links to it), and so do a move, a
Site or a privacy change, which also bump the site-wide generation (Sites, "any
page private"). The generation is read in the same round trip as the entry (MGET),
and read before the render, so a render that raced a publish is stored as stale
and never served.
"""

import hashlib
import logging
import time
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote_plus, urlencode

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect

from . import page_store, upstream

logger = logging.getLogger(__name__)

GENERATION_KEY = "pagecache:generation"  # site-wide: Sites, view restrictions
RESTRICTIONS_KEY = "pagecache:view-restrictions"
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
    # The query parameters the page reads: the only ones its cache key keeps. It
    # must answer 404 for a value it does not know (a page out of range, an unknown
    # tag), so that junk values never become entries of their own.
    page_cache_query_parameters: tuple[str, ...] = ()

    def get_view_restrictions(self):
        # Wagtail asks on every render (two queries); almost no site has any.
        if not any_view_restrictions():
            from wagtail.models import PageViewRestriction

            return PageViewRestriction.objects.none()
        return super().get_view_restrictions()

    def serve(self, request, *args, **kwargs):
        undeclared = declared_query_parameters().difference(
            self.page_cache_query_parameters
        )
        if not getattr(request, "is_preview", False) and undeclared.intersection(
            request.GET
        ):
            # Another page's parameter would key an entry per value: one address.
            return canonical_redirect(request, self.page_cache_query_parameters)
        response = super().serve(request, *args, **kwargs)
        # A preview is an editor's draft: never stored, never a view.
        if not getattr(request, "is_preview", False):
            response.page_cache = PageCacheInfo(
                self.page_cache_seconds, self.pk, self.counts_views
            )
        return response


def generation_key(language: str | None = None) -> str:
    """The generation of one language's pages, or the site-wide one (None)."""
    return GENERATION_KEY if language is None else f"{GENERATION_KEY}:{language}"


def request_language(request: HttpRequest) -> str:
    """The language the path asks for (i18n_patterns, prefix_default_language=False).

    Before LocaleMiddleware, on every hit: the prefixes are compared directly
    (benchmarks/pages.py --cpu: a cached post's 163 us became 147 us without
    Django's get_language_from_path).
    """
    path = request.path_info
    for prefix, code in _language_prefixes():
        if path.startswith(prefix):
            return code
    return settings.LANGUAGE_CODE


@lru_cache(maxsize=1)
def _language_prefixes() -> tuple[tuple[str, str], ...]:
    return tuple(
        (f"/{code}/", code)
        for code, _name in settings.LANGUAGES
        if code != settings.LANGUAGE_CODE
    )


def fresh_generation() -> int:
    """A starting generation no earlier one can equal: after Redis loses its keys
    (a restart, a flush), a value kept in a process from before never matches."""
    return time.time_ns() // 1_000


def _all_generation_keys() -> list[str]:
    return [generation_key()] + [generation_key(code) for code, _ in settings.LANGUAGES]


def invalidate_pages(languages=None) -> None:
    """Drop the cached pages of `languages` (every language and the site-wide
    values when None): the next request for each renders afresh.

    Best effort: with Redis unreachable the cache ignores the bump.
    """
    keys = (
        _all_generation_keys()
        if languages is None
        else [generation_key(code) for code in languages]
    )
    for key in keys:
        if not cache.add(key, fresh_generation(), timeout=None):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, fresh_generation(), timeout=None)


def invalidate_pages_or_raise() -> None:
    """invalidate_pages(), raising when Redis cannot be told (it keeps the pages)."""
    from blog.services import redis_client

    client = redis_client()  # its pool replaces a connection a restart closed
    if client is None:
        invalidate_pages()
    else:
        for key in _all_generation_keys():
            client.incr(cache.make_key(key))


def per_generation(key: str, compute, seconds: int = 60, language=None):
    """compute(), kept until the pages change (the next generation) or `seconds` pass.

    A change bumps the generation now and on commit (home.signals), so a value
    computed from rows read before the change is never taken for the current one.
    Only in Redis: a local-memory cache is one process's, and another process's
    change would not reach it.
    """
    if not page_store.available():
        return compute()
    generation_name = generation_key(language)
    found = cache.get_many([generation_name, key])
    generation = found.get(generation_name, 0)
    known = found.get(key)
    if known is not None and known[0] == generation:
        return known[1]
    value = compute()
    cache.set(key, (generation, value), seconds)
    return value


def page_generation(request: HttpRequest) -> int:
    """The generation of this request's language as it found it (read once, before
    rendering).

    For fragment keys: a fragment shows more than its own page (links to other
    pages, the tree around it), and every change Wagtail would show at once
    bumps the generation.
    """
    if not hasattr(request, "page_generation"):
        request.page_generation = cache.get(
            generation_key(request_language(request)), 0
        )
    return request.page_generation


def any_view_restrictions() -> bool:
    """Whether any page has a view restriction: one query per generation."""
    from wagtail.models import PageViewRestriction

    return per_generation(RESTRICTIONS_KEY, PageViewRestriction.objects.exists)


@lru_cache(maxsize=1)
def declared_query_parameters() -> frozenset[str]:
    """Every parameter some page declares (the key is made before routing)."""
    from wagtail.models import get_page_models

    return frozenset(
        name
        for model in get_page_models()
        for name in getattr(model, "page_cache_query_parameters", ())
    )


def keep_declared_query(query_string: str, names) -> str:
    """The query as the key sees it: declared names only, decoded, sorted.

    Everything else (tracking tags, cache busters) is dropped, so junk queries share
    one entry. A repeated name keeps its last value, the one request.GET.get()
    answers; values are decoded, so ?tag=a%62 and ?tag=ab are one entry.
    """
    if not query_string:
        return ""
    kept = {}
    for parameter in query_string.split("&"):
        name, _, value = parameter.partition("=")
        name = unquote_plus(name, errors="replace")
        if name in names:
            kept[name] = unquote_plus(value, errors="replace")
    return "\x00".join(f"{name}={kept[name]}" for name in sorted(kept))


def canonical_redirect(request: HttpRequest, names) -> HttpResponse:
    """A permanent redirect to this address with only the parameters in `names`."""
    kept = [(name, request.GET[name]) for name in names if name in request.GET]
    query = urlencode(kept)
    return HttpResponsePermanentRedirect(request.path + (f"?{query}" if query else ""))


def page_key(request: HttpRequest, host: str) -> str:
    # The path alone decides the language (prefix_default_language=False), so the
    # path stands for it.
    query = keep_declared_query(
        request.META.get("QUERY_STRING", ""), declared_query_parameters()
    )
    # The port too: Wagtail tells apart Sites of one hostname by the port the
    # request came in on, which the Host header need not carry.
    raw = f"{request.scheme}|{host}|{request.get_port()}|{request.path}|{query}"
    return "pagecache:page:" + hashlib.blake2b(raw.encode(), digest_size=20).hexdigest()


@dataclass(frozen=True)
class EarlyView:
    """A view of `page_id` looked at with the lookup; `counted` if it was new."""

    page_id: int
    counted: bool


def _settle_view(request, early: EarlyView | None, viewed: int | None) -> None:
    """Make the counts say one view of `viewed` (if new), whatever was done early."""
    from blog import visitors

    if early is not None and early.page_id == viewed:
        return
    if early is not None and early.counted:
        visitors.forget_view(request, early.page_id)
    if viewed is not None:
        visitors.count_view(request, viewed)


def _fast_lookup(request, key: str, page_id: int | None):
    """(generation, entry, EarlyView or None) in one Redis round trip.

    Profiled: a cached post cost two round trips (lookup, then the count) against
    one for the home page, so one script does both, for a path this process has
    already seen serve that post; _settle_view corrects the rare case where it no
    longer does. Returns None without Redis, or when Redis fails (the caller falls
    back).
    """
    from blog import visitors
    from blog.services import PENDING_KEY

    if not page_store.available():
        return None
    generation_name = generation_key(request_language(request))
    keys = (cache.make_key(generation_name), cache.make_key(key))
    seen = None if page_id is None else visitors.seen_key(request, page_id)
    early = None
    try:
        if seen is None:
            generation, entry = page_store.lookup(*keys)
        else:
            generation, entry, counted = page_store.lookup_and_count(
                *keys,
                PENDING_KEY,
                cache.make_key(seen),
                page_id,
                visitors.WINDOW_SECONDS,
            )
            early = EarlyView(page_id, bool(counted))
    except Exception as error:  # noqa: BLE001 - Redis down: the plain path logs it
        logger.warning("page cache lookup failed: %s", error)
        return None
    decode = upstream.decode_cached
    return (
        0 if generation is None else decode(generation),
        None if entry is None else decode(entry),
        early,
    )


class PageCacheMiddleware:
    """Put it first: a hit skips every other middleware.

    What it stores is the response as the middlewares below left it, their security
    headers and policy included, so a hit replays them. A request the security
    middleware would redirect (plain HTTP under SECURE_SSL_REDIRECT) never stores an
    entry: its key has the scheme, and only a 200 is stored.
    """

    KNOWN_POSTS_LIMIT = 10_000

    def __init__(self, get_response):
        self.get_response = get_response
        self.skip_prefixes = tuple(settings.PAGE_CACHE_SKIP_PREFIXES)
        self.bypass_cookies = (settings.SESSION_COOKIE_NAME, MESSAGES_COOKIE)
        # Cache key -> id of the counted page it served, learned by this process.
        self.known_posts: dict[str, int] = {}

    def __call__(self, request):
        host = self._cacheable_host(request)
        if host is None:
            return self._serve(request, None, None, "bypass", early=None)
        key = page_key(request, host)
        generation, entry, early = self._lookup(request, key)
        if entry is not None and entry["generation"] == generation:
            return self._replay(request, key, entry, early)
        request.page_generation = generation  # for fragments: no second read
        return self._serve(request, key, generation, "miss", early=early)

    def _lookup(self, request, key):
        """(generation, entry, the view looked at early or None)."""
        page_id = self.known_posts.get(key) if request.method == "GET" else None
        found = _fast_lookup(request, key, page_id)
        if found is not None:
            return found
        generation = generation_key(request_language(request))
        found = cache.get_many([generation, key])
        return found.get(generation, 0), found.get(key), None

    def _learn(self, key, page_id: int) -> None:
        if len(self.known_posts) >= self.KNOWN_POSTS_LIMIT:
            self.known_posts.clear()
        self.known_posts[key] = page_id

    def _cacheable_host(self, request) -> str | None:
        """The host to key on, or None when this request must not touch the cache."""
        if request.method not in ("GET", "HEAD"):
            return None
        # Wagtail's previews run through this chain at the page's own address
        # (with the editor's cookies only when it is given the editor's request).
        if getattr(request, "is_dummy", False):
            return None
        if request.path_info.startswith(self.skip_prefixes):
            return None
        if any(name in request.COOKIES for name in self.bypass_cookies):
            return None
        try:
            return request.get_host()
        except Exception:  # noqa: BLE001 - DisallowedHost: Django answers it below
            return None

    def _serve(self, request, key, generation, state: str, early):
        response = self.get_response(request)
        info: PageCacheInfo | None = getattr(response, "page_cache", None)
        viewed = None
        if info is not None and info.counts_views:
            if request.method == "GET" and response.status_code == 200:
                viewed = info.page_id
        _settle_view(request, early, viewed)
        if info is None:
            return response
        if key is not None and self._storable(request, response):
            self._store(key, generation, response, info)
            if info.counts_views:
                self._learn(key, info.page_id)
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

    def _replay(self, request, key, entry, early) -> HttpResponse:
        body = b"" if request.method == "HEAD" else entry["content"]
        response = HttpResponse(body, status=entry["status"])
        for name, value in entry["headers"]:
            response[name] = value
        response[HEADER] = "hit"
        viewed = None
        if entry["counts_views"]:
            self._learn(key, entry["page_id"])
            if request.method == "GET":
                viewed = entry["page_id"]
        _settle_view(request, early, viewed)
        return response
