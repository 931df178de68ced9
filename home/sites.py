"""The Wagtail Site of a request, kept in this process instead of read per request.

Wagtail finds it on every page request with one query (a CASE over the sites,
joined to the root page), then reads the root page's specific object with another:
profiled, a third of an uncached blog post. Sites change rarely and bump the
site-wide generation when they do (home.signals), as does a publish of a root page.
Kept in the process, not pickled into Redis: a pickled Site with its HomePage
breaks when a deploy changes the model. Redis holds only the generation, read in
one round trip; without Redis (one process, local memory) nothing is kept.
"""

from django.conf import settings
from django.http.request import split_domain_port
from wagtail.models import Site

from . import page_cache, page_store, upstream

KNOWN_LIMIT = 1_000
# (hostname, port) -> (site-wide generation, Site with its specific root page)
_known: dict[tuple[str, int], tuple[int, Site | None]] = {}


def find_site(request) -> Site | None:
    """Site.find_for_request without the query, for one generation of the sites."""
    generation = _site_generation(request)
    if generation is None:  # no Redis, or not answering: nothing to check a Site by
        return Site.find_for_request(request)
    # What Wagtail matches on; the host was validated (ALLOWED_HOSTS) on the way in.
    key = (split_domain_port(request.get_host())[0], request.get_port())
    known = _known.get(key)
    if known is not None and known[0] == generation:
        return known[1]
    site = Site.find_for_request(request)
    if site is not None:
        # Wagtail routes from site.root_page.localized.specific: kept specific with
        # its translations, that is no query. A publish of any root page bumps the
        # generation (home.signals).
        site.root_page = site.root_page.specific
        site.root_page.kept_translations = {}
        page_cache.keep_view_restrictions(site.root_page)
    if len(_known) >= KNOWN_LIMIT:
        _known.clear()
    _known[key] = (generation, site)
    return site


def forget_sites() -> None:
    """Drop the Sites this process knows (tests: a rolled-back Site never commits,
    so never bumps the generation its successor would be checked by)."""
    _known.clear()


def _site_generation(request) -> int | None:
    if not page_store.available():
        return None
    generation = page_cache.page_generations(request)["site"]
    # 0: Redis did not answer (page_cache makes the generation when it is missing).
    return generation or None


class CachedSiteMiddleware:
    """Hands Wagtail the request's Site (through home.upstream).

    Only where pages are served: paths that are never pages (the page cache's skip
    list) go without.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.skip_prefixes = tuple(settings.PAGE_CACHE_SKIP_PREFIXES)

    def __call__(self, request):
        if not request.path_info.startswith(self.skip_prefixes):
            upstream.give_wagtail_site(request, find_site(request))
        return self.get_response(request)
