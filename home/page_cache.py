"""Whole pages for anonymous visitors, answered before sessions, auth and routing.

Why not Django's `cache_page`: it decides after the view, from the response. The
session middleware adds `Vary: Cookie` later still, so a prototype stored an editor's
page (with the Wagtail userbar) and served it to everyone. Here the decision is made
on the request, before anything renders: a request that carries a session or messages
cookie (the only ways to be signed in or to be owed a one-off message) is never
answered from the cache and its response is never stored.

Invalidation is by generations (home.generations): an entry names the generations
of its address, language and site with their values as read before its render, and
the lookup (one script, one round trip) serves it only while they are unchanged; a
render that raced a change is stored as stale and never served. A page that lists
other pages (home, blog index) also names its language's listing generation.

Entries are bytes of our own format (a JSON head, a newline, the body): no pickle.
A view of a cached post is counted by the lookup itself, in its one round trip,
only when it serves the entry (blog's `view_counter`); a rendered post's view is
counted by the store of its entry, in that round trip, or where none is stored
announced (`page_viewed`) after the response. Nothing is counted early or taken
back.
"""

import hashlib
import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote_plus, urlencode

from django.conf import settings
from django.dispatch import Signal
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect

from . import generations, kept_values, page_store

logger = logging.getLogger(__name__)

RESTRICTIONS_KEY = "pagecache:view-restrictions"
# Named anew when the entries' head changes: during a deploy, processes of the
# older release must never read the newer release's entries, nor it theirs
# ("pagecache:page:" heads named roles, which an older lookup took as no check).
ENTRY_PREFIX = "pagecache:entry:"
HEADER = "X-Page-Cache"
MESSAGES_COOKIE = "messages"  # django.contrib.messages' CookieStorage.cookie_name
NOT_STORED_CACHE_CONTROL = ("private", "no-cache", "no-store")

# Sent with `request` and `page_id` for each GET answered 200 by a page that
# counts views, rendered or from the cache (unless the lookup counted it already).
page_viewed = Signal()
# How a lookup counts a view of a cached post in its own round trip (blog's
# visitors.CachedViewCounter, registered by blog): None counts after the response.
view_counter = None


@dataclass(frozen=True)
class PageCacheInfo:
    """What a page tells the middleware about its response."""

    seconds: int
    page_id: int
    counts_views: bool
    lists_pages: bool


class CachedPageMixin:
    """A page whose public response may be cached whole (see PageCacheMiddleware)."""

    page_cache_seconds = 60
    counts_views = False
    # Shows other pages of its language (a list of posts): dropped when any of them
    # is published, not only when this one is.
    page_cache_lists_pages = False
    # The query parameters the page reads: the only ones its cache key keeps. It
    # must answer 404 for a value it does not know (a page out of range, an unknown
    # tag), so that junk values never become entries of their own.
    page_cache_query_parameters: tuple[str, ...] = ()

    def get_view_restrictions(self):
        # Wagtail asks on every render (two queries); almost no site has any. A
        # page kept to serve (keep_view_restrictions) answers from what it kept.
        kept = getattr(self, "kept_view_restrictions", None)
        if kept is not None:
            return kept
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
                self.page_cache_seconds,
                self.pk,
                self.counts_views,
                self.page_cache_lists_pages,
            )
        return response


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


def generation_names(request: HttpRequest) -> dict[str, str]:
    return generations.request_generation_names(request.path, request_language(request))


def page_generations(request: HttpRequest) -> dict[str, int]:
    """{role: generation} of this request as found before rendering (read once).

    For fragment keys: a fragment is current while its page, its language's tree
    and the Sites are.
    """
    if not hasattr(request, "page_generations"):
        names = {**generation_names(request), "views": generations.VIEWS}
        # Read with them: what the page shows around its content (home.kept_values).
        values = kept_values.value_names(request, request_language(request))
        wanted = [*names.values(), *values.values()]
        found = _read_generations(wanted) or [None] * len(wanted)
        request.page_generations = {
            role: page_store.as_generation(value)
            for role, value in zip(names, found, strict=False)
        }
        request.kept_values = dict(zip(values, found[len(names) :], strict=True))
    return request.page_generations


def _read_generations(wanted: list[str]):
    """The values of `wanted` (the site generation first) in one round trip, or
    None (see _lookup)."""
    found = page_store.read(wanted)
    if found is not None and found[0] is None:
        generations.bump([generations.SITE])
        found = page_store.read(wanted)
    return found


def page_generation(request: HttpRequest) -> str:
    """The generations a page's own fragments depend on, as one key part."""
    found = page_generations(request)
    return f"{found['site']}.{found['language']}.{found['page']}"


def any_view_restrictions() -> bool:
    """Whether any page has a view restriction: one query per site generation."""
    from wagtail.models import PageViewRestriction

    return generations.per_generation(
        RESTRICTIONS_KEY, PageViewRestriction.objects.exists, [generations.SITE]
    )


def keep_view_restrictions(page) -> None:
    """Read a page's view restrictions once, for a page object kept to serve while
    the site-wide generation stands (home.routing, home.sites): a change to any
    restriction bumps it. Profiled, asking Redis whether any page has one was a
    round trip on every uncached render. Only those kept objects answer with a
    list; any other answers with Wagtail's queryset."""
    if isinstance(page, CachedPageMixin):
        page.kept_view_restrictions = list(page.get_view_restrictions())


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
    return ENTRY_PREFIX + hashlib.blake2b(raw.encode(), digest_size=20).hexdigest()


# A hit decodes the same head as the hits before it (until its page changes):
# profiled, json.loads of it was a twentieth of a hit. Heads are read only.
DECODED_HEADS_LIMIT = 1_000
_decoded_heads: dict[bytes, dict] = {}


@dataclass(frozen=True)
class Entry:
    """A stored response and the generations it was rendered under."""

    # {generation's key as Redis holds it: its value then, a decimal string}: the
    # lookup script reads these and nothing else.
    generations: dict[str, str]
    status: int
    headers: list
    content: bytes
    page_id: int
    counts_views: bool

    def encode(self) -> bytes:
        head = {
            "generations": self.generations,
            "status": self.status,
            "headers": self.headers,
            "page_id": self.page_id,
            "counts_views": self.counts_views,
        }
        return json.dumps(head).encode() + b"\n" + self.content

    @classmethod
    def decode(cls, value: bytes) -> "Entry | None":
        head, _, content = value.partition(b"\n")
        fields = _decoded_heads.get(head)
        if fields is None:
            try:
                fields = json.loads(head)
                entry = cls(content=content, **fields)
            except (ValueError, TypeError):  # another format (an older deploy)
                return None
            if len(_decoded_heads) >= DECODED_HEADS_LIMIT:
                _decoded_heads.clear()
            _decoded_heads[head] = fields
            return entry
        return cls(content=content, **fields)

    def is_current(self, found: dict[str, bytes | None]) -> bool:
        """Whether each generation holds the value recorded ({name: as stored})."""
        return all(
            str(page_store.as_generation(found[name])) == value
            for name, value in self.generations.items()
        )


class PageCacheMiddleware:
    """Put it first: a hit skips every other middleware.

    A miss it will store is marked `request.page_cache_stores`: the page's own
    fragment caches ({% cache %}, for visitors the cache cannot answer) step aside,
    as the page is kept whole. Profiled on an anonymous miss: a fragment's read
    (which misses too: a change or the minute that drops the entry drops the
    fragments) and write were four of its round trips.

    What it stores is the response as the middlewares below left it, their security
    headers and policy included, so a hit replays them. A request the security
    middleware would redirect (plain HTTP under SECURE_SSL_REDIRECT) never stores an
    entry: its key has the scheme, and only a 200 is stored.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.skip_prefixes = tuple(settings.PAGE_CACHE_SKIP_PREFIXES)
        self.bypass_cookies = (settings.SESSION_COOKIE_NAME, MESSAGES_COOKIE)

    def __call__(self, request):
        host = self._cacheable_host(request)
        if host is None:
            return self._serve(request, None, "bypass")
        key = page_key(request, host)
        found = _lookup(request, key)
        if found is None:  # Redis not answering: render, store nothing
            request.page_generations = dict.fromkeys(generation_names(request), 0)
            return self._serve(request, None, "miss")
        entry, counted = found
        if entry is not None:
            return self._replay(request, entry, counted)
        # Read before the render: a change during it leaves the entry stale.
        page_generations(request)
        request.page_cache_stores = True
        return self._serve(request, key, "miss")

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

    def _serve(self, request, key, state: str):
        response = self.get_response(request)
        info: PageCacheInfo | None = getattr(response, "page_cache", None)
        if info is None:
            return response
        counted = False
        if key is not None and self._storable(request, response):
            entry = _entry(request, response, info)
            if entry is not None:
                counted = _store(request, key, entry, info.seconds)
        if info.counts_views and response.status_code == 200 and not counted:
            _announce_view(request, info.page_id)
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
    def _replay(request, entry: Entry, counted: bool | None) -> HttpResponse:
        body = b"" if request.method == "HEAD" else entry.content
        response = HttpResponse(body, status=entry.status)
        for name, value in entry.headers:
            response[name] = value
        response[HEADER] = "hit"
        if entry.counts_views and counted is None:  # not counted in the lookup
            _announce_view(request, entry.page_id)
        return response


def _lookup(request, key: str):
    """(the current Entry or None, whether the lookup counted the view: None when
    it could not) in one round trip, or None when Redis does not answer."""
    if not page_store.available() or view_counter is None:
        return _lookup_in_memory(key)
    mark = view_counter.mark_prefix(request) if request.method == "GET" else None
    found = page_store.lookup(
        key, view_counter.pending_key(), mark or "", view_counter.window
    )
    if found is None:
        return None
    raw, counted = found
    entry = None if raw is None else Entry.decode(raw)
    return entry, counted if mark else False


def _lookup_in_memory(key: str):
    """_lookup without the script (no Redis: the local-memory cache)."""
    found = page_store.read([key])
    if found is None:
        return None
    entry = None if found[0] is None else Entry.decode(found[0])
    if entry is not None:
        names = list(entry.generations)
        values = page_store.read(names) or [None] * len(names)
        if not entry.is_current(dict(zip(names, values, strict=True))):
            entry = None
    return entry, None


def _entry(request, response, info: PageCacheInfo) -> Entry | None:
    """The response to store, or None when its generations are unknown (Redis did
    not answer when they were read: the entry could never be told stale)."""
    found = page_generations(request)
    if not found["site"]:
        return None
    roles = generations.ROLES if info.lists_pages else ("site", "language", "page")
    names = generation_names(request)
    return Entry(
        generations={
            page_store.cache_key(names[role]): str(found[role]) for role in roles
        },
        status=response.status_code,
        headers=list(response.items()),
        content=response.content,
        page_id=info.page_id,
        counts_views=info.counts_views,
    )


def _store(request, key: str, entry: Entry, seconds: int) -> bool:
    """Store the entry; a view of a post stored for a visitor is counted with it,
    in the same round trip. Returns whether its view was dealt with there."""
    if not entry.counts_views or view_counter is None or request.method != "GET":
        return page_store.write(key, entry.encode(), seconds)
    mark = view_counter.mark_prefix(request)
    if mark is None:  # a bot: no view to count
        page_store.write(key, entry.encode(), seconds)
        return True
    view = (view_counter.pending_key(), mark, entry.page_id, view_counter.window)
    return page_store.write(key, entry.encode(), seconds, view)


def _announce_view(request, page_id: int) -> None:
    if request.method == "GET":
        page_viewed.send(sender=PageCacheMiddleware, request=request, page_id=page_id)
