"""The Wagtail Site of a request, read from the cache instead of the database.

Wagtail finds it on every page request with one query (a CASE over the sites,
joined to the root page), then reads the root page's specific object with another:
profiled, a third of an uncached blog post. Sites change rarely and bump the page
generation when they do (home.signals).
"""

from django.conf import settings
from django.http.request import split_domain_port
from django.utils.http import urlencode
from wagtail.models import Site

from . import upstream
from .page_cache import per_generation


def find_site(request) -> Site | None:
    """Site.find_for_request without the query, for one generation of the pages."""
    # What Wagtail matches on; the host was validated (ALLOWED_HOSTS) on the way in.
    hostname = split_domain_port(upstream.raw_host(request))[0]
    key = "site:" + urlencode({"hostname": hostname, "port": request.get_port()})
    return per_generation(key, lambda: _with_specific_root(request))


def _with_specific_root(request) -> Site | None:
    # Wagtail routes from site.root_page.specific: kept specific, that is no query.
    # A publish of the root page bumps the generation, so its content stays current.
    site = upstream.find_site_uncached(request)
    if site is not None:
        site.root_page = site.root_page.specific
    return site


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
